import type { Tx } from '../shared/transaction.js';
import type { AuditEntry, StoredAuditEntry } from './canonical.js';
import type { NodeRef, StoredTreeNode, TreeNode } from './merkle.js';

export interface EntryFilter {
  /** Inclusive lower bound on `at` (ISO). */
  from?: string;
  /** Exclusive upper bound on `at` (ISO). */
  to?: string;
  action?: string;
  subject?: string;
  /** Entries by this actor ("admin:tok_…", "user:<sub>", "system:retention"). */
  actor?: string;
  /** Entries about this recording: its own subject, and its call's (an opt-out during the call). */
  recording?: string;
  /** Entries about this call: its own subject, and its recording's. */
  call?: string;
  /** Cursor: only entries with seq greater than this. */
  afterSeq?: number;
  /** Never beyond this seq, so an export is a snapshot even while entries are appended. */
  untilSeq?: number;
  limit?: number;
}

export interface CheckpointRecord {
  seq: number;
  hash: string;
  at: string;
  signature: string;
  keyId: string;
  objectKey: string;
}

/** The audit_entries and audit_checkpoints tables. */
export interface AuditRepository {
  /** Serialises appenders of the chain until `tx` ends. */
  lockChain(tx: Tx): Promise<void>;
  /** The last entry's seq and hash; undefined for an empty log. */
  head(tx?: Tx): Promise<{ seq: number; hash: string } | undefined>;
  insertAll(tx: Tx, entries: { entry: AuditEntry; canonicalDetails: string }[]): Promise<void>;
  /** The Merkle tree's stored nodes asked for, by "level:index" (audit_tree). */
  treeNodes(refs: NodeRef[], tx?: Tx): Promise<Map<string, StoredTreeNode>>;
  insertTreeNodes(tx: Tx, nodes: (TreeNode & { salt?: string | null })[]): Promise<void>;
  /** Entries after `afterSeq` inside `tx`, each with its canonical text (docs/audit-log.md §1), for rebuilding the tree. */
  storedEntries(tx: Tx, afterSeq: number, limit: number): Promise<{ seq: number; at: string; action: string; subject: string | null; text: string }[]>;
  /** One entry by seq, or undefined. */
  entry(seq: number): Promise<AuditEntry | undefined>;
  /** The seq of the latest entry with this action and subject (both indexed), or undefined. */
  latestSeqOf(action: string, subject: string): Promise<number | undefined>;
  /** Every entry in seq order, a page at a time. */
  readAll(opts?: { afterSeq?: number; pageSize?: number }): AsyncIterable<AuditEntry>;
  /** Matching entries in seq order, paged by seq so memory stays flat however large the range. */
  query(f: EntryFilter, pageSize?: number): AsyncIterable<AuditEntry>;
  /** Every entry in seq order, details left as stored (verification hashes the text), in slices. */
  readStoredPages(pageSize?: number, sliceSize?: number, afterSeq?: number): AsyncIterable<StoredAuditEntry[]>;
  /** The details of every entry with this action, in seq order (rare actions: acknowledgements). */
  detailsOfAction(action: string): Promise<{ seq: number; details: Record<string, unknown> }[]>;
  listCheckpoints(): Promise<CheckpointRecord[]>;
  /** Entries with one of these actions appended at or after `since`, in seq order (the retention report's evidence). */
  entriesWithActionsSince(actions: string[], since: string): Promise<AuditEntry[]>;
  /** Throws AlreadyExists when that seq is checkpointed already. */
  insertCheckpoint(c: CheckpointRecord): Promise<void>;
}
