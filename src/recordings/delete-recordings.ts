import type { AuditLog } from '../audit-log/index.js';
import type { Clock } from '../shared/clock.js';
import { errorFacts, errorSummary, type Logger } from '../shared/logger.js';
import type { Transact, Tx } from '../shared/transaction.js';
import type { ObjectStore } from '../storage/index.js';
import type { Recording } from './recording.js';
import type { RecordingRepository } from './ports.js';

/**
 * Enough to make a purge of thousands cheap (one UPDATE, a few multi-row audit inserts, one commit per
 * group), few enough that ingest never waits long for SQLite's lock; 500 ids stay below SQLite's older
 * limit of 999 bound variables.
 */
const TOMBSTONES_PER_TRANSACTION = 500;

export interface DeletionReport {
  /** Recordings that are now tombstones, each with exactly one `recording.deleted` audit entry. */
  deleted: string[];
  /** Recordings whose object could not be removed or verified gone: still stored, retried later. */
  failed: { id: string; error: string }[];
  /** Recordings left alone because a hold (restriction of processing) suspends their deletion. */
  held: string[];
}

/**
 * The one deletion path (retention, manual deletion, opt-out): first, in one transaction, lock the rows,
 * leave out the held ones and claim the rest for deletion (placing a hold locks the same row and refuses
 * a claimed one, so no hold can arrive between this check and the object's removal); then remove every
 * object (all versions), which the store verifies gone; only then turn each row into a tombstone and
 * audit it (one entry per recording, in the transaction that writes its tombstone). The update is
 * conditional on status = 'stored', so a run that crashed after removing objects is finished by the next
 * one with exactly one audit entry per recording. A claim is never withdrawn: what the store could not
 * delete now stays claimed and is finished by the next retention run.
 */
export function createRecordingDeleter(deps: {
  recordings: RecordingRepository;
  transaction: Transact;
  store: ObjectStore;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  /**
   * Which of these recordings are under an active hold, read in `tx` (where their rows are locked):
   * every deletion, whoever asks for it, leaves them.
   */
  heldAmong?: (recordingIds: string[], tx: Tx) => Promise<Set<string>>;
}) {
  const { recordings: repository, transaction, store, audit, clock, logger } = deps;
  return async function deleteRecordings(
    recordings: Recording[],
    input: {
      reason: string;
      actor: string;
      details?: Record<string, unknown>;
      /** Called once the store's part is over (before the tombstones are written), so a caller can start the next batch's. */
      onStoreDone?: () => void;
    },
  ): Promise<DeletionReport> {
    const report: DeletionReport = { deleted: [], failed: [], held: [] };
    const candidates = recordings.filter((r) => r.status === 'stored' && r.storageKey);
    if (!candidates.length) return report;
    const { held, claimed, earlier } = await transaction(async (tx) => {
      const locked = (await repository.lockRows(tx, candidates.map((r) => r.id))).filter((l) => l.recording.status === 'stored');
      const lockedIds = locked.map((l) => l.recording.id);
      const held = lockedIds.length ? ((await deps.heldAmong?.(lockedIds, tx)) ?? new Set<string>()) : new Set<string>();
      const unheld = lockedIds.filter((id) => !held.has(id));
      const claim = { at: clock.now().toISOString(), reason: input.reason, actor: input.actor, details: input.details ?? {} };
      const claimed = new Set(unheld.length ? await repository.claimForDeletion(tx, unheld, claim) : []);
      // Claims an earlier attempt made and could not finish: what it committed to is what gets done and audited.
      const earlier = new Map(locked.flatMap((l) => (l.claim ? [[l.recording.id, l.claim] as const] : [])));
      return { held, claimed, earlier };
    });
    report.held = candidates.filter((r) => held.has(r.id)).map((r) => r.id);
    // Only what this path claimed goes on; a row no longer stored was finished by someone else.
    const stored = candidates.filter((r) => claimed.has(r.id));
    if (!stored.length) return report;
    let result: Awaited<ReturnType<ObjectStore['delete']>>;
    try {
      result = await store.delete(stored.map((r) => r.storageKey!));
    } catch (err) {
      const error = errorSummary(err);
      logger.error('deleting recordings from the store failed', { count: stored.length, err: errorFacts(err) });
      return { deleted: [], failed: stored.map((r) => ({ id: r.id, error })), held: report.held };
    } finally {
      input.onStoreDone?.();
    }
    const failedKeys = new Map(result.failed.map((f) => [f.key, f.error]));
    const deletedKeys = new Set(result.deleted);
    const gone: Recording[] = [];
    for (const r of stored) {
      const failure = failedKeys.get(r.storageKey!);
      if (failure !== undefined || !deletedKeys.has(r.storageKey!)) report.failed.push({ id: r.id, error: failure ?? 'not confirmed deleted' });
      else gone.push(r);
    }
    // Tombstones are written in groups: one commit (one fsync) per group instead of per recording,
    // still one audit entry each, in the transaction that writes its tombstone. A group that fails
    // leaves its rows 'stored'; their objects are already gone, so the next run finds them missing,
    // counts them deleted, and writes them down then.
    for (let i = 0; i < gone.length; i += TOMBSTONES_PER_TRANSACTION) {
      const group = gone.slice(i, i + TOMBSTONES_PER_TRANSACTION);
      const at = clock.now().toISOString();
      const written = await transaction(async (tx) => {
        const byReason = new Map<string, string[]>();
        for (const r of group) {
          const reason = earlier.get(r.id)?.reason ?? input.reason;
          byReason.set(reason, [...(byReason.get(reason) ?? []), r.id]);
        }
        // Conditional on 'stored': a recording someone else finished first keeps their entry and gets none here.
        const tombstoned = new Set<string>();
        for (const [reason, ids] of byReason) for (const id of await repository.tombstone(tx, ids, { at, reason })) tombstoned.add(id);
        const done = group.filter((r) => tombstoned.has(r.id));
        await audit.appendAll(
          tx,
          done.map((r) => {
            const what = { recordingId: r.id, callId: r.callId, storageKey: r.storageKey, sha256: r.sha256, deadline: r.deadline };
            const claim = earlier.get(r.id);
            return {
              actor: input.actor,
              action: 'recording.deleted',
              subject: `recording:${r.id}`,
              details: claim
                ? { ...what, reason: claim.reason, ...claim.details, resumed: true, claimedAt: claim.at, ...(claim.actor ? { claimedBy: claim.actor } : {}) }
                : { ...what, reason: input.reason, ...input.details },
            };
          }),
        );
        return done.map((r) => r.id);
      });
      report.deleted.push(...written);
    }
    if (report.failed.length) logger.error('some recordings could not be deleted; they will be retried', { failed: report.failed.length });
    return report;
  };
}

export type DeleteRecordings = ReturnType<typeof createRecordingDeleter>;
