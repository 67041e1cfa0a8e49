import type { Clock } from '../shared/clock.js';
import type { Tx } from '../shared/transaction.js';
import type { AuditRepository } from './ports.js';
import { canonicalEntry, canonicalJson, GENESIS_HASH, sha256Hex, type AuditEntry } from './canonical.js';
import { appendToTree, commitmentOf, leafData, leafHash, newSalt, perfectNodes, type TreeNode } from './merkle.js';

/** Who did it: "<role>:<id>", e.g. "admin:tok_3f9a…", "phone-system:webhook", "system:retention". */
export type Actor = string;

export interface AuditInput {
  actor: Actor;
  action: string;
  subject?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditLog {
  /**
   * Appends one entry inside the caller's transaction, so the entry exists exactly when the change it
   * records does. Never pass personal data (numbers, caller keys) in details.
   */
  append(tx: Tx, input: AuditInput): Promise<AuditEntry>;
  /** Appends several entries, in order, as one step of the chain (one head read, multi-row inserts). */
  appendAll(tx: Tx, inputs: AuditInput[]): Promise<AuditEntry[]>;
}

type EntryStore = Pick<AuditRepository, 'lockChain' | 'head' | 'insertAll' | 'treeNodes' | 'insertTreeNodes' | 'storedEntries'>;

/** The Merkle leaf of an entry (docs/receipts.md): a fresh salt, the commitment, the projection's hash. */
export function leafOfEntry(entryText: string, e: Pick<AuditEntry, 'seq' | 'at' | 'action' | 'subject'>, salt = newSalt()): { hash: Buffer; salt: string } {
  const commitment = commitmentOf(salt, entryText);
  return { hash: leafHash(leafData({ seq: e.seq, at: e.at, action: e.action, subject: e.subject, commitment })), salt: salt.toString('hex') };
}

/**
 * The peaks of the tree over the first `size` entries. When one is missing (a log that was damaged or
 * written around the service), the tree is built again from the entries, keeping the salts it has:
 * an append never fails for want of its tree.
 */
async function peaksOf(repo: EntryStore, tx: Tx, size: number): Promise<TreeNode[]> {
  const refs = perfectNodes({ start: 0, end: size });
  const found = await repo.treeNodes(refs, tx);
  const peaks = refs.map((r) => found.get(`${r.level}:${r.index}`));
  if (peaks.every((p) => p !== undefined)) return peaks;
  let tree: TreeNode[] = [];
  let count = 0;
  for (let after = 0; ; ) {
    const page = await repo.storedEntries(tx, after, 2000);
    if (!page.length) break;
    const salts = await repo.treeNodes(page.map((e) => ({ level: 0, index: e.seq - 1 })), tx);
    const leaves = page.map((e) => {
      const salt = salts.get(`0:${e.seq - 1}`)?.salt;
      return { ...leafOfEntry(e.text, e, salt ? Buffer.from(salt, 'hex') : undefined), seq: e.seq };
    });
    const { nodes, peaks: next } = appendToTree(tree, count, leaves.map((l) => l.hash));
    const saltOf = new Map(leaves.map((l) => [l.seq - 1, l.salt]));
    await repo.insertTreeNodes(tx, nodes.map((n) => (n.level === 0 ? { ...n, salt: saltOf.get(n.index) ?? null } : n)));
    tree = next;
    count += page.length;
    after = page[page.length - 1]!.seq;
  }
  return tree;
}

export function createAuditLog(deps: { clock: Clock; entries: EntryStore }): AuditLog {
  const repo = deps.entries;
  async function appendAll(tx: Tx, inputs: AuditInput[]): Promise<AuditEntry[]> {
    if (!inputs.length) return [];
    await repo.lockChain(tx);
    const last = await repo.head(tx);
    let seq = last?.seq ?? 0;
    const size = seq;
    const peaks = await peaksOf(repo, tx, size);
    let prevHash = last?.hash ?? GENESIS_HASH;
    const at = deps.clock.now().toISOString();
    const salts: string[] = [];
    const leaves: Buffer[] = [];
    const rows = inputs.map((input) => {
      const details = input.details ?? {};
      const unsigned = { seq: ++seq, at, actor: input.actor, action: input.action, subject: input.subject ?? null, details, prevHash };
      const text = canonicalEntry(unsigned);
      const entry: AuditEntry = { ...unsigned, hash: sha256Hex(text) };
      const leaf = leafOfEntry(text, entry);
      leaves.push(leaf.hash);
      salts.push(leaf.salt);
      prevHash = entry.hash;
      return { entry, canonicalDetails: canonicalJson(details) };
    });
    await repo.insertAll(tx, rows);
    const { nodes } = appendToTree(peaks, size, leaves);
    await repo.insertTreeNodes(tx, nodes.map((n) => (n.level === 0 ? { ...n, salt: salts[n.index - size]! } : n)));
    return rows.map((r) => r.entry);
  }
  return {
    async append(tx, input) {
      return (await appendAll(tx, [input]))[0]!;
    },
    appendAll,
  };
}
