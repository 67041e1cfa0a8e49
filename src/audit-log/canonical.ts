import { hash } from 'node:crypto';

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
 * A string that JSON.stringify writes unchanged between two quotes has no quote, no backslash, no
 * control character and no surrogate (a lone one is escaped; a pair is written as itself, but testing
 * for pairs is not worth it here).
 */
const NEEDS_ESCAPING = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * Exactly JSON.stringify(s): the common string is quoted by concatenation, because verification quotes
 * about a dozen strings per entry and the regular expression test is several times cheaper than
 * JSON.stringify's call. Anything that needs escaping goes to JSON.stringify itself.
 */
function jsonString(s: string): string {
  return isPlain(s) ? '"' + s + '"' : JSON.stringify(s);
}

function isPlain(s: string): boolean {
  return !NEEDS_ESCAPING.test(s);
}

/** How an object's members are written: its keys in canonical order, each as `"key":`. */
interface ObjectShape {
  /** The keys in the object's own order, to recognise the next object with the same keys. */
  keys: string[];
  sorted: string[];
  /** `{"key":` for the first member written, `,"key":` for the others. */
  opening: string[];
  separated: string[];
}

/**
 * Shapes of recently canonicalised objects. Details objects of one action have the same keys, and a
 * log has few actions, so sorting and quoting the keys is done once per shape rather than once per
 * object (verification canonicalises a million of them). A handful is kept, replaced in turn, so
 * entries of different actions interleaved still find theirs.
 */
const recentShapes: ObjectShape[] = [];
const SHAPES_KEPT = 16;
let nextShapeSlot = 0;

function sameKeys(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function shapeOf(obj: object): ObjectShape {
  const keys = Object.keys(obj);
  for (let i = 0; i < recentShapes.length; i++) if (sameKeys(recentShapes[i]!.keys, keys)) return recentShapes[i]!;
  // Sorted as Array.prototype.sort compares strings: by UTF-16 code units.
  const sorted = keys.slice().sort();
  const quoted = sorted.map((k) => jsonString(k) + ':');
  const shape = { keys, sorted, opening: quoted.map((q) => '{' + q), separated: quoted.map((q) => ',' + q) };
  recentShapes[nextShapeSlot] = shape;
  nextShapeSlot = (nextShapeSlot + 1) % SHAPES_KEPT;
  return shape;
}

/**
 * Canonical JSON (the subset of RFC 8785 this log needs): object keys sorted by UTF-16 code units, no
 * whitespace, strings and integers as JSON.stringify writes them. Non-integer numbers are refused so
 * that no float formatting question can ever arise. docs/audit-log.md specifies it for auditors.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return jsonString(value);
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
      const shape = shapeOf(obj);
      let out = '';
      for (let i = 0; i < shape.sorted.length; i++) {
        const v = obj[shape.sorted[i]!];
        if (v === undefined) continue;
        out += (out === '' ? shape.opening[i] : shape.separated[i]) + canonicalJson(v);
      }
      return out === '' ? '{}' : out + '}';
    }
    default:
      throw new TypeError(`audit values cannot be ${typeof value}`);
  }
}

/** The fields other than details have the types §1 of docs/audit-log.md gives them. */
function hasFieldTypes(e: Omit<AuditEntry, 'hash' | 'details'>): boolean {
  return (
    typeof e.action === 'string' && typeof e.actor === 'string' && typeof e.at === 'string' && typeof e.prevHash === 'string' &&
    (e.subject === null || typeof e.subject === 'string') && Number.isSafeInteger(e.seq)
  );
}

/**
 * The bytes that are hashed: every field of the entry except `hash` itself. Equal to
 * canonicalJson({seq, at, actor, action, subject, details, prevHash}); written out with the keys in
 * their sorted order because verification spends most of its time here.
 */
export function canonicalEntry(e: Omit<AuditEntry, 'hash'>): string {
  if (!hasFieldTypes(e)) {
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
 * A value of another type than the service writes (a null, or the driver's Buffer for a BLOB) cannot
 * be the entry that was hashed, so it throws, and verification reports the entry as altered.
 */
export function hashStoredEntry(e: StoredAuditEntry): string {
  return sha256Hex(storedEntryText(e));
}

/** The canonical text of an entry as stored (what hashStoredEntry hashes). */
export function storedEntryText(e: StoredAuditEntry): string {
  if (!hasFieldTypes(e) || typeof e.detailsJson !== 'string') throw new TypeError(`audit entry ${String(e.seq)} has a field of the wrong type`);
  return entryText(e, e.detailsJson);
}

function entryText(e: Omit<AuditEntry, 'hash' | 'details'>, details: string): string {
  if (isPlain(e.action) && isPlain(e.actor) && isPlain(e.at) && isPlain(e.prevHash) && (e.subject === null || isPlain(e.subject))) {
    // The usual entry: the quotes go into the constant parts, half as many strings to join and collect.
    return (
      '{"action":"' + e.action +
      '","actor":"' + e.actor +
      '","at":"' + e.at +
      '","details":' + details +
      ',"prevHash":"' + e.prevHash +
      '","seq":' + e.seq +
      (e.subject === null ? ',"subject":null}' : ',"subject":"' + e.subject + '"}')
    );
  }
  return (
    '{"action":' + jsonString(e.action) +
    ',"actor":' + jsonString(e.actor) +
    ',"at":' + jsonString(e.at) +
    ',"details":' + details +
    ',"prevHash":' + jsonString(e.prevHash) +
    ',"seq":' + e.seq +
    ',"subject":' + (e.subject === null ? 'null' : jsonString(e.subject)) +
    '}'
  );
}

/** One-shot crypto.hash: no Hash object per entry. */
export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

export function hashEntry(e: Omit<AuditEntry, 'hash'>): string {
  return sha256Hex(canonicalEntry(e));
}
