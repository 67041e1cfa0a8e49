import { NotFound } from '../shared/errors.js';
import { leafData, type PublicProjection } from './merkle.js';
import type { TreeHeads } from './tree-heads.js';
import type { AuditTree } from './tree.js';

/**
 * A receipt: an entry's public projection and a C2SP tlog-proof (c2sp.org/tlog-proof) showing it in
 * a signed tree head. The proof's `extra` line carries the leaf data itself (the projection's
 * canonical JSON), so the one file can be checked alone: leaf hash = SHA-256(0x00 || extra).
 */
export interface Receipt {
  projection: PublicProjection;
  /** The tlog-proof file's text. */
  tlogProof: string;
}

export function tlogProofText(p: { extra: Buffer; index: number; hashes: string[]; checkpoint: string }): string {
  return `c2sp.org/tlog-proof@v1\nextra ${p.extra.toString('base64')}\nindex ${p.index}\n${p.hashes.map((h) => h + '\n').join('')}\n${p.checkpoint}`;
}

/** Finds the entry a receipt is asked for (audit_entries, read by its capability). */
export interface ReceiptLookup {
  /** The seq of the latest entry with this action and subject, or undefined. */
  latestSeqOf(action: string, subject: string): Promise<number | undefined>;
}

export function createReceipts(deps: { tree: AuditTree; heads: TreeHeads; entries: ReceiptLookup }) {
  async function forEntry(seq: number): Promise<Receipt> {
    const { projection } = await deps.tree.projection(seq);
    const head = await deps.heads.covering(seq);
    const proof = await deps.tree.inclusion(seq, head.size);
    if (!Buffer.from(proof.root, 'base64').equals(head.root)) throw new Error(`the audit tree's root of size ${head.size} is not the signed one`);
    return { projection, tlogProof: tlogProofText({ extra: leafData(projection), index: proof.index, hashes: proof.hashes, checkpoint: head.note }) };
  }
  return {
    forEntry,
    /** The receipt of a recording's `recording.deleted` entry; NotFound `receipt-not-found` before it is deleted. */
    async deletionOf(recordingId: string): Promise<Receipt> {
      const seq = await deps.entries.latestSeqOf('recording.deleted', `recording:${recordingId}`);
      if (seq === undefined) throw new NotFound('receipt-not-found', 'no deletion entry for this recording');
      return forEntry(seq);
    },
    /** The receipt of a recording's `recording.ingested` entry, or undefined when it has none. */
    async ingestOf(recordingId: string): Promise<Receipt | undefined> {
      const seq = await deps.entries.latestSeqOf('recording.ingested', `recording:${recordingId}`);
      return seq === undefined ? undefined : forEntry(seq);
    },
  };
}

export type Receipts = ReturnType<typeof createReceipts>;
