import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { RangeNotSatisfiable } from '../shared/errors.js';
import type { Tx } from '../shared/transaction.js';
import type { ByteRange, ObjectStore, StoredObject } from '../storage/index.js';
import { unwrapDataKey, wrapDataKey } from './key-wrap.js';
import { periodOf } from './periods.js';
import type { DataKeyRepository, KeyStore } from './ports.js';
import {
  DecryptionFailed, decryptSegments, DEFAULT_SEGMENT_BYTES, encryptSegments, HEADER_BYTES, KEY_ID_BYTES, looksEncrypted, newHeader, parseHeader, plainSize, sealedSpan,
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
   * The data key of an object: written a moment ago (pending) or unwrapped from its row; undefined when
   * it has none. `mayBePlain`: storage:encrypt holds a key for it and may not have replaced the plaintext yet.
   */
  async function dataKeyOf(storageKey: string): Promise<(DataKey & { mayBePlain?: boolean }) | undefined> {
    const p = pending.get(storageKey);
    if (p) return p;
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
    return { keyId: row.keyId, key: unwrapDataKey(kek, row.kekId, row.keyId, row.wrapped) };
  }

  /** Encrypts `body` as it streams; the SHA-256 the inner store may ask for is of what it stores. */
  function encrypting(body: Readable, dk: DataKey): { stream: Readable; sha256: () => string; plainBytes: () => number } {
    const hash = createHash('sha256');
    let plainBytes = 0;
    const counted = (async function* () {
      for await (const c of body) {
        plainBytes += (c as Buffer).length;
        yield c as Buffer;
      }
    })();
    const stream = Readable.from(
      (async function* () {
        for await (const sealed of encryptSegments(counted, dk.key, newHeader(dk.keyId, segmentBytes))) {
          hash.update(sealed);
          yield sealed;
        }
      })(),
      { objectMode: false },
    );
    let digest: string | undefined;
    return { stream, sha256: () => (digest ??= hash.digest('hex')), plainBytes: () => plainBytes };
  }

  async function decrypting(key: string, dk: (DataKey & { mayBePlain?: boolean }) | undefined, range?: ByteRange): Promise<StoredObject> {
    const head = await inner.get(key, { start: 0, end: HEADER_BYTES - 1 }).catch((err: unknown) => {
      // An empty plaintext object (no byte to range over) is read whole.
      if (err instanceof RangeNotSatisfiable) return undefined;
      throw err;
    });
    const headBytes = head ? await readAll(head.body) : Buffer.alloc(0);
    if (!looksEncrypted(headBytes)) {
      if (dk && !dk.mayBePlain) throw new DecryptionFailed('a plaintext object where an encrypted one belongs (replaced or tampered)', { storageKey: key });
      return inner.get(key, range);
    }
    if (!dk) throw new DecryptionFailed('no data key for this encrypted object: deleted, destroyed or from elsewhere', { storageKey: key });
    const header = parseHeader(headBytes);
    if (header.keyId !== dk.keyId) throw new DecryptionFailed('the object was encrypted under another data key (swapped objects)', { storageKey: key });
    const totalSealed = head!.totalBytes;
    const { plainBytes, segments } = plainSize(totalSealed, header.segmentBytes);
    const start = range?.start ?? 0;
    const end = Math.min(range?.end ?? plainBytes - 1, plainBytes - 1);
    if (range && (!Number.isSafeInteger(start) || start < 0 || start >= plainBytes || (range.end !== undefined && range.end < start))) {
      throw new RangeNotSatisfiable('range-not-satisfiable', `bytes=${start}-${range.end ?? ''} is outside the object`, { size: plainBytes });
    }
    if (plainBytes === 0) return { body: Readable.from([]), bytes: 0, totalBytes: 0, contentType: head!.contentType };
    const first = Math.floor(start / header.segmentBytes);
    const span = sealedSpan(first, Math.floor(end / header.segmentBytes), totalSealed, header.segmentBytes);
    const sealed = await inner.get(key, span);
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

  const store: ObjectStore = {
    async put(key, body, meta) {
      if (!ours(key)) return inner.put(key, body, meta);
      const dk: DataKey = { keyId: randomBytes(KEY_ID_BYTES).toString('hex'), key: randomBytes(32) };
      pending.set(key, dk);
      const { stream, sha256, plainBytes } = encrypting(body, dk);
      try {
        await inner.put(key, stream, { contentType: meta.contentType, sha256 });
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
      for (const k of gone) pending.delete(k);
      // The wrapped data key goes with the object: copies in backups become noise when their period key dies.
      if (gone.length) await dataKeys.deleteByStorageKeys(gone);
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
      const kek = await keyStore.obtain(period.id);
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
    },
  };
}

export type EncryptingStore = ReturnType<typeof createEncryptingStore>;
