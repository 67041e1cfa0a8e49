import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RangeNotSatisfiable } from '../shared/errors.js';
import type { Tx } from '../shared/transaction.js';
import type { ByteRange, ObjectStore, StoredObject } from '../storage/index.js';
import { unwrapDataKey, wrapDataKey } from './key-wrap.js';
import { periodOf } from './periods.js';
import type { DataKeyRepository, KeyStore } from './ports.js';
import {
  DecryptionFailed, decryptSegments, DEFAULT_SEGMENT_BYTES, HEADER_BYTES, SegmentEncryptor, KEY_ID_BYTES, looksEncrypted, newHeader, parseHeader, plainSize, sealedSpan, TAG_BYTES,
} from './segment-format.js';

export interface EncryptionDeps {
  inner: ObjectStore;
  keyStore: KeyStore;
  dataKeys: DataKeyRepository;
  /** Hours per deadline period (KEY_PERIOD_HOURS). */
  periodHours: number;
  /** Only objects under this prefix (the recordings) are encrypted; audit checkpoints and the like pass through. */
  prefix: string;
  segmentBytes?: number;
}

export interface DataKey {
  keyId: string;
  key: Buffer;
}

async function readAll(body: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/**
 * The ObjectStore decorator that encrypts recordings before their first byte reaches the store it
 * wraps (so no temp file, multipart part or version ever holds plaintext), and decrypts on the way
 * out, reading only the segments a range touches. A data key lives in memory from `put` until
 * `seal` wraps it into recording_data_keys inside the recording's own transaction.
 */
export function createEncryptingStore(deps: EncryptionDeps) {
  const { inner, keyStore, dataKeys, prefix } = deps;
  const segmentBytes = deps.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  const pending = new Map<string, DataKey>();
  const ours = (key: string) => key.startsWith(prefix);
  /**
   * Unwrapped data keys and period keys recently used, so that a player's range requests and a burst of
   * ingests do not read the database and the key store each time. Short-lived (another instance may
   * destroy a key), bounded, and emptied here whenever this process destroys or deletes a key.
   */
  const CACHE_MS = 60_000;
  const CACHE_MAX = 1024;
  const dataKeyCache = new Map<string, { dk: DataKey; at: number }>();
  const kekCache = new Map<string, { key: Buffer; at: number }>();
  const cached = <T extends { at: number }>(m: Map<string, T>, k: string): T | undefined => {
    const e = m.get(k);
    if (e && performance.now() - e.at < CACHE_MS) return e;
    if (e) m.delete(k);
    return undefined;
  };
  const remember = <T extends { at: number }>(m: Map<string, T>, k: string, v: T) => {
    if (m.size >= CACHE_MAX) m.delete(m.keys().next().value!);
    m.set(k, v);
  };
  const obtainKek = async (id: string): Promise<Buffer> => {
    const hit = cached(kekCache, id);
    if (hit) return hit.key;
    const key = await keyStore.obtain(id);
    remember(kekCache, id, { key, at: performance.now() });
    return key;
  };

  /**
   * The data key of an object: written a moment ago (pending) or unwrapped from its row; undefined when
   * it has none. `mayBePlain`: storage:encrypt holds a key for it and may not have replaced the plaintext yet.
   */
  async function dataKeyOf(storageKey: string): Promise<(DataKey & { mayBePlain?: boolean }) | undefined> {
    const p = pending.get(storageKey);
    if (p) return p;
    const hit = cached(dataKeyCache, storageKey);
    if (hit) return hit.dk;
    let row = await dataKeys.byStorageKey(storageKey);
    let mayBePlain = false;
    if (!row) {
      row = await dataKeys.intentByStorageKey(storageKey);
      mayBePlain = true;
    }
    if (!row) return undefined;
    if (mayBePlain) {
      const kek = await keyStore.read(row.kekId);
      return kek ? { keyId: row.keyId, key: unwrapDataKey(kek, row.kekId, row.keyId, row.wrapped), mayBePlain } : undefined;
    }
    const kek = await keyStore.read(row.kekId);
    if (!kek) throw new DecryptionFailed(`the key ${row.kekId} that opens this recording is destroyed`, { kekId: row.kekId });
    const dk = { keyId: row.keyId, key: unwrapDataKey(kek, row.kekId, row.keyId, row.wrapped) };
    remember(dataKeyCache, storageKey, { dk, at: performance.now() });
    return dk;
  }

  /**
   * Encrypts `body` as it streams. No SHA-256 is offered to the inner store: the plaintext's is not what
   * it stores, and a store that needs one (S3's signed single-part payload) hashes what it sends itself.
   */
  function encrypting(body: Readable, dk: DataKey): { stream: Readable; plainBytes: () => number } {
    const encryptor = new SegmentEncryptor(dk.key, newHeader(dk.keyId, segmentBytes));
    // The inner store owns the encrypted stream: a failed body fails it, a failed store destroys the body.
    pipeline(body, encryptor).catch(() => undefined);
    return { stream: encryptor, plainBytes: () => encryptor.plainBytes };
  }

  async function decrypting(key: string, dk: (DataKey & { mayBePlain?: boolean }) | undefined, range?: ByteRange): Promise<StoredObject> {
    // The segments a range needs are asked for beside the header, assuming the segment size gallra
    // writes (one round trip, not two); a header that says otherwise is read again below.
    const guess = dk && range ? guessSpan(range) : undefined;
    const early = guess ? inner.get(key, guess.span).then((o) => ({ o }), (err: unknown) => ({ err })) : undefined;
    const head = await inner.get(key, { start: 0, end: HEADER_BYTES - 1 }).catch((err: unknown) => {
      // An empty plaintext object (no byte to range over) is read whole.
      if (err instanceof RangeNotSatisfiable) return undefined;
      throw err;
    });
    const headBytes = head ? await readAll(head.body) : Buffer.alloc(0);
    const drop = () => void early?.then((r) => ('o' in r ? r.o.body.destroy() : undefined));
    if (!looksEncrypted(headBytes)) drop();
    if (!looksEncrypted(headBytes)) {
      if (dk && !dk.mayBePlain) throw new DecryptionFailed('a plaintext object where an encrypted one belongs (replaced or tampered)', { storageKey: key });
      return inner.get(key, range);
    }
    if (!dk) throw new DecryptionFailed('no data key for this encrypted object: deleted, destroyed or from elsewhere', { storageKey: key });
    let header;
    try {
      header = parseHeader(headBytes);
      if (header.keyId !== dk.keyId) throw new DecryptionFailed('the object was encrypted under another data key (swapped objects)', { storageKey: key });
    } catch (err) {
      drop();
      throw err;
    }
    const totalSealed = head!.totalBytes;
    const { plainBytes, segments } = plainSize(totalSealed, header.segmentBytes);
    const start = range?.start ?? 0;
    const end = Math.min(range?.end ?? plainBytes - 1, plainBytes - 1);
    if (range && (!Number.isSafeInteger(start) || start < 0 || start >= plainBytes || (range.end !== undefined && range.end < start))) {
      drop();
      throw new RangeNotSatisfiable('range-not-satisfiable', `bytes=${start}-${range.end ?? ''} is outside the object`, { size: plainBytes });
    }
    if (plainBytes === 0) {
      drop();
      return { body: Readable.from([]), bytes: 0, totalBytes: 0, contentType: head!.contentType };
    }
    const first = Math.floor(start / header.segmentBytes);
    const span = sealedSpan(first, Math.floor(end / header.segmentBytes), totalSealed, header.segmentBytes);
    let sealed: StoredObject;
    const got = await early;
    if (got && 'o' in got && header.segmentBytes === segmentBytes && got.o.bytes === span.end - span.start + 1 && guess!.span.start === span.start) {
      sealed = got.o;
    } else {
      if (got && 'o' in got) got.o.body.destroy();
      sealed = await inner.get(key, span);
    }
    const plain = decryptSegments(sealed.body, dk.key, header, { first, segments, start, end });
    // The first segment is authenticated before the caller sees anything: a wrong key or an altered
    // start is an error before any header is sent, never a stream of wrong audio.
    let primed: IteratorResult<Buffer>;
    try {
      primed = await plain.next();
    } catch (err) {
      sealed.body.destroy();
      throw err;
    }
    const body = Readable.from(
      (async function* () {
        if (!primed.done) yield primed.value;
        yield* plain;
      })(),
      { objectMode: false },
    );
    return { body, bytes: end - start + 1, totalBytes: plainBytes, contentType: sealed.contentType };
  }

  /** Where the segments of `range` lie if the object has gallra's segment size (its end clamped by the store). */
  function guessSpan(range: ByteRange): { span: { start: number; end: number } } | undefined {
    if (!Number.isSafeInteger(range.start) || range.start < 0) return undefined;
    const sealedSize = segmentBytes + TAG_BYTES;
    const first = Math.floor(range.start / segmentBytes);
    const last = range.end === undefined ? undefined : Math.floor(range.end / segmentBytes);
    if (last === undefined || last < first) return undefined;
    return { span: { start: HEADER_BYTES + first * sealedSize, end: HEADER_BYTES + (last + 1) * sealedSize - 1 } };
  }

  const store: ObjectStore = {
    async put(key, body, meta) {
      if (!ours(key)) return inner.put(key, body, meta);
      const dk: DataKey = { keyId: randomBytes(KEY_ID_BYTES).toString('hex'), key: randomBytes(32) };
      pending.set(key, dk);
      const { stream, plainBytes } = encrypting(body, dk);
      try {
        await inner.put(key, stream, { contentType: meta.contentType });
      } catch (err) {
        pending.delete(key);
        throw err;
      }
      return { bytes: plainBytes() };
    },
    create: (key, body, meta) => inner.create(key, body, meta),
    async get(key, range) {
      if (!ours(key)) return inner.get(key, range);
      return decrypting(key, await dataKeyOf(key), range);
    },
    async delete(keys) {
      const result = await inner.delete(keys);
      const gone = result.deleted.filter(ours);
      // An object whose data key was never sealed (its ingest failed before the transaction) has no
      // row: its clean-up must not wait on a database that may be the very thing that failed.
      const sealed = gone.filter((k) => !pending.has(k));
      for (const k of gone) {
        pending.delete(k);
        dataKeyCache.delete(k);
      }
      // The wrapped data key goes with the object: copies in backups become noise when their period key dies.
      if (sealed.length) await dataKeys.deleteByStorageKeys(sealed);
      return result;
    },
    exists: (key) => inner.exists(key),
    list: (p) => inner.list(p),
    leftovers: (p, olderThan) => inner.leftovers(p, olderThan),
    removeLeftovers: (ids) => inner.removeLeftovers(ids),
    ping: () => inner.ping(),
  };

  return {
    store,
    dataKeyOf,
    /** Empties the caches: a key was destroyed or re-wrapped in this process. */
    forgetKeys(): void {
      dataKeyCache.clear();
      kekCache.clear();
    },
    /**
     * Wraps the data key of a recording just stored under its deadline period's key, in the
     * transaction that inserts the recording row. Refuses a period whose key is being or has been destroyed.
     */
    async seal(tx: Tx, r: { recordingId: string; storageKey: string; deadline: Date }): Promise<void> {
      const dk = pending.get(r.storageKey);
      if (!dk) throw new Error(`no data key in hand for ${r.storageKey}`);
      const period = periodOf(r.deadline, deps.periodHours);
      const state = await dataKeys.useKek(tx, { id: period.id, kind: 'period', periodStart: period.start.toISOString() });
      if (state !== 'live') throw new DecryptionFailed(`the key of period ${period.id} is already destroyed; a recording due then cannot be kept`, { period: period.id });
      const kek = await obtainKek(period.id);
      await dataKeys.insert(tx, { storageKey: r.storageKey, recordingId: r.recordingId, keyId: dk.keyId, kekId: period.id, period: period.id, wrapped: wrapDataKey(kek, period.id, dk.keyId, dk.key) });
      pending.delete(r.storageKey);
    },
    /** Re-wraps a recording's data key when its deadline changes, in the caller's transaction (see index.ts). */
    async rewrapForDeadline(tx: Tx, recordingId: string, newDeadline: Date): Promise<void> {
      const row = await dataKeys.byRecordingId(tx, recordingId);
      if (!row) return; // a plaintext recording (before storage:encrypt), or one already deleted
      const period = periodOf(newDeadline, deps.periodHours);
      if (row.kekId === period.id || row.kekId.startsWith('hold-')) return;
      const state = await dataKeys.useKek(tx, { id: period.id, kind: 'period', periodStart: period.start.toISOString() });
      if (state !== 'live') throw new DecryptionFailed(`the key of period ${period.id} is already destroyed`, { period: period.id });
      const old = await keyStore.read(row.kekId);
      if (!old) throw new DecryptionFailed(`the key ${row.kekId} of this recording is destroyed`, { kekId: row.kekId });
      const dataKey = unwrapDataKey(old, row.kekId, row.keyId, row.wrapped);
      const kek = await keyStore.obtain(period.id);
      await dataKeys.rewrap(tx, row.storageKey, period.id, wrapDataKey(kek, period.id, row.keyId, dataKey));
      dataKeyCache.delete(row.storageKey);
    },
  };
}

export type EncryptingStore = ReturnType<typeof createEncryptingStore>;
