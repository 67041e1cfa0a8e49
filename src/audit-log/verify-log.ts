import type { KeyObject } from 'node:crypto';
import { GENESIS_HASH, hashEntry, hashStoredEntry, type AuditEntry, type StoredAuditEntry } from './canonical.js';
import { checkpointSignatureValid, type SignedCheckpoint } from './signing.js';

export type AuditProblemKind =
  | 'seq-gap'
  | 'broken-link'
  | 'hash-mismatch'
  | 'checkpoint-mismatch'
  | 'truncated'
  | 'checkpoint-signature';

export interface AuditProblem {
  /** The position (seq) where the log stops being trustworthy. */
  seq: number;
  kind: AuditProblemKind;
  detail: string;
  /** For a rewritten tail: the earliest seq that may have been rewritten (the entry after the previous checkpoint). */
  earliestSeq?: number;
}

export interface AuditVerdict {
  ok: boolean;
  /** Entries that verified before the first problem (all of them when ok). */
  entries: number;
  head: { seq: number; hash: string } | null;
  /** Checkpoints with a valid signature, and the last of them. */
  checkpoints: { valid: number; invalid: number; last: { seq: number; hash: string; at: string } | null };
  firstProblem?: AuditProblem;
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
  entries: AsyncIterable<AuditEntry> | Iterable<AuditEntry>,
  checkpoints: SignedCheckpoint[],
  publicKey: KeyObject | null,
): Promise<AuditVerdict> {
  return verifyAuditPages(pagesOf(entries), checkpoints, publicKey);
}

/** Groups entries into pages; an array is one page, so verifying one in memory never awaits per entry. */
async function* pagesOf(entries: AsyncIterable<AuditEntry> | Iterable<AuditEntry>): AsyncIterable<AuditEntry[]> {
  if (Array.isArray(entries)) {
    yield entries;
    return;
  }
  let page: AuditEntry[] = [];
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
  pages: AsyncIterable<AuditEntry[] | StoredAuditEntry[]>,
  checkpoints: SignedCheckpoint[],
  publicKey: KeyObject | null,
): Promise<AuditVerdict> {
  const problems: AuditProblem[] = [];
  const signed = new Map<number, SignedCheckpoint>();
  let invalid = 0;
  for (const c of [...checkpoints].sort((a, b) => a.seq - b.seq)) {
    if (publicKey && checkpointSignatureValid(c, publicKey)) {
      signed.set(c.seq, c);
    } else {
      invalid++;
      problems.push({ seq: c.seq, kind: 'checkpoint-signature', detail: `the checkpoint at seq ${c.seq} does not carry a valid signature from this key` });
    }
  }
  const cps = [...signed.values()];
  const lastCp = cps.at(-1) ?? null;

  let expected = 1;
  let prevHash = GENESIS_HASH;
  // The last entry that verified; the verdict's head is made from it once, not once per entry.
  let last: AuditEntry | StoredAuditEntry | undefined;
  let prevCheckpointSeq = 0;
  let chainProblem: AuditProblem | undefined;
  pages: for await (const page of pages) {
    for (const e of page) {
      const n = expected;
      if (e.seq !== n) {
        chainProblem =
          e.seq > n
            ? { seq: n, kind: 'seq-gap', detail: `entry ${n} is missing: found seq ${e.seq} where ${n} was expected` }
            : { seq: n, kind: 'seq-gap', detail: `found seq ${e.seq} where ${n} was expected: entries were reordered or duplicated` };
      } else if (e.prevHash !== prevHash) {
        chainProblem = { seq: n, kind: 'broken-link', detail: `entry ${n} does not link to entry ${n - 1}: an entry at ${n - 1} or ${n} was inserted, removed or altered` };
      } else if (safeHash(e) !== e.hash) {
        chainProblem = { seq: n, kind: 'hash-mismatch', detail: `entry ${n} does not hash to its recorded hash: it was altered` };
      } else {
        const cp = signed.get(n);
        if (cp && cp.hash !== e.hash) {
          chainProblem = {
            seq: n,
            kind: 'checkpoint-mismatch',
            earliestSeq: prevCheckpointSeq + 1,
            detail: `entry ${n} is not the entry signed at ${cp.at}: the log was rewritten somewhere in seq ${prevCheckpointSeq + 1}…${n}`,
          };
        }
        if (cp) prevCheckpointSeq = n;
      }
      if (chainProblem) break pages;
      last = e;
      prevHash = e.hash;
      expected++;
    }
  }
  const head = last ? { seq: last.seq, hash: last.hash } : null;
  if (!chainProblem && lastCp && (head?.seq ?? 0) < lastCp.seq) {
    const end = head?.seq ?? 0;
    chainProblem = {
      seq: end + 1,
      kind: 'truncated',
      detail: `the log ends at seq ${end} but a checkpoint signed at ${lastCp.at} covers seq ${lastCp.seq}: entries ${end + 1}…${lastCp.seq} were removed`,
    };
  }
  if (chainProblem) problems.push(chainProblem);
  problems.sort((a, b) => a.seq - b.seq);
  const verdict: AuditVerdict = {
    ok: problems.length === 0,
    entries: expected - 1,
    head,
    checkpoints: { valid: cps.length, invalid, last: lastCp ? { seq: lastCp.seq, hash: lastCp.hash, at: lastCp.at } : null },
  };
  if (problems[0]) verdict.firstProblem = problems[0];
  return verdict;
}
