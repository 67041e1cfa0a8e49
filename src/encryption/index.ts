import type { AuditLog } from '../audit-log/index.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { Transact, Tx } from '../shared/transaction.js';
import type { ObjectStore } from '../storage/index.js';
import { createDirKeyStore } from './dir-key-store.js';
import { createEncryptingStore } from './encrypting-store.js';
import type { EncryptionConfig } from './encryption-config.js';
import { createKeyShredding } from './key-shredding.js';
import { createEncryptExisting, type StoredRecording } from './encrypt-existing.js';
import { periodOf } from './periods.js';
import { createPgKeyStore } from './pg-key-store.js';
import type { DataKeyRepository, KeyStore } from './ports.js';

export type { KeyStore, DataKeyRepository, WrappedDataKey, KekRecord } from './ports.js';
export type { EncryptionConfig } from './encryption-config.js';
export type { ShredReport, KeyShredding } from './key-shredding.js';
export type { StoredRecording, EncryptExistingReport } from './encrypt-existing.js';
export { DecryptionFailed } from './segment-format.js';
export { createDirKeyStore } from './dir-key-store.js';
export { createDataKeyRepository } from './data-key-repository.js';
export { createPgKeyStore } from './pg-key-store.js';
export { periodOf } from './periods.js';

/** The key store the configuration names. */
export function createKeyStore(config: EncryptionConfig): KeyStore {
  return config.keyStore.kind === 'postgres' ? createPgKeyStore(config.keyStore.url) : createDirKeyStore(config.keyStore.dir);
}

/** Encryption at rest, wired: the encrypting store, the seal ingest calls, the re-wrap on a deadline change, the key shredding. */
export function createEncryption(deps: {
  dataKeys: DataKeyRepository;
  inner: ObjectStore;
  keyStore: KeyStore;
  periodHours: number;
  prefix: string;
  transaction: Transact;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  heldAmong: (recordingIds: string[]) => Promise<Set<string>>;
  deleteEarly: (recordingIds: string[], details: { keyPeriod: string }) => Promise<void>;
  /** For storage:encrypt: the stored recordings, page by page, and whether one is still stored. */
  storedPage: (after: string | undefined) => Promise<{ rows: StoredRecording[]; next: string | undefined }>;
  stillStored: (recordingId: string) => Promise<boolean>;
}) {
  const { dataKeys } = deps;
  const encrypting = createEncryptingStore({ inner: deps.inner, keyStore: deps.keyStore, dataKeys, periodHours: deps.periodHours, prefix: deps.prefix });
  const shredding = createKeyShredding({ ...deps, dataKeys, onKeysChanged: encrypting.forgetKeys });
  return {
    store: encrypting.store,
    keyStore: deps.keyStore,
    /** Called by ingest inside the transaction that inserts the recording row. */
    seal: encrypting.seal,
    /**
     * Re-wraps a recording's data key under the key of the period its new deadline falls in, inside the
     * caller's transaction (the one that changes the deadline), so every copy dies by the new deadline.
     * A recording without a data key (plaintext from before encryption) or under a hold key is left as it is.
     */
    rewrapForDeadline: (tx: Tx, recordingId: string, newDeadline: Date): Promise<void> => encrypting.rewrapForDeadline(tx, recordingId, newDeadline),
    /** The retention run's step: destroys the keys due at its horizon. */
    shredKeys: shredding.run,
    /**
     * Ingest's horizon: a call whose deadline's period begins before the retention horizon would have its
     * key destroyed by the next run, so it is discarded like an expired one.
     */
    ingestCutoff: (horizonCutoff: Date): Date => periodOf(horizonCutoff, deps.periodHours).end,
    dataKeys,
    /** npm run storage:encrypt: encrypts the plaintext objects of stored recordings in place (encrypt-existing.ts). */
    encryptExisting: (opts: { actor: string; onProgress?: (p: { done: number; seen: number; bytes: number }) => void; dropOlderVersions?: (key: string) => Promise<void> }) =>
      createEncryptExisting({ ...deps, store: encrypting.store, dropOlderVersions: opts.dropOlderVersions })(opts),
  };
}

export type Encryption = ReturnType<typeof createEncryption>;
