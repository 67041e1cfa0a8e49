import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * The streaming segment format of an encrypted object (docs/encryption.md names every byte):
 *
 *   header  = magic "GALLRAES" (8) ‖ version 0x01 (1) ‖ key id (16) ‖ segment size, u32 BE (4) ‖ nonce prefix (7)
 *   segment = AES-256-GCM(data key, nonce, aad = header, plaintext segment) ‖ tag (16)
 *   nonce   = nonce prefix (7) ‖ segment index, u32 BE (4) ‖ 0x01 for the last segment, else 0x00 (1)
 *
 * Every segment but the last holds exactly `segment size` plaintext bytes; the last holds 1..size
 * (0 only when the whole plaintext is empty). As in Tink's streaming AEAD and age's STREAM, the index
 * and the last-segment flag in the nonce make truncation, reordering and a segment from another
 * object fail authentication; the header as AAD binds every segment to this header.
 */
export const MAGIC = Buffer.from('GALLRAES', 'ascii');
export const VERSION = 1;
export const HEADER_BYTES = 36;
export const TAG_BYTES = 16;
export const KEY_ID_BYTES = 16;
export const NONCE_PREFIX_BYTES = 7;
export const DEFAULT_SEGMENT_BYTES = 64 * 1024;
const MAX_SEGMENTS = 2 ** 32;

export interface SegmentHeader {
  version: number;
  /** 16 bytes, hex: names the data key (a row of recording_data_keys). */
  keyId: string;
  segmentBytes: number;
  noncePrefix: Buffer;
  /** The header's own bytes (the AAD of every segment). */
  raw: Buffer;
}

/** The object cannot be decrypted as it is: a flipped bit, a cut, a swapped segment, a wrong key. Never partial audio. */
export class DecryptionFailed extends Error {
  constructor(message: string, readonly details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'DecryptionFailed';
  }
}

export function newHeader(keyId: string, segmentBytes = DEFAULT_SEGMENT_BYTES): SegmentHeader {
  const id = Buffer.from(keyId, 'hex');
  if (id.length !== KEY_ID_BYTES) throw new Error('a key id is 16 bytes, hex');
  const raw = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(raw, 0);
  raw.writeUInt8(VERSION, 8);
  id.copy(raw, 9);
  raw.writeUInt32BE(segmentBytes, 25);
  const noncePrefix = randomBytes(NONCE_PREFIX_BYTES);
  noncePrefix.copy(raw, 29);
  return { version: VERSION, keyId, segmentBytes, noncePrefix, raw };
}

/** Whether the bytes begin like an encrypted object (a plaintext recording starts with its audio format's magic). */
export function looksEncrypted(head: Buffer): boolean {
  return head.length >= MAGIC.length && head.subarray(0, MAGIC.length).equals(MAGIC);
}

export function parseHeader(raw: Buffer): SegmentHeader {
  if (raw.length < HEADER_BYTES || !looksEncrypted(raw)) throw new DecryptionFailed('not an encrypted object (no header)');
  const version = raw.readUInt8(8);
  if (version !== VERSION) throw new DecryptionFailed(`unknown format version ${version}`, { version });
  const segmentBytes = raw.readUInt32BE(25);
  if (segmentBytes < 1024 || segmentBytes > 16 * 1024 * 1024) throw new DecryptionFailed(`implausible segment size ${segmentBytes}`, { segmentBytes });
  const own = Buffer.from(raw.subarray(0, HEADER_BYTES));
  return { version, keyId: own.subarray(9, 25).toString('hex'), segmentBytes, noncePrefix: own.subarray(29, 36), raw: own };
}

function nonceOf(prefix: Buffer, index: number, last: boolean): Buffer {
  if (index >= MAX_SEGMENTS) throw new Error('too many segments');
  const n = Buffer.alloc(12);
  prefix.copy(n, 0);
  n.writeUInt32BE(index, 7);
  n.writeUInt8(last ? 1 : 0, 11);
  return n;
}

export function sealSegment(key: Buffer, header: SegmentHeader, index: number, last: boolean, plain: Buffer): Buffer {
  return Buffer.concat(sealSegmentParts(key, header, index, last, plain));
}

/** A sealed segment as its ciphertext and its tag, to be written one after the other (no copy). */
export function sealSegmentParts(key: Buffer, header: SegmentHeader, index: number, last: boolean, plain: Buffer): [Buffer, Buffer] {
  const c = createCipheriv('aes-256-gcm', key, nonceOf(header.noncePrefix, index, last));
  c.setAAD(header.raw);
  const body = c.update(plain);
  c.final();
  return [body, c.getAuthTag()];
}

export function openSegment(key: Buffer, header: SegmentHeader, index: number, last: boolean, sealed: Buffer): Buffer {
  if (sealed.length < TAG_BYTES) throw new DecryptionFailed(`segment ${index} is shorter than its tag`, { segment: index });
  const d = createDecipheriv('aes-256-gcm', key, nonceOf(header.noncePrefix, index, last));
  d.setAAD(header.raw);
  d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  const plain = d.update(sealed.subarray(0, sealed.length - TAG_BYTES));
  try {
    d.final();
  } catch {
    throw new DecryptionFailed(`segment ${index} failed authentication (altered, truncated, reordered or the wrong key)`, { segment: index });
  }
  return plain;
}

/** The encrypted size of `plainBytes` bytes. */
export function encryptedSize(plainBytes: number, segmentBytes = DEFAULT_SEGMENT_BYTES): number {
  const segments = Math.max(1, Math.ceil(plainBytes / segmentBytes));
  return HEADER_BYTES + plainBytes + segments * TAG_BYTES;
}

/** The plaintext size and segment count of an encrypted object of `totalBytes`; DecryptionFailed when no plaintext has that size. */
export function plainSize(totalBytes: number, segmentBytes: number): { plainBytes: number; segments: number } {
  const body = totalBytes - HEADER_BYTES;
  if (body < TAG_BYTES) throw new DecryptionFailed('the object is truncated (shorter than one segment)', { totalBytes });
  const sealedSegment = segmentBytes + TAG_BYTES;
  const segments = Math.ceil(body / sealedSegment);
  const rest = body - (segments - 1) * sealedSegment;
  if (rest === TAG_BYTES && segments > 1) throw new DecryptionFailed('the object is truncated (an empty last segment)', { totalBytes });
  return { plainBytes: body - segments * TAG_BYTES, segments };
}

/**
 * Encrypts a stream segment by segment: holds at most one segment, never the whole object. The header
 * comes first; the last segment is only sealed (with its flag) once the source has ended.
 */
export async function* encryptSegments(source: AsyncIterable<Buffer | Uint8Array | string>, key: Buffer, header: SegmentHeader): AsyncGenerator<Buffer> {
  yield header.raw;
  const size = header.segmentBytes;
  let buf = Buffer.allocUnsafe(size);
  let filled = 0;
  let index = 0;
  for await (const raw of source) {
    let chunk = typeof raw === 'string' ? Buffer.from(raw) : Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    while (chunk.length) {
      if (filled === size) {
        // More follows, so the full buffer is not the last segment.
        yield sealSegment(key, header, index++, false, buf);
        buf = Buffer.allocUnsafe(size);
        filled = 0;
      }
      const n = Math.min(size - filled, chunk.length);
      chunk.copy(buf, filled, 0, n);
      filled += n;
      chunk = chunk.subarray(n);
    }
  }
  yield sealSegment(key, header, index, true, buf.subarray(0, filled));
}

/** Where the sealed segments `first..last` lie in the object (inclusive byte offsets). */
export function sealedSpan(first: number, last: number, totalBytes: number, segmentBytes: number): { start: number; end: number } {
  const sealed = segmentBytes + TAG_BYTES;
  return { start: HEADER_BYTES + first * sealed, end: Math.min(totalBytes, HEADER_BYTES + (last + 1) * sealed) - 1 };
}

/**
 * Decrypts the plaintext bytes `start..end` (inclusive) from `sealed`, the sealed segments
 * `first..` read from the object, each authenticated before any of its bytes is given out.
 */
export async function* decryptSegments(
  sealed: AsyncIterable<Buffer | Uint8Array>,
  key: Buffer,
  header: SegmentHeader,
  layout: { first: number; segments: number; start: number; end: number },
): AsyncGenerator<Buffer> {
  const size = header.segmentBytes;
  const sealedSize = size + TAG_BYTES;
  const lastWanted = Math.floor(layout.end / size);
  let index = layout.first;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const emit = (seg: Buffer): Buffer | null => {
    const plain = openSegment(key, header, index, index === layout.segments - 1, seg);
    const segStart = index * size;
    const from = Math.max(0, layout.start - segStart);
    const to = Math.min(plain.length, layout.end - segStart + 1);
    index++;
    return to > from ? plain.subarray(from, to) : null;
  };
  for await (const raw of sealed) {
    const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    pending.push(chunk);
    pendingBytes += chunk.length;
    while (pendingBytes >= sealedSize && index <= lastWanted) {
      const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      const out = emit(all.subarray(0, sealedSize));
      const rest = all.subarray(sealedSize);
      pending = rest.length ? [rest] : [];
      pendingBytes = rest.length;
      if (out) yield out;
    }
  }
  if (index <= lastWanted) {
    if (index !== layout.segments - 1 || pendingBytes === 0) throw new DecryptionFailed(`the object ends before segment ${index}`, { segment: index });
    const out = emit(Buffer.concat(pending, pendingBytes));
    if (out) yield out;
  }
}

/**
 * The same encryption as `encryptSegments`, as a Transform: no async hops per chunk, for the ingest
 * path where every upload streams through it. Holds at most one segment.
 */
export class SegmentEncryptor extends Transform {
  private buf: Buffer;
  private filled = 0;
  private index = 0;
  private started = false;
  /** Plaintext bytes taken in so far. */
  plainBytes = 0;

  constructor(
    private readonly key: Buffer,
    private readonly header: SegmentHeader,
  ) {
    super();
    this.buf = Buffer.allocUnsafe(header.segmentBytes);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      if (!this.started) {
        this.started = true;
        this.push(this.header.raw);
      }
      this.plainBytes += chunk.length;
      const size = this.header.segmentBytes;
      while (chunk.length) {
        if (this.filled === size) {
          // More follows, so the full buffer is not the last segment.
          for (const part of sealSegmentParts(this.key, this.header, this.index++, false, this.buf)) this.push(part);
          this.filled = 0; // the cipher copied what it needed: the buffer is free again
        }
        const n = Math.min(size - this.filled, chunk.length);
        chunk.copy(this.buf, this.filled, 0, n);
        this.filled += n;
        chunk = chunk.subarray(n);
      }
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      if (!this.started) this.push(this.header.raw);
      for (const part of sealSegmentParts(this.key, this.header, this.index, true, this.buf.subarray(0, this.filled))) this.push(part);
      done();
    } catch (err) {
      done(err as Error);
    }
  }
}
