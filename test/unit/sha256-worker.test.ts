import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { createSha256Worker } from '../../src/subject-requests/sha256-worker.js';

const sha256 = (...parts: Buffer[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest('hex');

describe('the SHA-256 worker', () => {
  it('gives the digest of every byte handed over, across batch boundaries and for streams interleaved', async () => {
    // Small batches and a small bound, so that batches fill, split chunks, travel and come back many times.
    const hasher = createSha256Worker({ batchBytes: 1000, maxUnhashed: 4000 });
    try {
      const a = [randomBytes(1), randomBytes(999), randomBytes(1001), randomBytes(0), randomBytes(4567), randomBytes(3)];
      const b = [randomBytes(2500), randomBytes(10), randomBytes(1000), randomBytes(7777)];
      for (let i = 0; i < Math.max(a.length, b.length); i++) {
        if (a[i]) await hasher.update('a', a[i]!);
        if (b[i]) await hasher.update('b', b[i]!);
      }
      expect(await hasher.digest('a')).to.equal(sha256(...a));
      expect(await hasher.digest('b')).to.equal(sha256(...b));
      // A digest starts that id afresh; an id never updated is the empty digest.
      const c = randomBytes(1500);
      await hasher.update('a', c);
      expect(await hasher.digest('a')).to.equal(sha256(c));
      expect(await hasher.digest('none')).to.equal(sha256());
    } finally {
      await hasher.close();
    }
  });

  it('keeps the chunk it was given intact (it hashes a copy)', async () => {
    const hasher = createSha256Worker({ batchBytes: 64 });
    try {
      const chunk = randomBytes(200);
      const before = Buffer.from(chunk);
      await hasher.update('x', chunk);
      expect(await hasher.digest('x')).to.equal(sha256(before));
      expect(chunk.equals(before)).to.equal(true);
    } finally {
      await hasher.close();
    }
  });
});
