import type { KeyObject } from 'node:crypto';
import { GENESIS_HASH, hashEntry, hashStoredEntry, type AuditEntry, type StoredAuditEntry } from './canonical.js';
import { checkpointSignatureValid, keyIdOf, type SignedCheckpoint } from './signing.js';

export type AuditProblemKind =
  | 'seq-gap'
  | 'broken-link'
  | 'hash-mismatch'
  | 'checkpoint-mismatch'
  | 'truncated'
  | 'checkpoint-signature'
  | 'checkpoint-conflict'
  | 'checkpoint-key-id'
  | 'malformed-entry'
  | 'malformed-checkpoint';

export interface AuditProblem {
  /** The position (seq) where the log stops being trustworthy. */
  seq: number;
  kind: AuditProblemKind;
  detail: string;
  /** For a rewritten tail: the earliest seq that may have been rewritten (the entry after the previous checkpoint). */
  earliestSeq?: number;
  /** For malformed input: which rule it breaks (repeated-key, extra-field, non-canonical-number, …). */
  reason?: string;
}

export interface AuditVerdict {
  ok: boolean;
  /** Entries that verified before the first problem (all of them when ok). */
  entries: number;
  head: { seq: number; hash: string } | null;
  /** Checkpoints with a valid signature, and the last of them. */
  checkpoints: { valid: number; invalid: number; last: { seq: number; hash: string; at: string } | null };
  /** The first seq whose entry was read: 1, or the seq of the proven checkpoint an incremental check resumed at. */
  verifiedFrom: number;
  firstProblem?: AuditProblem;
}

/** An export line or stored value that could not be read as an entry; it stands where an entry should. */
export interface MalformedEntry {
  seq?: undefined;
  malformed: { reason: string; detail: string };
}

/** A checkpoint file that could not be read as one; `seq` when it was readable. */
export interface MalformedCheckpoint {
  seq?: number;
  malformed: { reason: string; detail: string };
  source?: string;
}

/** A checkpoint as read from one place (a row, a store object, an auditor's file). */
export type CheckpointCopy = (SignedCheckpoint & { source?: string }) | MalformedCheckpoint;

/** A public key that may verify checkpoints signed (`at`) within its validity period; bounds inclusive. */
export interface VerificationKey {
  keyId: string;
  publicKey: KeyObject;
  notBefore?: string;
  notAfter?: string;
}

export interface VerifyOptions {
  /**
   * Resume at a proven checkpoint instead of seq 1: the first entry read must have this seq and is
   * linked to nothing before it; it is held against the checkpoint like any other.
   */
  resumeAt?: number;
  /** Problems found by the caller while gathering checkpoints (a row and its store copy that differ). */
  problems?: AuditProblem[];
}

/** Order of kinds at one seq: a conflict explains the mismatch it causes, so it is named first. */
const KIND_ORDER: AuditProblemKind[] = [
  'malformed-checkpoint', 'checkpoint-key-id', 'checkpoint-signature', 'checkpoint-conflict',
  'malformed-entry', 'seq-gap', 'broken-link', 'hash-mismatch', 'checkpoint-mismatch', 'truncated',
];

function byPosition(a: AuditProblem, b: AuditProblem): number {
  return a.seq - b.seq || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || (a.detail < b.detail ? -1 : a.detail > b.detail ? 1 : 0);
}

function isMalformed(c: CheckpointCopy): c is MalformedCheckpoint {
  return 'malformed' in c;
}

/** Normalises the ways a caller names keys: one key, several, or a key list with validity periods. */
export function verificationKeys(keys: KeyObject | KeyObject[] | VerificationKey[] | null): VerificationKey[] {
  if (!keys) return [];
  const list = Array.isArray(keys) ? keys : [keys];
  return list.map((k) => ('keyId' in k ? k : { keyId: keyIdOf(k), publicKey: k }));
}

/**
 * Which of the copies are validly signed, and the problems of the others: a keyId naming no key (or a
 * key outside its validity at the checkpoint's `at`), a signature that does not verify, two valid
 * checkpoints for one seq with different hashes. The verdict is the same whatever the order of copies.
 */
export function checkCheckpoints(copies: CheckpointCopy[], keys: VerificationKey[]): { valid: SignedCheckpoint[]; invalid: number; problems: AuditProblem[] } {
  const problems: AuditProblem[] = [];
  const valid: SignedCheckpoint[] = [];
  let invalid = 0;
  // A checkpoint held in several places (a row and its store copy) counts once.
  const seen = new Set<string>();
  for (const c of copies) {
    if (!isMalformed(c)) {
      const id = JSON.stringify([c.seq, c.hash, c.at, c.signature, c.keyId]);
      if (seen.has(id)) continue;
      seen.add(id);
    }
    const where = c.source ? ` (${c.source})` : '';
    if (isMalformed(c)) {
      invalid++;
      problems.push({ seq: c.seq ?? 0, kind: 'malformed-checkpoint', reason: c.malformed.reason, detail: `a checkpoint${where} cannot be read: ${c.malformed.detail}` });
      continue;
    }
    const key = keys.find((k) => k.keyId === c.keyId);
    const inPeriod = key && (!key.notBefore || c.at >= key.notBefore) && (!key.notAfter || c.at <= key.notAfter);
    if (!key || !inPeriod) {
      invalid++;
      problems.push({
        seq: c.seq,
        kind: 'checkpoint-key-id',
        detail: key
          ? `the checkpoint at seq ${c.seq}${where} was signed at ${c.at}, outside the validity of key ${c.keyId}`
          : `the checkpoint at seq ${c.seq}${where} names key ${String(c.keyId)}, which is none of the verifying keys`,
      });
    } else if (!checkpointSignatureValid(c, key.publicKey)) {
      invalid++;
      problems.push({ seq: c.seq, kind: 'checkpoint-signature', detail: `the checkpoint at seq ${c.seq}${where} does not carry a valid signature from key ${c.keyId}` });
    } else {
      valid.push({ seq: c.seq, hash: c.hash, at: c.at, signature: c.signature, keyId: c.keyId });
    }
  }
  const hashesAt = new Map<number, Set<string>>();
  for (const c of valid) (hashesAt.get(c.seq) ?? hashesAt.set(c.seq, new Set()).get(c.seq)!).add(c.hash);
  for (const [seq, hashes] of hashesAt) {
    if (hashes.size > 1) {
      problems.push({
        seq,
        kind: 'checkpoint-conflict',
        detail: `${hashes.size} validly signed checkpoints for seq ${seq} name different hashes (${[...hashes].sort().join(', ')}): one of them vouches for a rewritten log`,
      });
    }
  }
  valid.sort((a, b) => a.seq - b.seq || (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  return { valid, invalid, problems };
}

/**
 * Recomputes the chain in seq order and holds it against signed checkpoints.
 *
 * Locations are positions: the n-th entry read must have seq n, link to the hash of the (n-1)-th and
 * hash to its own recorded hash. An edited entry fails at its own seq; a removed or reordered one at
 * the first position whose entry is not the expected one; an inserted one at itself or the entry after
 * it (a well-forged insertion is indistinguishable from the real entry until the next link). A tail
 * rewritten with fresh hashes is caught at the first checkpoint it passes; a tail cut off behind the
 * last checkpoint is caught because the log ends before the checkpoint's seq. Entries after the last
 * checkpoint are protected by the chain only.
 */
/** An entry that cannot even be canonicalised (a float, a function) is an altered one, not a crash. */
function safeHash(e: AuditEntry | StoredAuditEntry): string | undefined {
  try {
    return 'detailsJson' in e ? hashStoredEntry(e) : hashEntry(e);
  } catch {
    return undefined;
  }
}

export async function verifyAuditLog(
  entries: AsyncIterable<AuditEntry | MalformedEntry> | Iterable<AuditEntry | MalformedEntry>,
  checkpoints: CheckpointCopy[],
  keys: KeyObject | KeyObject[] | VerificationKey[] | null,
  opts: VerifyOptions = {},
): Promise<AuditVerdict> {
  return verifyAuditPages(pagesOf(entries), checkpoints, keys, opts);
}

/** Groups entries into pages; an array is one page, so verifying one in memory never awaits per entry. */
async function* pagesOf<T>(entries: AsyncIterable<T> | Iterable<T>): AsyncIterable<T[]> {
  if (Array.isArray(entries)) {
    yield entries;
    return;
  }
  let page: T[] = [];
  for await (const e of entries) {
    page.push(e);
    if (page.length >= 5000) {
      yield page;
      page = [];
    }
  }
  if (page.length) yield page;
}

/** As verifyAuditLog, over pages of entries in seq order (the database is read a page at a time). */
export async function verifyAuditPages(
  pages: AsyncIterable<(AuditEntry | StoredAuditEntry | MalformedEntry)[]>,
  checkpoints: CheckpointCopy[],
  keys: KeyObject | KeyObject[] | VerificationKey[] | null,
  opts: VerifyOptions = {},
): Promise<AuditVerdict> {
  const checked = checkCheckpoints(checkpoints, verificationKeys(keys));
  const problems: AuditProblem[] = [...checked.problems, ...(opts.problems ?? [])];
  const signed = new Map<number, SignedCheckpoint[]>();
  for (const c of checked.valid) (signed.get(c.seq) ?? signed.set(c.seq, []).get(c.seq)!).push(c);
  const lastCp = checked.valid.at(-1) ?? null;
  const from = opts.resumeAt ?? 1;

  let expected = from;
  let prevHash: string | undefined = from === 1 ? GENESIS_HASH : undefined;
  // The last entry that verified; the verdict's head is made from it once, not once per entry.
  let last: AuditEntry | StoredAuditEntry | undefined;
  let prevCheckpointSeq = checked.valid.filter((c) => c.seq < from).at(-1)?.seq ?? 0;
  let chainProblem: AuditProblem | undefined;
  pages: for await (const page of pages) {
    for (const e of page) {
      const n = expected;
      if (e.seq === undefined) {
        chainProblem = { seq: n, kind: 'malformed-entry', reason: e.malformed.reason, detail: `the entry at position ${n} cannot be read: ${e.malformed.detail}` };
      } else if (e.seq !== n) {
        chainProblem =
          e.seq > n
            ? { seq: n, kind: 'seq-gap', detail: `entry ${n} is missing: found seq ${e.seq} where ${n} was expected` }
            : { seq: n, kind: 'seq-gap', detail: `found seq ${e.seq} where ${n} was expected: entries were reordered or duplicated` };
      } else if (prevHash !== undefined && e.prevHash !== prevHash) {
        chainProblem = { seq: n, kind: 'broken-link', detail: `entry ${n} does not link to entry ${n - 1}: an entry at ${n - 1} or ${n} was inserted, removed or altered` };
      } else if (safeHash(e) !== e.hash) {
        chainProblem = { seq: n, kind: 'hash-mismatch', detail: `entry ${n} does not hash to its recorded hash: it was altered` };
      } else {
        const cps = signed.get(n);
        const other = cps?.find((cp) => cp.hash !== e.hash);
        if (other) {
          chainProblem = {
            seq: n,
            kind: 'checkpoint-mismatch',
            earliestSeq: prevCheckpointSeq + 1,
            detail: `entry ${n} is not the entry signed at ${other.at}: the log was rewritten somewhere in seq ${prevCheckpointSeq + 1}…${n}`,
          };
        }
        if (cps) prevCheckpointSeq = n;
      }
      if (chainProblem) break pages;
      last = e as AuditEntry | StoredAuditEntry;
      prevHash = last.hash;
      expected++;
    }
  }
  const head = last ? { seq: last.seq, hash: last.hash } : null;
  if (!chainProblem && lastCp && expected - 1 < lastCp.seq) {
    const end = expected - 1;
    chainProblem = {
      seq: end + 1,
      kind: 'truncated',
      detail: `the log ends at seq ${end} but a checkpoint signed at ${lastCp.at} covers seq ${lastCp.seq}: entries ${end + 1}…${lastCp.seq} were removed`,
    };
  }
  if (chainProblem) problems.push(chainProblem);
  problems.sort(byPosition);
  const verdict: AuditVerdict = {
    ok: problems.length === 0,
    entries: expected - from,
    head,
    checkpoints: { valid: checked.valid.length, invalid: checked.invalid, last: lastCp ? { seq: lastCp.seq, hash: lastCp.hash, at: lastCp.at } : null },
    verifiedFrom: from,
  };
  if (problems[0]) verdict.firstProblem = problems[0];
  return verdict;
}
