import { createHash } from 'node:crypto';

/** One link of the hash chain, as stored and exported. */
export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/**
 * Canonical JSON (the subset of RFC 8785 this log needs): object keys sorted by UTF-16 code units, no
 * whitespace, strings and integers as JSON.stringify writes them. Non-integer numbers are refused so
 * that no float formatting question can ever arise. docs/audit-log.md specifies it for auditors.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value)) throw new TypeError(`audit values must be safe integers, got ${value}`);
      return String(value);
    case 'object': {
      // Plain loops rather than filter/map chains: verification canonicalises every entry's details.
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i]);
        return out + ']';
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).sort();
      let out = '{';
      for (const k of keys) {
        const v = obj[k];
        if (v === undefined) continue;
        out += (out.length > 1 ? ',' : '') + JSON.stringify(k) + ':' + canonicalJson(v);
      }
      return out + '}';
    }
    default:
      throw new TypeError(`audit values cannot be ${typeof value}`);
  }
}

/**
 * The bytes that are hashed: every field of the entry except `hash` itself. Equal to
 * canonicalJson({seq, at, actor, action, subject, details, prevHash}); written out with the keys in
 * their sorted order because verification spends most of its time here.
 */
export function canonicalEntry(e: Omit<AuditEntry, 'hash'>): string {
  const str = (v: unknown) => typeof v === 'string';
  if (!str(e.action) || !str(e.actor) || !str(e.at) || !str(e.prevHash) || !(e.subject === null || str(e.subject)) || !Number.isSafeInteger(e.seq)) {
    // Only a damaged or forged entry gets here; the generic form keeps the result identical.
    return canonicalJson({ seq: e.seq, at: e.at, actor: e.actor, action: e.action, subject: e.subject, details: e.details, prevHash: e.prevHash });
  }
  return entryText(e, canonicalJson(e.details));
}

/** An entry as stored: details still the canonical JSON text the service wrote. */
export type StoredAuditEntry = Omit<AuditEntry, 'details'> & { detailsJson: string };

/**
 * Hash of an entry read straight from the table, without parsing and re-canonicalising details: the
 * stored text is hashed as it is, so any change to it, even a semantically equal one, counts as an edit.
 */
export function hashStoredEntry(e: StoredAuditEntry): string {
  return createHash('sha256').update(entryText(e, e.detailsJson), 'utf8').digest('hex');
}

function entryText(e: Omit<AuditEntry, 'hash' | 'details'>, details: string): string {
  return (
    '{"action":' + JSON.stringify(e.action) +
    ',"actor":' + JSON.stringify(e.actor) +
    ',"at":' + JSON.stringify(e.at) +
    ',"details":' + details +
    ',"prevHash":' + JSON.stringify(e.prevHash) +
    ',"seq":' + e.seq +
    ',"subject":' + (e.subject === null ? 'null' : JSON.stringify(e.subject)) +
    '}'
  );
}

export function hashEntry(e: Omit<AuditEntry, 'hash'>): string {
  return createHash('sha256').update(canonicalEntry(e), 'utf8').digest('hex');
}
