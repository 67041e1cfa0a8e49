import { createPublicKey } from 'node:crypto';
import type { AuditEntry } from './canonical.js';
import { keyIdOf, type SignedCheckpoint } from './signing.js';
import { parseStrictJson, StrictJsonError } from './strict-json.js';
import type { CheckpointCopy, MalformedEntry, VerificationKey } from './verify-log.js';

/**
 * Strict readers of the files an auditor holds: export lines, checkpoint files, key lists. Every rule
 * here is stated in docs/audit-log.md §7 ("Strict reading"), so that another tool can apply it too:
 * content the hash does not cover must not be able to pass as verified.
 */

const ENTRY_FIELDS = ['seq', 'at', 'actor', 'action', 'subject', 'details', 'prevHash', 'hash'] as const;
const CHECKPOINT_FIELDS = ['seq', 'hash', 'at', 'signature', 'keyId'] as const;

class Malformed extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

function strict(text: string): unknown {
  try {
    return parseStrictJson(text);
  } catch (err) {
    if (err instanceof StrictJsonError) throw new Malformed(err.reason, err.message);
    throw err;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Exactly these members: a missing one and an unknown one are each their own reason. */
function exactFields(o: Record<string, unknown>, fields: readonly string[], what: string): void {
  const missing = fields.filter((f) => !Object.hasOwn(o, f));
  if (missing.length) throw new Malformed('missing-field', `${what} lacks ${missing.join(', ')}`);
  const extra = Object.keys(o).filter((k) => !fields.includes(k));
  if (extra.length) throw new Malformed('extra-field', `${what} has fields outside the format: ${extra.join(', ')}`);
}

function wrongType(what: string, field: string, expected: string): never {
  throw new Malformed('wrong-type', `${what}'s ${field} must be ${expected}`);
}

const isSeq = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 1;

/** One NDJSON export line as an entry, or why it is not one. */
export function parseExportLine(line: string): AuditEntry | MalformedEntry {
  try {
    const o = strict(line);
    if (!isObject(o)) throw new Malformed('wrong-type', 'an export line must be a JSON object');
    exactFields(o, ENTRY_FIELDS, 'the entry');
    if (!isSeq(o.seq)) wrongType('the entry', 'seq', 'an integer ≥ 1');
    for (const f of ['at', 'actor', 'action', 'prevHash', 'hash'] as const) if (typeof o[f] !== 'string') wrongType('the entry', f, 'a string');
    if (o.subject !== null && typeof o.subject !== 'string') wrongType('the entry', 'subject', 'a string or null');
    if (!isObject(o.details)) wrongType('the entry', 'details', 'an object');
    return o as unknown as AuditEntry;
  } catch (err) {
    if (err instanceof Malformed) return { malformed: { reason: err.reason, detail: err.message } };
    throw err;
  }
}

function checkpointFrom(o: unknown, source: string): CheckpointCopy {
  if (!isObject(o)) throw new Malformed('wrong-type', 'a checkpoint must be a JSON object');
  exactFields(o, CHECKPOINT_FIELDS, 'the checkpoint');
  if (!isSeq(o.seq)) wrongType('the checkpoint', 'seq', 'an integer ≥ 1');
  for (const f of ['hash', 'at', 'signature', 'keyId'] as const) if (typeof o[f] !== 'string') wrongType('the checkpoint', f, 'a string');
  return { ...(o as unknown as SignedCheckpoint), source };
}

/**
 * The checkpoints in one file: a single checkpoint object (as stored under audit-checkpoints/) or the
 * body of GET /v1/audit/checkpoints (`{keyId, checkpoints: […]}`). A file that cannot be read yields
 * one malformed copy, so the verifier fails and names it.
 */
export function parseCheckpointFile(text: string, source: string): CheckpointCopy[] {
  let seq: number | undefined;
  try {
    const o = strict(text);
    if (isObject(o) && Object.hasOwn(o, 'checkpoints')) {
      exactFields(o, ['keyId', 'checkpoints'], 'the checkpoint list');
      if (!Array.isArray(o.checkpoints)) wrongType('the checkpoint list', 'checkpoints', 'an array');
      return (o.checkpoints as unknown[]).map((c, i) => {
        try {
          return checkpointFrom(c, `${source}[${i}]`);
        } catch (err) {
          if (err instanceof Malformed) return { seq: isObject(c) && isSeq(c.seq) ? c.seq : undefined, malformed: { reason: err.reason, detail: err.message }, source: `${source}[${i}]` };
          throw err;
        }
      });
    }
    if (isObject(o) && isSeq(o.seq)) seq = o.seq;
    return [checkpointFrom(o, source)];
  } catch (err) {
    if (err instanceof Malformed) return [{ seq, malformed: { reason: err.reason, detail: err.message }, source }];
    throw err;
  }
}

/** One entry of a key list (GET /v1/audit/public-keys, AUDIT_KEY_LIST). */
export interface PublishedKey {
  keyId: string;
  publicKey: string;
  notBefore?: string;
  notAfter?: string;
}

/**
 * The verifying keys in a file: a PEM public key (valid at any time) or a key list `{keys: [{publicKey,
 * notBefore?, notAfter?, keyId?}]}`. A stated keyId must be the key's own (SHA-256 of its SPKI DER).
 * Throws TypeError naming what is wrong: a verifier must not run with keys it misread.
 */
export function parseKeyFile(text: string): VerificationKey[] {
  if (text.trimStart().startsWith('-----BEGIN PUBLIC KEY-----')) {
    const publicKey = createPublicKey(text);
    return [{ keyId: keyIdOf(publicKey), publicKey }];
  }
  let o: unknown;
  try {
    o = strict(text);
  } catch (err) {
    throw new TypeError(`a key file must be a PEM public key or a key list: ${(err as Error).message}`);
  }
  if (!isObject(o) || !Array.isArray(o.keys)) throw new TypeError('a key list is an object {"keys": [...]}');
  return o.keys.map((k: unknown, i: number) => {
    if (!isObject(k) || typeof k.publicKey !== 'string') throw new TypeError(`keys[${i}] needs a publicKey (PEM)`);
    const publicKey = createPublicKey(k.publicKey);
    if (publicKey.asymmetricKeyType !== 'ed25519') throw new TypeError(`keys[${i}] is not an Ed25519 key`);
    const keyId = keyIdOf(publicKey);
    if (k.keyId !== undefined && k.keyId !== keyId) throw new TypeError(`keys[${i}] states keyId ${String(k.keyId)} but its key's id is ${keyId}`);
    for (const f of ['notBefore', 'notAfter'] as const) {
      if (k[f] !== undefined && (typeof k[f] !== 'string' || Number.isNaN(Date.parse(k[f] as string)))) throw new TypeError(`keys[${i}].${f} must be an ISO-8601 instant`);
    }
    return {
      keyId,
      publicKey,
      ...(k.notBefore ? { notBefore: new Date(k.notBefore as string).toISOString() } : {}),
      ...(k.notAfter ? { notAfter: new Date(k.notAfter as string).toISOString() } : {}),
    };
  });
}
