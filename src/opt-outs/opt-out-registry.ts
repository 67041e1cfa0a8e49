import { randomBytes } from 'node:crypto';
import type { AuditLog } from '../audit-log/index.js';
import type { DeleteRecordings, RecordingRepository } from '../recordings/index.js';
import type { CallerKeys } from '../shared/caller-key.js';
import type { Clock } from '../shared/clock.js';
import { AlreadyExists, Unavailable } from '../shared/errors.js';
import type { Transact, Tx } from '../shared/transaction.js';
import { createOptOutIndex } from './opt-out-index.js';
import type { OptOut, OptOutRepository } from './ports.js';

export const OPT_OUT_SOURCES = ['ivr', 'agent', 'web', 'letter'] as const;
/** A registration made by carrying out a data-subject objection (not a source a client may name). */
export const SUBJECT_REQUEST_SOURCE = 'subject-request';
export type OptOutSource = (typeof OPT_OUT_SOURCES)[number] | typeof SUBJECT_REQUEST_SOURCE;

/** The reason recordings of a registered number are discarded or deleted with. */
export const NUMBER_OPTED_OUT = 'number-opted-out';

export interface RegistryDeps {
  optOuts: OptOutRepository;
  recordings: RecordingRepository;
  transaction: Transact;
  audit: AuditLog;
  clock: Clock;
  callerKeys: CallerKeys;
  deleteRecordings: DeleteRecordings;
  /**
   * Answer the pre-call check from an in-memory index of the keys in force. Only where this process is
   * the registry's only writer (SQLite: one instance by design); elsewhere another instance may
   * register a number at any moment.
   */
  checkFromMemory: boolean;
  /** Days a recording is kept; an opt-out of a call that has not arrived within them is forgotten. */
  retentionDays: number;
  /** Whether the retention policy records calls in this queue (false: a `record: false` rule); all are, without it. */
  queueRecorded?: (queue: string) => Promise<boolean>;
}

/** The pre-call check's answer: `record` is what a phone system should act on; `optedOut` is kept for those that read only it. */
export interface PreCallAnswer {
  optedOut: boolean;
  record: boolean;
  /** Why not to record, when `record` is false. */
  reason?: 'caller-opted-out' | 'queue-not-recorded';
}

/** The number is normalised and hashed at once and never leaves this module in clear. */
export function createOptOutRegistry(deps: RegistryDeps) {
  const { optOuts: repo, recordings, transaction, audit, clock, callerKeys, deleteRecordings } = deps;
  const index = deps.checkFromMemory ? createOptOutIndex(repo) : undefined;

  async function isCallerOptedOut(callerKey: string | null, tx?: Tx): Promise<boolean> {
    if (!callerKey) return false; // a withheld number cannot match
    return (await repo.findActiveId(callerKey, tx)) !== undefined;
  }

  return {
    isCallerOptedOut,

    /**
     * Throws InvalidInput (pointer /number) for a number that cannot be understood. With a queue, a
     * queue the retention policy never records is answered record: false as well.
     */
    async check(number: string, queue?: string): Promise<PreCallAnswer> {
      const callerKey = callerKeys.of(number, '/number');
      const optedOut = index ? await index.has(callerKey) : await isCallerOptedOut(callerKey);
      if (optedOut) return { optedOut, record: false, reason: 'caller-opted-out' };
      if (queue !== undefined && deps.queueRecorded && !(await deps.queueRecorded(queue))) return { optedOut, record: false, reason: 'queue-not-recorded' };
      return { optedOut, record: true };
    },

    /** How many recordings of the number are stored: what `deleteExisting` would delete. */
    async preview(number: string): Promise<{ storedRecordings: number }> {
      const callerKey = callerKeys.of(number, '/number');
      return { storedRecordings: (await recordings.storedOfCaller(callerKey)).length };
    },

    /**
     * Registers an already-hashed caller key (a data-subject objection, whose case keeps only the key),
     * or finds its registration. Deleting existing recordings is the caller's business.
     */
    async registerCallerKey(callerKey: string, input: { source: OptOutSource }, actor: string): Promise<{ id: string; createdAt: string; created: boolean }> {
      const { optOut, created } = await registerKey(callerKey, input, actor);
      index?.added(callerKey);
      return { id: optOut.id, createdAt: optOut.createdAt, created };
    },

    /**
     * Registers the number (or finds its registration) and, with `deleteExisting`, deletes every
     * recording of it still stored. Registration commits first, so an upload finishing meanwhile either
     * sees it and is discarded, or has committed and is found and deleted here.
     */
    async register(
      input: { number: string; deleteExisting?: boolean; source?: OptOutSource },
      actor: string,
    ): Promise<{ id: string; createdAt: string; created: boolean; deletedRecordings?: number; keptUnderHold?: number }> {
      const callerKey = callerKeys.of(input.number, '/number');
      const { optOut, created } = await registerKey(callerKey, input, actor);
      index?.added(callerKey);
      if (!input.deleteExisting) return { id: optOut.id, createdAt: optOut.createdAt, created };

      const stored = await recordings.storedOfCaller(callerKey);
      const report = await deleteRecordings(stored, { reason: NUMBER_OPTED_OUT, actor, details: { optOutId: optOut.id } });
      if (report.failed.length) {
        // The registration stands; repeating the request retries the deletion.
        throw new Unavailable('opt-out-deletion-incomplete', 'The opt-out is registered, but some recordings could not be deleted yet; repeat the request', {
          optOutId: optOut.id,
          failedRecordings: report.failed.length,
        });
      }
      return { id: optOut.id, createdAt: optOut.createdAt, created, deletedRecordings: report.deleted.length, keptUnderHold: report.held.length };
    },

    /** The caller consents to recording again. True when a registration was in force. */
    async remove(number: string, actor: string): Promise<{ removed: boolean; id?: string }> {
      const callerKey = callerKeys.of(number, '/number');
      const result = await transaction(async (tx) => {
        await repo.lockCaller(tx, callerKey);
        const existing = await repo.findActive(callerKey, tx);
        if (!existing) return { removed: false };
        await repo.markRemoved(tx, existing.id, clock.now().toISOString(), actor);
        await audit.append(tx, { actor, action: 'opt-out.removed', subject: `opt-out:${existing.id}`, details: { optOutId: existing.id } });
        return { removed: true, id: existing.id };
      });
      if (result.removed) index?.removed(callerKey);
      return result;
    },
  };

  async function registerKey(callerKey: string, input: { deleteExisting?: boolean; source?: OptOutSource }, actor: string): Promise<{ optOut: OptOut; created: boolean }> {
    try {
      return await transaction(async (tx) => {
        await repo.lockCaller(tx, callerKey);
        const existing = await repo.findActive(callerKey, tx);
        if (existing) return { optOut: existing, created: false };
        const optOut: OptOut = { id: 'opt_' + randomBytes(8).toString('hex'), source: input.source ?? null, createdAt: clock.now().toISOString(), createdBy: actor };
        await repo.insert(tx, { ...optOut, callerKey });
        await audit.append(tx, {
          actor,
          action: 'opt-out.registered',
          subject: `opt-out:${optOut.id}`,
          details: { optOutId: optOut.id, source: optOut.source, deleteExisting: input.deleteExisting ?? false },
        });
        return { optOut, created: true };
      });
    } catch (err) {
      // The lock already serialises registrations of one key; the unique index is the last word anyway.
      if (!(err instanceof AlreadyExists)) throw err;
      const winner = await repo.findActive(callerKey);
      if (!winner) throw err;
      return { optOut: winner, created: false };
    }
  }
}

export type OptOutRegistry = ReturnType<typeof createOptOutRegistry>;
