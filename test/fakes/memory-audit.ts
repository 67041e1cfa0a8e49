import { createAuditLog, type AuditEntry, type AuditLog, type AuditRepository, type CheckpointRecord, type EntryFilter } from '../../src/audit-log/index.js';
import type { NodeRef, StoredTreeNode, TreeNode } from '../../src/audit-log/merkle.js';
import type { Clock } from '../../src/shared/clock.js';
import type { Snapshottable } from './memory-transaction.js';

/** The audit_entries table in memory, under the real AuditLog (so entries are hashed and chained as in production). */
export class MemoryAuditRepository implements AuditRepository, Snapshottable {
  entries: AuditEntry[] = [];
  checkpoints: CheckpointRecord[] = [];
  /** The Merkle tree's nodes (audit_tree), by "level:index". */
  tree = new Map<string, StoredTreeNode>();
  snapshot(): unknown {
    return { entries: structuredClone(this.entries), tree: new Map(this.tree) };
  }
  restore(state: unknown): void {
    const s = state as { entries: AuditEntry[]; tree: Map<string, StoredTreeNode> };
    this.entries = s.entries;
    this.tree = s.tree;
  }
  async treeNodes(refs: NodeRef[]): Promise<Map<string, StoredTreeNode>> {
    const out = new Map<string, StoredTreeNode>();
    for (const r of refs) {
      const n = this.tree.get(`${r.level}:${r.index}`);
      if (n) out.set(`${r.level}:${r.index}`, n);
    }
    return out;
  }
  async insertTreeNodes(_tx: unknown, nodes: (TreeNode & { salt?: string | null })[]): Promise<void> {
    for (const n of nodes) this.tree.set(`${n.level}:${n.index}`, { level: n.level, index: n.index, hash: n.hash, salt: n.salt ?? null });
  }
  async storedEntries(): Promise<never[]> {
    throw new Error('not modelled in memory: the tree is kept as entries are appended');
  }
  async entry(seq: number): Promise<AuditEntry | undefined> {
    return this.entries.find((e) => e.seq === seq);
  }
  async latestSeqOf(action: string, subject: string): Promise<number | undefined> {
    return this.entries.filter((e) => e.action === action && e.subject === subject).at(-1)?.seq;
  }
  async lockChain(): Promise<void> {}
  async head(): Promise<{ seq: number; hash: string } | undefined> {
    const last = this.entries.at(-1);
    return last ? { seq: last.seq, hash: last.hash } : undefined;
  }
  async insertAll(_tx: unknown, entries: { entry: AuditEntry }[]): Promise<void> {
    this.entries.push(...entries.map((e) => structuredClone(e.entry)));
  }
  async *readAll(opts: { afterSeq?: number } = {}): AsyncIterable<AuditEntry> {
    yield* this.entries.filter((e) => e.seq > (opts.afterSeq ?? 0));
  }
  async *query(f: EntryFilter): AsyncIterable<AuditEntry> {
    yield* this.entries.filter((e) => (!f.action || e.action === f.action) && (!f.subject || e.subject === f.subject) && (!f.actor || e.actor === f.actor));
  }
  async *readStoredPages(): AsyncIterable<never[]> {
    throw new Error('not modelled in memory');
  }
  async detailsOfAction(action: string): Promise<{ seq: number; details: Record<string, unknown> }[]> {
    return this.entries.filter((e) => e.action === action).map((e) => ({ seq: e.seq, details: e.details }));
  }
  async listCheckpoints(): Promise<CheckpointRecord[]> {
    return this.checkpoints;
  }
  async entriesWithActionsSince(actions: string[], since: string): Promise<AuditEntry[]> {
    return this.entries.filter((e) => actions.includes(e.action) && e.at >= since);
  }
  async insertCheckpoint(c: CheckpointRecord): Promise<void> {
    this.checkpoints.push(c);
  }
  /** The entries with this action. */
  ofAction(action: string): AuditEntry[] {
    return this.entries.filter((e) => e.action === action);
  }
}

export function memoryAuditLog(clock: Clock): { repo: MemoryAuditRepository; audit: AuditLog } {
  const repo = new MemoryAuditRepository();
  return { repo, audit: createAuditLog({ clock, entries: repo }) };
}
