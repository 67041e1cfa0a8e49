import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { MerkleTree } from 'merkletreejs';
import {
  appendToTree, consistencyRanges, inclusionRanges, leafHash, nodesFor, rangeHash, verifyConsistency, verifyInclusion, type NodeRef, type TreeNode,
} from '../../src/audit-log/merkle.js';

// Independent reference: merkletreejs (npm), whose unbalanced tree with the odd node carried up and
// our RFC 9162 prefixes is the RFC 6962/9162 tree. The consistency proofs are also held against the
// RFC 6962 test vectors that transparency-dev/merkle and certificate-transparency carry.
const sha = (...parts: Buffer[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();
const reference = (leaves: Buffer[]) => new MerkleTree(leaves, (data: Buffer) => sha(Buffer.from([1]), data), { hashLeaves: false, sortPairs: false, duplicateOdd: false });

/** Our tree, built by appends in random batch sizes, as a node lookup. */
function ours(leaves: Buffer[]): (ref: NodeRef) => Buffer {
  const nodes = new Map<string, Buffer>();
  let peaks: TreeNode[] = [];
  let size = 0;
  while (size < leaves.length) {
    const batch = leaves.slice(size, size + 1 + Math.floor(Math.random() * 40));
    const r = appendToTree(peaks, size, batch);
    for (const n of r.nodes) nodes.set(`${n.level}:${n.index}`, n.hash);
    peaks = r.peaks;
    size += batch.length;
  }
  return (ref) => {
    const h = nodes.get(`${ref.level}:${ref.index}`);
    if (!h) throw new Error(`node ${ref.level}:${ref.index} was never stored`);
    return h;
  };
}

const proofOf = (ranges: { start: number; end: number }[], node: (r: NodeRef) => Buffer) => ranges.map((r) => rangeHash(r, node));
const flip = (b: Buffer, bit = 3) => {
  const c = Buffer.from(b);
  c[0]! ^= 1 << bit;
  return c;
};

describe('audit Merkle tree (RFC 9162)', () => {
  const sizes = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 33, 100, 255, 256, 257, 1000, 1023, 1025, 4097, 10_000, ...Array.from({ length: 8 }, () => 1 + Math.floor(Math.random() * 10_000))];

  for (const n of sizes) {
    it(`gives the reference root and inclusion proofs for a random log of ${n} entries, and every altered proof fails`, () => {
      const leaves = Array.from({ length: n }, () => leafHash(randomBytes(1 + Math.floor(Math.random() * 60))));
      const node = ours(leaves);
      const tree = reference(leaves);
      const root = rangeHash({ start: 0, end: n }, node);
      expect(root.toString('hex')).to.equal(tree.getRoot().toString('hex'));
      const sample = n <= 64 ? Array.from({ length: n }, (_, i) => i) : Array.from({ length: 40 }, () => Math.floor(Math.random() * n));
      for (const i of sample) {
        const proof = proofOf(inclusionRanges(i, n), node);
        expect(proof.map((p) => p.toString('hex')), `leaf ${i}`).to.deep.equal(tree.getProof(leaves[i]!, i).map((p) => p.data.toString('hex')));
        expect(verifyInclusion(i, n, leaves[i]!, proof, root)).to.equal(true);
        expect(verifyInclusion(i, n, flip(leaves[i]!), proof, root), 'altered leaf').to.equal(false);
        expect(verifyInclusion(i, n, leaves[i]!, proof, flip(root)), 'altered root').to.equal(false);
        for (let k = 0; k < proof.length; k++) expect(verifyInclusion(i, n, leaves[i]!, proof.map((p, j) => (j === k ? flip(p) : p)), root), `altered hash ${k}`).to.equal(false);
        for (const j of [i - 1, i + 1, i ^ 2, n, -1]) if (j !== i) expect(verifyInclusion(j, n, leaves[i]!, proof, root), `index ${j}`).to.equal(false);
        for (const m of [n * 2, Math.floor(n / 2)]) {
          if (m === n || m <= i) continue;
          // A tree of another height: the proof has the wrong length for it. (A neighbouring size can
          // share the proof's shape; a receipt binds the size through the signed checkpoint.)
          expect(verifyInclusion(i, m, leaves[i]!, proof, root), `size ${m}`).to.equal(false);
        }
        if (proof.length) expect(verifyInclusion(i, n, leaves[i]!, proof.slice(0, -1), root), 'shortened').to.equal(false);
        expect(verifyInclusion(i, n, leaves[i]!, [...proof, root], root), 'lengthened').to.equal(false);
      }
      // Consistency between random earlier sizes and n, held against the reference roots.
      for (let t = 0; t < 10; t++) {
        const m = 1 + Math.floor(Math.random() * n);
        const oldRoot = reference(leaves.slice(0, m)).getRoot();
        const proof = proofOf(consistencyRanges(m, n), node);
        expect(verifyConsistency(m, n, proof, oldRoot, root), `${m} → ${n}`).to.equal(true);
        expect(rangeHash({ start: 0, end: m }, node).equals(oldRoot)).to.equal(true);
        if (m < n) {
          expect(verifyConsistency(m, n, proof, flip(oldRoot), root)).to.equal(false);
          expect(verifyConsistency(m, n, proof, oldRoot, flip(root))).to.equal(false);
          for (let k = 0; k < proof.length; k++) expect(verifyConsistency(m, n, proof.map((p, j) => (j === k ? flip(p, 4) : p)), oldRoot, root)).to.equal(false);
        }
      }
    });
  }

  it('gives the RFC 6962 test vectors: roots, inclusion and consistency proofs of the 8-leaf tree', () => {
    const data = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => Buffer.from(h, 'hex'));
    const roots = [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', 'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
      'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4', '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
      'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c', '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
    ];
    const node = ours(data.map(leafHash));
    for (let n = 1; n <= 8; n++) expect(rangeHash({ start: 0, end: n }, node).toString('hex')).to.equal(roots[n - 1]);
    const inclusion: [number, number, string[]][] = [
      [0, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
      [5, 8, ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
      [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
      [1, 5, ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
    ];
    for (const [i, n, want] of inclusion) expect(proofOf(inclusionRanges(i, n), node).map((p) => p.toString('hex'))).to.deep.equal(want);
    const consistency: [number, number, string[]][] = [
      [1, 1, []],
      [1, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
      [6, 8, ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
      [2, 5, ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
      [6, 7, ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
    ];
    for (const [m, n, want] of consistency) {
      const proof = proofOf(consistencyRanges(m, n), node);
      expect(proof.map((p) => p.toString('hex')), `${m} → ${n}`).to.deep.equal(want);
      expect(verifyConsistency(m, n, proof, Buffer.from(roots[m - 1]!, 'hex'), Buffer.from(roots[n - 1]!, 'hex'))).to.equal(true);
    }
  });

  it('needs O(log n) stored nodes for a proof in a tree of a million leaves', () => {
    const n = 1_000_000;
    for (const i of [0, 1, 499_999, 999_999]) expect(nodesFor(inclusionRanges(i, n)).length).to.be.at.most(2 * Math.ceil(Math.log2(n)));
    expect(nodesFor([...consistencyRanges(123_457, n), { start: 0, end: n }]).length).to.be.at.most(3 * Math.ceil(Math.log2(n)));
  });
});
