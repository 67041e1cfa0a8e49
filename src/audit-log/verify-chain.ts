import { GENESIS_HASH, hashEntry, type AuditEntry } from './canonical.js';

export interface ChainProblem {
  seq: number;
  kind: 'hash-mismatch' | 'broken-link' | 'seq-gap';
  detail: string;
}

export interface ChainVerdict {
  ok: boolean;
  entries: number;
  head: { seq: number; hash: string } | null;
  firstProblem?: ChainProblem;
}

/**
 * Recomputes every hash and link in seq order. Stops at the first problem and names it: an edited entry
 * fails its own hash, an inserted or removed one breaks the link or the numbering after it.
 */
export async function verifyChain(entries: AsyncIterable<AuditEntry> | Iterable<AuditEntry>): Promise<ChainVerdict> {
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  let count = 0;
  let head: ChainVerdict['head'] = null;
  for await (const e of entries) {
    const problem: ChainProblem | undefined =
      e.seq !== expectedSeq
        ? { seq: e.seq, kind: 'seq-gap', detail: `expected seq ${expectedSeq}, found ${e.seq}` }
        : e.prevHash !== prevHash
          ? { seq: e.seq, kind: 'broken-link', detail: `prevHash does not match the hash of entry ${e.seq - 1}` }
          : hashEntry(e) !== e.hash
            ? { seq: e.seq, kind: 'hash-mismatch', detail: 'the entry does not hash to its recorded hash: it was altered' }
            : undefined;
    if (problem) return { ok: false, entries: count, head, firstProblem: problem };
    count++;
    prevHash = e.hash;
    expectedSeq++;
    head = { seq: e.seq, hash: e.hash };
  }
  return { ok: true, entries: count, head };
}
