import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import fc from 'fast-check';
import {
  DecryptionFailed, decryptSegments, encryptedSize, encryptSegments, HEADER_BYTES, newHeader, parseHeader, plainSize, SegmentEncryptor, sealedSpan, TAG_BYTES,
} from '../../src/encryption/segment-format.js';

const SEG = 4096;

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const b of it) out.push(b);
  return Buffer.concat(out);
}

async function encrypt(plain: Buffer, key: Buffer, chunk = 1000): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < plain.length; i += chunk) chunks.push(plain.subarray(i, i + chunk));
  return collect(encryptSegments(Readable.from(chunks), key, newHeader(randomBytes(16).toString('hex'), SEG)));
}

/** Decrypts start..end the way the store decorator does: header, then only the segments the range touches. */
async function decryptRange(object: Buffer, key: Buffer, start: number, end: number): Promise<Buffer> {
  const header = parseHeader(object.subarray(0, HEADER_BYTES));
  const { segments } = plainSize(object.length, header.segmentBytes);
  const first = Math.floor(start / header.segmentBytes);
  const span = sealedSpan(first, Math.floor(end / header.segmentBytes), object.length, header.segmentBytes);
  return collect(decryptSegments(Readable.from([object.subarray(span.start, span.end + 1)]), key, header, { first, segments, start, end }));
}

describe('encryption: the streaming segment format', () => {
  const key = randomBytes(32);

  it('round-trips any length, and its size is header + plaintext + one tag per segment', async () => {
    for (const n of [0, 1, SEG - 1, SEG, SEG + 1, 3 * SEG, 3 * SEG + 17]) {
      const plain = randomBytes(n);
      const object = await encrypt(plain, key);
      expect(object.length).to.equal(encryptedSize(n, SEG));
      expect(plainSize(object.length, SEG).plainBytes).to.equal(n);
      if (n) expect(await decryptRange(object, key, 0, n - 1)).to.deep.equal(plain);
    }
    expect(encryptedSize(0, SEG)).to.equal(HEADER_BYTES + TAG_BYTES);
  });

  it('writes the same format as a Transform (the ingest path) as the generator does', async () => {
    for (const n of [0, 5, SEG, 3 * SEG + 1]) {
      const plain = randomBytes(n);
      const enc = new SegmentEncryptor(key, newHeader(randomBytes(16).toString('hex'), SEG));
      const chunks = [];
      for (let i = 0; i < n; i += 999) chunks.push(plain.subarray(i, i + 999));
      const object = await collect(Readable.from(chunks).pipe(enc));
      expect(object.length).to.equal(encryptedSize(n, SEG));
      expect(enc.plainBytes).to.equal(n);
      if (n) expect(await decryptRange(object, key, 0, n - 1)).to.deep.equal(plain);
    }
  });

  it('returns exactly the plaintext of any byte range, reading only the segments it touches', async () => {
    const plain = randomBytes(5 * SEG + 123);
    const object = await encrypt(plain, key, 777);
    await fc.assert(
      fc.asyncProperty(fc.nat(plain.length - 1), fc.nat(plain.length - 1), async (a, b) => {
        const [s, e] = a <= b ? [a, b] : [b, a];
        expect((await decryptRange(object, key, s, e)).equals(plain.subarray(s, e + 1))).to.equal(true);
      }),
      { numRuns: 60 },
    );
    // Across a segment border, at the start, at the end.
    for (const [s, e] of [[SEG - 5, SEG + 5], [0, 9], [plain.length - 10, plain.length - 1], [2 * SEG, 2 * SEG]] as const) {
      expect(await decryptRange(object, key, s, e)).to.deep.equal(plain.subarray(s, e + 1));
    }
  });

  it('refuses a flipped bit, a truncation, a swapped or reordered segment and a wrong key with DecryptionFailed', async () => {
    const plain = randomBytes(4 * SEG + 10);
    const object = await encrypt(plain, key);
    const whole = (o: Buffer, k = key) => decryptRange(o, k, 0, plainSize(o.length, SEG).plainBytes - 1);
    const sealed = SEG + TAG_BYTES;
    const seg = (o: Buffer, i: number) => o.subarray(HEADER_BYTES + i * sealed, HEADER_BYTES + (i + 1) * sealed);

    const flipped = Buffer.from(object);
    flipped[HEADER_BYTES + 2 * sealed + 100]! ^= 0x01;
    const headerFlipped = Buffer.from(object);
    headerFlipped[30]! ^= 0x01;
    const truncatedAtBorder = object.subarray(0, HEADER_BYTES + 3 * sealed);
    const truncatedInside = object.subarray(0, object.length - 3);
    const reordered = Buffer.concat([object.subarray(0, HEADER_BYTES), seg(object, 1), seg(object, 0), object.subarray(HEADER_BYTES + 2 * sealed)]);
    const other = await encrypt(plain, key);
    const swapped = Buffer.concat([object.subarray(0, HEADER_BYTES + sealed), seg(other, 1), object.subarray(HEADER_BYTES + 2 * sealed)]);
    for (const [what, o, k] of [
      ['flipped bit', flipped, key],
      ['flipped header bit', headerFlipped, key],
      ['truncated at a segment border', truncatedAtBorder, key],
      ['truncated inside a segment', truncatedInside, key],
      ['reordered', reordered, key],
      ['swapped from another object', swapped, key],
      ['wrong key', object, randomBytes(32)],
    ] as const) {
      let failed: unknown;
      const got = await whole(o, k).catch((err: unknown) => (failed = err));
      expect(failed, `${what}: ${Buffer.isBuffer(got) ? 'decrypted' : ''}`).to.be.instanceOf(DecryptionFailed);
      expect((failed as Error).message).to.match(/authentication|truncated|ends before/);
    }
  });
});
