import type { AuditLog } from '../audit-log/index.js';
import type { Clock } from '../shared/clock.js';
import { errorFacts, errorSummary, type Logger } from '../shared/logger.js';
import type { Transact } from '../shared/transaction.js';
import { unwrapDataKey, wrapDataKey } from './key-wrap.js';
import { holdKekId } from './periods.js';
import type { DataKeyRepository, KekRecord, KeyStore } from './ports.js';

export interface ShredReport {
  /** Key-encryption keys destroyed by this run (each with exactly one `key.destroyed` entry). */
  destroyed: string[];
  /** Data keys of held recordings re-wrapped under a hold key before their period key died. */
  rewrapped: number;
  failed: { key: string; error: string }[];
}

/**
 * Crypto-shredding on schedule. A period key dies before its period begins (at the run whose horizon
 * reaches the period's start); before that the data keys of held recordings are re-wrapped under the
 * period's hold key, and the other recordings of the period are deleted through the one deletion path.
 * A hold key dies once no data key is wrapped under it. Each destruction is live → destroying (its
 * intent, committed) → the key store's destroy → destroyed + one audit entry in one transaction; a
 * crash anywhere is finished by the next run, with still exactly one entry.
 */
export function createKeyShredding(deps: {
  dataKeys: DataKeyRepository;
  keyStore: KeyStore;
  transaction: Transact;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  /** Which of these recordings are held (holds, restriction, an open access request) and must outlive their period key. */
  heldAmong: (recordingIds: string[]) => Promise<Set<string>>;
  /** Deletes these stored recordings now (their period key is about to die), through the one deletion path. */
  deleteEarly: (recordingIds: string[], details: { keyPeriod: string }) => Promise<void>;
  /** Called after a key is destroyed or data keys re-wrapped: caches of unwrapped keys must forget them. */
  onKeysChanged?: () => void;
}) {
  const { dataKeys, keyStore, transaction, audit, clock, logger } = deps;

  async function rewrapHeld(kek: KekRecord, actor: string): Promise<number> {
    const rows = await dataKeys.underKek(kek.id);
    if (!rows.length) return 0;
    const held = await deps.heldAmong(rows.map((r) => r.recordingId));
    const heldRows = rows.filter((r) => held.has(r.recordingId));
    if (!heldRows.length) return 0;
    const periodKey = await keyStore.read(kek.id);
    if (!periodKey) throw new Error(`the key ${kek.id} is gone before its held recordings were re-wrapped`);
    const holdId = holdKekId(kek.id);
    const holdKey = await keyStore.obtain(holdId);
    await transaction(async (tx) => {
      for (const r of heldRows) {
        const state = await dataKeys.useKek(tx, { id: holdId, kind: 'hold', periodStart: null });
        if (state !== 'live') throw new Error(`the hold key ${holdId} is already destroyed`);
        await dataKeys.rewrap(tx, r.storageKey, holdId, wrapDataKey(holdKey, holdId, r.keyId, unwrapDataKey(periodKey, kek.id, r.keyId, r.wrapped)));
      }
      await audit.append(tx, {
        actor,
        action: 'key.rewrapped-for-holds',
        subject: `key:${kek.id}`,
        details: { period: kek.id, holdKey: holdId, recordings: heldRows.length, recordingIds: heldRows.map((r) => r.recordingId) },
      });
    });
    deps.onKeysChanged?.();
    return heldRows.length;
  }

  return {
    /** Destroys every key due at `cutoff` (the retention run's horizon). */
    async run(opts: { actor: string; cutoff: Date }): Promise<ShredReport> {
      const report: ShredReport = { destroyed: [], rewrapped: 0, failed: [] };
      for (const kek of await dataKeys.keksDue(opts.cutoff.toISOString())) {
        try {
          if (kek.state === 'live') {
            if (kek.kind === 'period') {
              report.rewrapped += await rewrapHeld(kek, opts.actor);
              const rest = await dataKeys.underKek(kek.id);
              if (rest.length) {
                try {
                  await deps.deleteEarly(rest.map((r) => r.recordingId), { keyPeriod: kek.id });
                } catch (err) {
                  // Their key dies all the same: the object is noise from then on, and the next run deletes it.
                  logger.warn('deleting the recordings of a period before its key dies failed', { period: kek.id, err: errorFacts(err) });
                }
                // A hold placed meanwhile still wins.
                report.rewrapped += await rewrapHeld(kek, opts.actor);
              }
            }
            await transaction((tx) => dataKeys.markDestroying(tx, kek.id));
          }
          await keyStore.destroy(kek.id);
          deps.onKeysChanged?.();
          const done = await transaction(async (tx) => {
            const at = clock.now().toISOString();
            if (!(await dataKeys.markDestroyed(tx, kek.id, at))) return false;
            const left = await dataKeys.deleteUnderKek(tx, kek.id);
            await audit.append(tx, {
              actor: opts.actor,
              action: 'key.destroyed',
              subject: `key:${kek.id}`,
              details: { key: kek.id, kind: kek.kind, ...(kek.periodStart ? { periodStart: kek.periodStart } : {}), recordings: kek.covered, ...(left ? { unreadableLeft: left } : {}) },
            });
            return true;
          });
          if (done) report.destroyed.push(kek.id);
        } catch (err) {
          logger.error('destroying a key failed; the next run goes on', { key: kek.id, err: errorFacts(err) });
          report.failed.push({ key: kek.id, error: errorSummary(err) });
        }
      }
      return report;
    },
  };
}

export type KeyShredding = ReturnType<typeof createKeyShredding>;
