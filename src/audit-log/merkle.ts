import { createHash, hash, randomBytes } from 'node:crypto';
import { canonicalJson } from './canonical.js';

/**
 * RFC 9162 §2.1 Merkle tree hashing over the audit log: leaf `SHA-256(0x00 || data)`, node
 * `SHA-256(0x01 || left || right)`, tree index = seq − 1. The tree is kept as its perfect subtrees
 * (a node at `level` L and `index` i covers leaves [i·2^L, (i+1)·2^L)); any tree size's root and any
 * proof is a fold over O(log n) of them. docs/receipts.md specifies it for outside checkers.
 */

/** A perfect subtree: `level` 0 is a leaf. */
export interface NodeRef {
  level: number;
  index: number;
}
export interface TreeNode extends NodeRef {
  hash: Buffer;
}
/** A stored node with the salt of its entry's commitment (leaves only). */
export interface StoredTreeNode extends TreeNode {
  salt: string | null;
}
/** Leaves [start, end). */
export interface LeafRange {
  start: number;
  end: number;
}

const LEAF_PREFIX = Buffer.from([0]);
const NODE_PREFIX = Buffer.from([1]);

export const EMPTY_ROOT: Buffer = hash('sha256', '', 'buffer');

export function leafHash(data: Buffer | string): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** What a receipt reveals of an entry: everything else is behind the salted commitment. */
export interface PublicProjection {
  seq: number;
  at: string;
  action: string;
  subject: string | null;
  /** hex SHA-256(salt || canonical entry), docs/audit-log.md §1 for the canonical entry. */
  commitment: string;
}

/** The leaf data: canonical JSON of the projection (keys action, at, commitment, seq, subject), UTF-8. */
export function leafData(p: PublicProjection): Buffer {
  return Buffer.from(canonicalJson({ seq: p.seq, at: p.at, action: p.action, subject: p.subject, commitment: p.commitment }), 'utf8');
}

export function commitmentOf(salt: Buffer, canonicalEntryText: string): string {
  return createHash('sha256').update(salt).update(canonicalEntryText, 'utf8').digest('hex');
}

/** A fresh per-entry salt (32 random bytes): kept in the database, never published. */
export function newSalt(): Buffer {
  return randomBytes(32);
}

/** 2^k for the largest k with 2^k < n (n ≥ 2), as RFC 9162 splits a tree. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The perfect subtrees that make up leaves [start, end), left to right, largest first. The ranges
 * a proof asks for are aligned (start a multiple of the first subtree's size), so folding their
 * hashes from the right gives RFC 9162's MTH of the range.
 */
export function perfectNodes(r: LeafRange): NodeRef[] {
  const out: NodeRef[] = [];
  let at = r.start;
  while (at < r.end) {
    let size = 1;
    let level = 0;
    while (at % (size * 2) === 0 && at + size * 2 <= r.end) {
      size *= 2;
      level++;
    }
    out.push({ level, index: at / size });
    at += size;
  }
  return out;
}

/** Hash of leaves [start, end) from the perfect subtrees that make it up. */
export function rangeHash(r: LeafRange, node: (ref: NodeRef) => Buffer): Buffer {
  if (r.end <= r.start) return EMPTY_ROOT;
  const parts = perfectNodes(r).map(node);
  let h = parts[parts.length - 1]!;
  for (let i = parts.length - 2; i >= 0; i--) h = nodeHash(parts[i]!, h);
  return h;
}

/** RFC 9162 §2.1.3.1 PATH(m, D[0:n]) as the leaf ranges whose hashes it lists, leaf end first. */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  const out: LeafRange[] = [];
  const walk = (a: number, b: number) => {
    if (b - a <= 1) return;
    const k = splitPoint(b - a);
    if (index - a < k) {
      walk(a, a + k);
      out.push({ start: a + k, end: b });
    } else {
      walk(a + k, b);
      out.push({ start: a, end: a + k });
    }
  };
  walk(0, size);
  return out;
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[0:n]) as leaf ranges (0 < m ≤ n; empty when m = n). */
export function consistencyRanges(m: number, n: number): LeafRange[] {
  const out: LeafRange[] = [];
  const sub = (mm: number, a: number, b: number, start: boolean) => {
    const size = b - a;
    if (mm === size) {
      if (!start) out.push({ start: a, end: b });
      return;
    }
    const k = splitPoint(size);
    if (mm <= k) {
      sub(mm, a, a + k, start);
      out.push({ start: a + k, end: b });
    } else {
      sub(mm - k, a + k, b, false);
      out.push({ start: a, end: a + k });
    }
  };
  if (m < n) sub(m, 0, n, true);
  return out;
}

/** Every stored node the given ranges need, without repeats. */
export function nodesFor(ranges: LeafRange[]): NodeRef[] {
  const seen = new Set<string>();
  const out: NodeRef[] = [];
  for (const r of ranges) {
    for (const n of perfectNodes(r)) {
      const k = `${n.level}:${n.index}`;
      if (!seen.has(k)) {
        seen.add(k);
        out.push(n);
      }
    }
  }
  return out;
}

/**
 * Adds leaves to a tree of `size` leaves given its peaks (perfectNodes of [0, size)) and returns
 * every node that now exists and did not before (the leaves and the parents they complete), and the
 * new peaks. Nothing of the log is hashed again.
 */
export function appendToTree(peaks: TreeNode[], size: number, leaves: Buffer[]): { nodes: TreeNode[]; peaks: TreeNode[] } {
  const stack = peaks.slice();
  const nodes: TreeNode[] = [];
  let index = size;
  for (const leaf of leaves) {
    let node: TreeNode = { level: 0, index, hash: leaf };
    nodes.push(node);
    while (stack.length && stack[stack.length - 1]!.level === node.level) {
      const left = stack.pop()!;
      node = { level: node.level + 1, index: left.index / 2, hash: nodeHash(left.hash, node.hash) };
      nodes.push(node);
    }
    stack.push(node);
    index++;
  }
  return { nodes, peaks: stack };
}

const isOdd = (x: number) => x % 2 === 1;
const half = (x: number) => Math.floor(x / 2);

/** RFC 9162 §2.1.3.2: does `proof` show leaf `leaf` at `index` in the tree of `size` with `root`? */
export function verifyInclusion(index: number, size: number, leaf: Buffer, proof: Buffer[], root: Buffer): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 §2.1.4.2: is the tree (`first`, `firstRoot`) a prefix of (`second`, `secondRoot`)? */
export function verifyConsistency(first: number, second: number, proof: Buffer[], firstRoot: Buffer, secondRoot: Buffer): boolean {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 1 || first > second) return false;
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  if (!proof.length) return false;
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : proof;
  let fn = first - 1;
  let sn = second - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && fr.equals(firstRoot) && sr.equals(secondRoot);
}

function isPowerOfTwo(x: number): boolean {
  while (x > 1 && x % 2 === 0) x /= 2;
  return x === 1;
}
