import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { AuditLog } from '../audit-log/index.js';
import type { Transact } from '../shared/transaction.js';
import type { ObjectStore } from '../storage/index.js';
import type { DataKey } from './encrypting-store.js';
import { unwrapDataKey, wrapDataKey } from './key-wrap.js';
import { periodOf } from './periods.js';
import type { DataKeyRepository, KeyStore } from './ports.js';
import { encryptSegments, KEY_ID_BYTES, looksEncrypted, newHeader } from './segment-format.js';

/** A stored recording as storage:encrypt needs it. */
export interface StoredRecording {
  id: string;
  storageKey: string;
  sha256: string | null;
  deadline: string;
}

export interface EncryptExistingReport {
  encrypted: number;
  alreadyEncrypted: number;
  skipped: { id: string; why: string }[];
}

async function sha256Of(body: Readable): Promise<{ hex: string; head: Buffer }> {
  const h = createHash('sha256');
  let head = Buffer.alloc(0);
  for await (const c of body) {
    if (head.length < 8) head = Buffer.concat([head, (c as Buffer).subarray(0, 8 - head.length)]);
    h.update(c as Buffer);
  }
  return { hex: h.digest('hex'), head };
}

/**
 * npm run storage:encrypt: encrypts the plaintext objects of stored recordings in place. Per object:
 * the wrapped data key is committed first (an intent), then the encrypted object replaces the
 * plaintext in one write (the store's own atomic replace), is read back through decryption and
 * checked against the recording's SHA-256, and only then the intent becomes its data key row, audited.
 * A crash at any step leaves either the plaintext or the encrypted object with its key at hand, and
 * the next run goes on from there; the service reads both meanwhile.
 */
export function createEncryptExisting(deps: {
  inner: ObjectStore;
  /** The encrypting store: reads an object through its intent or row. */
  store: ObjectStore;
  dataKeys: DataKeyRepository;
  keyStore: KeyStore;
  transaction: Transact;
  audit: AuditLog;
  periodHours: number;
  segmentBytes?: number;
  /** Stored recordings in a stable order, a page after `after` (an opaque cursor the lister made). */
  storedPage: (after: string | undefined) => Promise<{ rows: StoredRecording[]; next: string | undefined }>;
  stillStored: (recordingId: string) => Promise<boolean>;
  /** Versioned buckets: removes every version of `key` but the newest (the verified encrypted one). */
  dropOlderVersions?: (key: string) => Promise<void>;
}) {
  const { inner, store, dataKeys, keyStore, transaction, audit } = deps;

  async function keyFor(r: StoredRecording): Promise<DataKey | undefined> {
    const intent = await dataKeys.intentByStorageKey(r.storageKey);
    if (intent) {
      const kek = await keyStore.read(intent.kekId);
      return kek ? { keyId: intent.keyId, key: unwrapDataKey(kek, intent.kekId, intent.keyId, intent.wrapped) } : undefined;
    }
    const dk: DataKey = { keyId: randomBytes(KEY_ID_BYTES).toString('hex'), key: randomBytes(32) };
    const period = periodOf(new Date(r.deadline), deps.periodHours);
    const ok = await transaction(async (tx) => {
      const state = await dataKeys.useKek(tx, { id: period.id, kind: 'period', periodStart: period.start.toISOString() });
      if (state !== 'live') return false;
      const kek = await keyStore.obtain(period.id);
      await dataKeys.insertIntent(tx, { storageKey: r.storageKey, recordingId: r.id, keyId: dk.keyId, kekId: period.id, period: period.id, wrapped: wrapDataKey(kek, period.id, dk.keyId, dk.key) });
      return true;
    });
    return ok ? dk : undefined;
  }

  return async function encryptExisting(opts: { actor: string; onProgress?: (p: { done: number; seen: number; bytes: number }) => void }): Promise<EncryptExistingReport> {
    const report: EncryptExistingReport = { encrypted: 0, alreadyEncrypted: 0, skipped: [] };
    let after: string | undefined;
    let seen = 0;
    let bytes = 0;
    for (;;) {
      const { rows, next } = await deps.storedPage(after);
      for (const r of rows) {
        seen++;
        if (await dataKeys.byStorageKey(r.storageKey)) {
          report.alreadyEncrypted++;
          continue;
        }
        const dk = await keyFor(r);
        if (!dk) {
          report.skipped.push({ id: r.id, why: 'its deadline period key is already destroyed' });
          continue;
        }
        const head = await inner.get(r.storageKey, { start: 0, end: 7 }).then((o) => sha256Of(o.body).then((x) => x.head), () => Buffer.alloc(0));
        if (!looksEncrypted(head)) {
          const plain = await inner.get(r.storageKey);
          await inner.put(r.storageKey, Readable.from(encryptSegments(plain.body, dk.key, newHeader(dk.keyId, deps.segmentBytes))), { contentType: plain.contentType });
          bytes += plain.totalBytes;
        }
        // Read back as the service will, through the intent's key, and held to the recording's hash.
        const check = await sha256Of((await store.get(r.storageKey)).body);
        if (r.sha256 && check.hex !== r.sha256) throw new Error(`recording ${r.id}: the object does not decrypt to the recording's SHA-256 (it did not match before either, or the store altered it); stopped`);
        if (!(await deps.stillStored(r.id))) {
          // Deleted while it was being encrypted: what was written back goes too.
          await store.delete([r.storageKey]);
          continue;
        }
        await transaction(async (tx) => {
          await dataKeys.completeIntent(tx, r.storageKey);
          await audit.append(tx, { actor: opts.actor, action: 'storage.object-encrypted', subject: `recording:${r.id}`, details: { recordingId: r.id, storageKey: r.storageKey, keyId: dk.keyId } });
        });
        await deps.dropOlderVersions?.(r.storageKey);
        report.encrypted++;
        opts.onProgress?.({ done: report.encrypted, seen, bytes });
      }
      if (!next) break;
      after = next;
    }
    return report;
  };
}
