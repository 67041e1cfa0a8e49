import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit-log/index.js';
import type { RecordingRepository } from '../recordings/index.js';
import type { Clock } from '../shared/clock.js';
import { Conflict, InvalidInput, NotFound } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { Transact } from '../shared/transaction.js';
import type { ActiveHold, Hold, HoldRepository, RequestHolds } from './ports.js';

export type { ActiveHold, Hold } from './ports.js';

/**
 * Restriction of processing: a held recording is not deleted, by retention or by hand. Placing,
 * releasing and lapsing each append one audit entry in the same transaction.
 */
export function createHolds(deps: { holds: HoldRepository; recordings: RecordingRepository; transaction: Transact; audit: AuditLog; clock: Clock; logger: Logger }) {
  const { holds, recordings, transaction, audit, clock, logger } = deps;
  const newHoldId = () => `hold_${randomUUID().replace(/-/g, '')}`;

  const forRequests: RequestHolds = {
    inForceOn: (recordingIds, now, tx) => holds.inForceOn(recordingIds, now, tx),
    async placeOnStored(tx, recordingIds, fields) {
      const ids = [...new Set(recordingIds)];
      // The row lock the deletion path takes: a recording it claimed first is not held.
      const holdable = new Set((await recordings.lockRows(tx, ids)).filter((l) => l.recording.status === 'stored' && !l.claim).map((l) => l.recording.id));
      const placed: Hold[] = ids
        .filter((id) => holdable.has(id))
        .map((recordingId) => ({
          id: newHoldId(), recordingId, reason: fields.reason, until: fields.until, placedAt: fields.at, placedBy: fields.by, releasedAt: null, releasedBy: null, lapsedAt: null,
        }));
      await holds.insertMany(tx, placed);
      return placed;
    },
    releaseWithReason: (tx, reason, at, by) => holds.releaseWithReason(tx, reason, at, by),
  };

  return {
    /** The holds data-subject requests place and release, through this capability. */
    forRequests,

    /** The active hold of each of `recordingIds` that has one: recording id → hold id. */
    activeHoldIds: (recordingIds: string[], now: Date): Promise<Map<string, string>> => holds.activeHoldIds(recordingIds, now),

    /** Every hold in force now, with the call it keeps. */
    listActive: (): Promise<ActiveHold[]> => holds.listActive(clock.now()),

    async place(input: { recordingId: string; reason: string; until?: Date }, actor: string): Promise<Hold> {
      const now = clock.now();
      if (input.reason.startsWith('subject-request:')) {
        throw new InvalidInput('invalid-hold', 'Holds of data-subject requests are placed by their case', { errors: [{ pointer: '/reason', code: 'reserved-prefix', detail: 'must not start with subject-request:', limit: 'subject-request:' }] });
      }
      if (input.until && input.until <= now) {
        throw new InvalidInput('invalid-hold', 'A hold must end in the future', { errors: [{ pointer: '/until', code: 'in-the-past', detail: 'must be later than now' }] });
      }
      return transaction(async (tx) => {
        // The row lock the deletion path takes to check holds and claim: either the deletion claimed the
        // recording first (and this hold is refused) or it sees this hold once this commits.
        const [locked] = await recordings.lockRows(tx, [input.recordingId]);
        if (!locked) throw new NotFound('recording-not-found', `No recording ${input.recordingId}`);
        const { recording } = locked;
        if (recording.status !== 'stored') {
          throw new Conflict('recording-not-stored', `Recording ${input.recordingId} is ${recording.status}; there is nothing to hold`, { recordingStatus: recording.status });
        }
        if (locked.claim) {
          throw new Conflict('recording-being-deleted', `Recording ${input.recordingId} is already being deleted; it can no longer be held`, {
            deletionStartedAt: locked.claim.at,
          });
        }
        const existing = await holds.findActiveManual(input.recordingId, now, tx);
        if (existing) throw new Conflict('already-held', `Recording ${input.recordingId} is already held`, { holdId: existing.id });
        const hold: Hold = {
          id: newHoldId(),
          recordingId: input.recordingId,
          reason: input.reason,
          until: input.until?.toISOString() ?? null,
          placedAt: now.toISOString(),
          placedBy: actor,
          releasedAt: null,
          releasedBy: null,
          lapsedAt: null,
        };
        await holds.insert(tx, hold);
        await audit.append(tx, {
          actor,
          action: 'hold.placed',
          subject: `recording:${hold.recordingId}`,
          details: { holdId: hold.id, recordingId: hold.recordingId, reason: hold.reason, until: hold.until, deadline: recording.deadline },
        });
        return hold;
      });
    },

    async release(recordingId: string, actor: string): Promise<Hold> {
      const now = clock.now();
      return transaction(async (tx) => {
        const hold = await holds.findActiveManual(recordingId, now, tx);
        if (!hold) throw new NotFound('hold-not-found', `Recording ${recordingId} has no active hold`);
        const at = now.toISOString();
        if (!(await holds.release(tx, hold.id, at, actor))) throw new Conflict('hold-changed', 'The hold was released or lapsed meanwhile');
        await audit.append(tx, { actor, action: 'hold.released', subject: `recording:${recordingId}`, details: { holdId: hold.id, recordingId } });
        return { ...hold, releasedAt: at, releasedBy: actor };
      });
    },

    /** Marks holds whose `until` has passed as lapsed, one transaction and audit entry each. */
    async lapseExpired(actor: string): Promise<string[]> {
      const at = clock.now().toISOString();
      const lapsed: string[] = [];
      for (const h of await holds.dueToLapse(at)) {
        const done = await transaction(async (tx) => {
          if (!(await holds.lapse(tx, h.id, at))) return false; // released or lapsed by someone else meanwhile
          await audit.append(tx, { actor, action: 'hold.lapsed', subject: `recording:${h.recordingId}`, details: { holdId: h.id, recordingId: h.recordingId, until: h.until } });
          return true;
        });
        if (done) lapsed.push(h.id);
      }
      if (lapsed.length) logger.info('holds lapsed', { count: lapsed.length });
      return lapsed;
    },

    forRecording: (recordingId: string): Promise<Hold[]> => holds.forRecording(recordingId),
  };
}

export type Holds = ReturnType<typeof createHolds>;
