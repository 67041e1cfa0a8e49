import { InvalidInput, NotFound } from '../shared/errors.js';
import { canonicalEntry, type AuditEntry } from './canonical.js';
import {
  commitmentOf, consistencyRanges, inclusionRanges, leafData, leafHash, nodesFor, rangeHash, type LeafRange, type NodeRef, type PublicProjection, type StoredTreeNode,
} from './merkle.js';

export interface InclusionProof {
  /** Leaf index: seq − 1. */
  index: number;
  size: number;
  /** base64 hashes, leaf end first (RFC 9162 §2.1.3.1). */
  hashes: string[];
  /** base64 root of the tree of `size`. */
  root: string;
}

export interface ConsistencyProof {
  from: number;
  to: number;
  hashes: string[];
  fromRoot: string;
  toRoot: string;
}

/** What the tree reads: the log's head, stored nodes by "level:index", one entry. */
export interface TreeStore {
  head(): Promise<{ seq: number; hash: string } | undefined>;
  treeNodes(refs: NodeRef[]): Promise<Map<string, StoredTreeNode>>;
  entry(seq: number): Promise<AuditEntry | undefined>;
}

function tooLarge(pointer: string, size: number): InvalidInput {
  return new InvalidInput('invalid-query', `Invalid query: ${pointer.slice(1)}`, {
    errors: [{ pointer, code: 'too-large', detail: `the log has ${size} entries`, limit: size }],
  });
}

/**
 * Roots and proofs of the audit log's Merkle tree, each from the O(log n) stored subtree hashes it
 * needs, read in one statement.
 */
export function createAuditTree(deps: { entries: TreeStore }) {
  const repo = deps.entries;

  async function hashes(ranges: LeafRange[]): Promise<Buffer[]> {
    const refs = nodesFor(ranges);
    const found = await repo.treeNodes(refs);
    const node = (r: NodeRef) => {
      const n = found.get(`${r.level}:${r.index}`);
      if (!n) throw new Error(`audit tree node ${r.level}:${r.index} is missing`);
      return n.hash;
    };
    return ranges.map((r) => rangeHash(r, node));
  }

  async function size(): Promise<number> {
    return (await repo.head())?.seq ?? 0;
  }

  return {
    size,

    /** The root of the tree over the first `n` entries. */
    async root(n: number): Promise<Buffer> {
      const [root] = await hashes([{ start: 0, end: n }]);
      return root!;
    },

    /** Entry `seq` is leaf seq − 1 of the tree of `treeSize` (default: the whole log). */
    async inclusion(seq: number, treeSize?: number): Promise<InclusionProof> {
      const current = await size();
      const n = treeSize ?? current;
      if (n > current) throw tooLarge('/size', current);
      if (seq > n) throw tooLarge('/seq', n);
      const all = await hashes([...inclusionRanges(seq - 1, n), { start: 0, end: n }]);
      const root = all.pop()!;
      return { index: seq - 1, size: n, hashes: all.map((h) => h.toString('base64')), root: root.toString('base64') };
    },

    async consistency(from: number, to: number): Promise<ConsistencyProof> {
      const current = await size();
      if (to > current) throw tooLarge('/to', current);
      if (from > to) throw tooLarge('/from', to);
      const all = await hashes([...consistencyRanges(from, to), { start: 0, end: from }, { start: 0, end: to }]);
      const toRoot = all.pop()!;
      const fromRoot = all.pop()!;
      return { from, to, hashes: all.map((h) => h.toString('base64')), fromRoot: fromRoot.toString('base64'), toRoot: toRoot.toString('base64') };
    },

    /** What a receipt shows of entry `seq`, and its leaf hash. NotFound when there is no such entry. */
    async projection(seq: number): Promise<{ projection: PublicProjection; leafHash: Buffer }> {
      const entry = await repo.entry(seq);
      const leaf = (await repo.treeNodes([{ level: 0, index: seq - 1 }])).get(`0:${seq - 1}`);
      if (!entry || !leaf?.salt) throw new NotFound('not-found', `no audit entry ${seq}`);
      const { hash: _h, ...unsigned } = entry;
      const projection: PublicProjection = {
        seq: entry.seq, at: entry.at, action: entry.action, subject: entry.subject, commitment: commitmentOf(Buffer.from(leaf.salt, 'hex'), canonicalEntry(unsigned)),
      };
      const computed = leafHash(leafData(projection));
      if (!computed.equals(leaf.hash)) throw new Error(`audit entry ${seq} does not match its Merkle leaf`);
      return { projection, leafHash: computed };
    },
  };
}

export type AuditTree = ReturnType<typeof createAuditTree>;
