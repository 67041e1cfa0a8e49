import type { Tx } from '../shared/transaction.js';

/**
 * Where key-encryption keys (period keys, hold keys) live: apart from the database and the object
 * store, so that no backup of either carries them. A KMS or Vault adapter can follow this port.
 */
export interface KeyStore {
  /**
   * The 32-byte key named `id`, made (random) if there is none. Creation is atomic: when several
   * instances ask at once, the first writer wins and every caller gets that one key.
   */
  obtain(id: string): Promise<Buffer>;
  /** The key, or null when it does not exist (never made, or destroyed). */
  read(id: string): Promise<Buffer | null>;
  /** Destroys the key beyond recovery by this store (overwritten where the medium allows, removed, synced). A key already gone counts. */
  destroy(id: string): Promise<void>;
  /** Ids of the keys it holds. */
  list(): Promise<string[]>;
  close(): Promise<void>;
}

/** One recording's data key, wrapped. */
export interface WrappedDataKey {
  storageKey: string;
  recordingId: string;
  /** 16 bytes hex, as in the object's header. */
  keyId: string;
  /** The key-encryption key it is wrapped under: `period-…` or `hold-…`. */
  kekId: string;
  /** The deadline period it was first wrapped for (kept when re-wrapped under a hold key). */
  period: string;
  wrapped: Buffer;
}

export type KekState = 'live' | 'destroying' | 'destroyed';

export interface KekRecord {
  id: string;
  kind: 'period' | 'hold';
  /** Period keys: the period's first instant (ISO); null for hold keys. */
  periodStart: string | null;
  /** Data keys ever wrapped under it. */
  covered: number;
  state: KekState;
}

/** The capability's tables: recording_data_keys and encryption_keys. */
export interface DataKeyRepository {
  insert(tx: Tx, row: WrappedDataKey): Promise<void>;
  byStorageKey(storageKey: string): Promise<WrappedDataKey | undefined>;
  byRecordingId(tx: Tx | undefined, recordingId: string): Promise<WrappedDataKey | undefined>;
  underKek(kekId: string, tx?: Tx): Promise<WrappedDataKey[]>;
  rewrap(tx: Tx, storageKey: string, kekId: string, wrapped: Buffer): Promise<void>;
  deleteByStorageKeys(storageKeys: string[], tx?: Tx): Promise<void>;
  deleteUnderKek(tx: Tx, kekId: string): Promise<number>;
  /** Counts one more data key under `kekId` (made live if new); returns its state, locked for the transaction. */
  useKek(tx: Tx, kek: { id: string; kind: 'period' | 'hold'; periodStart: string | null }): Promise<KekState>;
  kek(id: string, tx?: Tx): Promise<KekRecord | undefined>;
  /** Period keys (live or destroying) whose period begins at or before `cutoff`, and hold keys being destroyed or with no data key left. */
  keksDue(cutoff: string): Promise<KekRecord[]>;
  /** storage:encrypt: the data key of an object about to be encrypted in place, durable before the object is replaced. */
  insertIntent(tx: Tx, row: WrappedDataKey): Promise<void>;
  intentByStorageKey(storageKey: string): Promise<WrappedDataKey | undefined>;
  /** The encrypted object is verified: its intent becomes its data key row. */
  completeIntent(tx: Tx, storageKey: string): Promise<void>;
  dropIntent(tx: Tx, storageKey: string): Promise<void>;
  /** live → destroying; false when it was not live. */
  markDestroying(tx: Tx, id: string): Promise<boolean>;
  /** destroying → destroyed; false when it was not destroying (another process finished it). */
  markDestroyed(tx: Tx, id: string, at: string): Promise<boolean>;
}
