import { handleOf, toNumber, trxOf, type Database } from '../shared/database.js';
import type { Tx } from '../shared/transaction.js';
import type { DataKeyRepository, KekRecord, KekState, WrappedDataKey } from './ports.js';

const fromRow = (r: Record<string, unknown>): WrappedDataKey => ({
  storageKey: r.storage_key as string,
  recordingId: r.recording_id as string,
  keyId: r.key_id as string,
  kekId: r.kek_id as string,
  period: r.period as string,
  wrapped: Buffer.from(r.wrapped_key as Uint8Array),
});

const kekOf = (r: Record<string, unknown>): KekRecord => ({
  id: r.id as string,
  kind: r.kind as KekRecord['kind'],
  periodStart: (r.period_start as string | null) ?? null,
  covered: toNumber(r.covered),
  state: r.state as KekState,
});

export function createDataKeyRepository(db: Database, now: () => Date = () => new Date()): DataKeyRepository {
  return {
    async insert(tx, k) {
      const at = now().toISOString();
      await trxOf(tx)('recording_data_keys').insert({
        storage_key: k.storageKey, recording_id: k.recordingId, key_id: k.keyId, kek_id: k.kekId, period: k.period, wrapped_key: k.wrapped, created_at: at, updated_at: at,
      });
    },
    async byStorageKey(storageKey) {
      const r = await db('recording_data_keys').where({ storage_key: storageKey }).first();
      return r ? fromRow(r) : undefined;
    },
    async byRecordingId(tx, recordingId) {
      const r = await handleOf(db, tx)('recording_data_keys').where({ recording_id: recordingId }).first();
      return r ? fromRow(r) : undefined;
    },
    async underKek(kekId, tx) {
      return (await handleOf(db, tx)('recording_data_keys').where({ kek_id: kekId }).orderBy('storage_key')).map(fromRow);
    },
    async rewrap(tx, storageKey, kekId, wrapped) {
      await trxOf(tx)('recording_data_keys').where({ storage_key: storageKey }).update({ kek_id: kekId, wrapped_key: wrapped, ...(kekId.startsWith('period-') ? { period: kekId } : {}), updated_at: now().toISOString() });
    },
    async deleteByStorageKeys(storageKeys, tx) {
      for (let i = 0; i < storageKeys.length; i += 500) {
        const some = storageKeys.slice(i, i + 500);
        await handleOf(db, tx)('recording_data_keys').whereIn('storage_key', some).delete();
        await handleOf(db, tx)('encryption_intents').whereIn('storage_key', some).delete();
      }
    },
    async deleteUnderKek(tx, kekId) {
      return trxOf(tx)('recording_data_keys').where({ kek_id: kekId }).delete();
    },
    async useKek(tx, kek) {
      const trx = trxOf(tx);
      await trx('encryption_keys')
        .insert({ id: kek.id, kind: kek.kind, period_start: kek.periodStart, covered: 1, state: 'live', created_at: now().toISOString() })
        .onConflict('id')
        .merge({ covered: trx.raw('encryption_keys.covered + 1') });
      const r = await trx('encryption_keys').where({ id: kek.id }).first();
      return r.state as KekState;
    },
    async kek(id, tx) {
      const r = await handleOf(db, tx)('encryption_keys').where({ id }).first();
      return r ? kekOf(r) : undefined;
    },
    async keksDue(cutoff) {
      const periods = await db('encryption_keys').where({ kind: 'period' }).whereIn('state', ['live', 'destroying']).where('period_start', '<=', cutoff).orderBy('period_start');
      const holds = await db('encryption_keys')
        .where({ kind: 'hold' })
        .where((q) => q.where({ state: 'destroying' }).orWhere((w) => w.where({ state: 'live' }).whereNotExists(db('recording_data_keys').whereRaw('recording_data_keys.kek_id = encryption_keys.id'))))
        .orderBy('id');
      return [...periods, ...holds].map(kekOf);
    },
    async insertIntent(tx, k) {
      await trxOf(tx)('encryption_intents').insert({
        storage_key: k.storageKey, recording_id: k.recordingId, key_id: k.keyId, kek_id: k.kekId, period: k.period, wrapped_key: k.wrapped, created_at: now().toISOString(),
      });
    },
    async intentByStorageKey(storageKey) {
      const r = await db('encryption_intents').where({ storage_key: storageKey }).first();
      return r ? fromRow(r) : undefined;
    },
    async completeIntent(tx, storageKey) {
      const trx = trxOf(tx);
      const r = await trx('encryption_intents').where({ storage_key: storageKey }).first();
      if (!r) return;
      const at = now().toISOString();
      await trx('recording_data_keys').insert({ storage_key: r.storage_key, recording_id: r.recording_id, key_id: r.key_id, kek_id: r.kek_id, period: r.period, wrapped_key: r.wrapped_key, created_at: at, updated_at: at });
      await trx('encryption_intents').where({ storage_key: storageKey }).delete();
    },
    async dropIntent(tx, storageKey) {
      await trxOf(tx)('encryption_intents').where({ storage_key: storageKey }).delete();
    },
    async markDestroying(tx, id) {
      return (await trxOf(tx)('encryption_keys').where({ id, state: 'live' }).update({ state: 'destroying' })) > 0;
    },
    async markDestroyed(tx, id, at) {
      return (await trxOf(tx)('encryption_keys').where({ id, state: 'destroying' }).update({ state: 'destroyed', destroyed_at: at })) > 0;
    },
  };
}
