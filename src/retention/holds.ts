import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit-log/index.js';
import { recordingRepository } from '../recordings/index.js';
import type { Clock } from '../shared/clock.js';
import type { Database, Transaction } from '../shared/database.js';
import { Conflict, InvalidInput, NotFound } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

type Db = Database | Transaction;

export interface Hold {
  id: string;
  recordingId: string;
  reason: string;
  until: string | null;
  placedAt: string;
  placedBy: string;
  releasedAt: string | null;
  releasedBy: string | null;
  lapsedAt: string | null;
}

function fromRow(r: Record<string, unknown>): Hold {
  return {
    id: r.id as string,
    recordingId: r.recording_id as string,
    reason: r.reason as string,
    until: (r.until as string | null) ?? null,
    placedAt: r.placed_at as string,
    placedBy: r.placed_by as string,
    releasedAt: (r.released_at as string | null) ?? null,
    releasedBy: (r.released_by as string | null) ?? null,
    lapsedAt: (r.lapsed_at as string | null) ?? null,
  };
}

/** Holds neither released nor lapsed whose `until` (if any) is still ahead of `now`. */
function active(db: Db, now: Date) {
  const at = now.toISOString();
  return db('holds')
    .whereNull('released_at')
    .whereNull('lapsed_at')
    .andWhere((q) => q.whereNull('until').orWhere('until', '>', at));
}

/**
 * Active holds an administrator places and releases by hand: not those a data-subject request placed
 * (reason subject-request:<case id>), which its case releases. A recording may carry one of each.
 */
function activeManual(db: Db, now: Date) {
  return active(db, now).andWhereNot('reason', 'like', 'subject-request:%');
}

/**
 * Restriction of processing: a held recording is not deleted, by retention or by hand. Placing,
 * releasing and lapsing each append one audit entry in the same transaction.
 */
export function createHolds(deps: { db: Database; audit: AuditLog; clock: Clock; logger: Logger }) {
  const { db, audit, clock, logger } = deps;

  return {
    /** The active hold of each of `recordingIds` that has one. */
    async activeHoldIds(conn: Db, recordingIds: string[], now: Date): Promise<Map<string, string>> {
      const out = new Map<string, string>();
      for (let i = 0; i < recordingIds.length; i += 500) {
        const rows = await active(conn, now).whereIn('recording_id', recordingIds.slice(i, i + 500)).select('id', 'recording_id');
        for (const r of rows) out.set(r.recording_id as string, r.id as string);
      }
      return out;
    },

    async place(input: { recordingId: string; reason: string; until?: Date }, actor: string): Promise<Hold> {
      const now = clock.now();
      if (input.reason.startsWith('subject-request:')) {
        throw new InvalidInput('invalid-hold', 'Holds of data-subject requests are placed by their case', { errors: [{ pointer: '/reason', detail: 'must not start with subject-request:' }] });
      }
      if (input.until && input.until <= now) {
        throw new InvalidInput('invalid-hold', 'A hold must end in the future', { errors: [{ pointer: '/until', detail: 'must be later than now' }] });
      }
      return db.transaction(async (trx) => {
        const recording = await recordingRepository.findById(trx, input.recordingId);
        if (!recording) throw new NotFound('recording-not-found', `No recording ${input.recordingId}`);
        if (recording.status !== 'stored') {
          throw new Conflict('recording-not-stored', `Recording ${input.recordingId} is ${recording.status}; there is nothing to hold`, { recordingStatus: recording.status });
        }
        const existing = await activeManual(trx, now).where({ recording_id: input.recordingId }).first();
        if (existing) throw new Conflict('already-held', `Recording ${input.recordingId} is already held`, { holdId: existing.id });
        const hold: Hold = {
          id: `hold_${randomUUID().replace(/-/g, '')}`,
          recordingId: input.recordingId,
          reason: input.reason,
          until: input.until?.toISOString() ?? null,
          placedAt: now.toISOString(),
          placedBy: actor,
          releasedAt: null,
          releasedBy: null,
          lapsedAt: null,
        };
        await trx('holds').insert({
          id: hold.id,
          recording_id: hold.recordingId,
          reason: hold.reason,
          until: hold.until,
          placed_at: hold.placedAt,
          placed_by: hold.placedBy,
        });
        await audit.append(trx, {
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
      return db.transaction(async (trx) => {
        const row = await activeManual(trx, now).where({ recording_id: recordingId }).first();
        if (!row) throw new NotFound('hold-not-found', `Recording ${recordingId} has no active hold`);
        const at = now.toISOString();
        const n = await trx('holds').where({ id: row.id }).whereNull('released_at').whereNull('lapsed_at').update({ released_at: at, released_by: actor });
        if (n !== 1) throw new Conflict('hold-changed', 'The hold was released or lapsed meanwhile');
        await audit.append(trx, { actor, action: 'hold.released', subject: `recording:${recordingId}`, details: { holdId: row.id, recordingId } });
        return fromRow({ ...row, released_at: at, released_by: actor });
      });
    },

    /** Marks holds whose `until` has passed as lapsed, one transaction and audit entry each. */
    async lapseExpired(actor: string): Promise<string[]> {
      const at = clock.now().toISOString();
      const due = await db('holds').whereNull('released_at').whereNull('lapsed_at').whereNotNull('until').andWhere('until', '<=', at).select('id', 'recording_id', 'until');
      const lapsed: string[] = [];
      for (const h of due) {
        const done = await db.transaction(async (trx) => {
          const n = await trx('holds').where({ id: h.id }).whereNull('released_at').whereNull('lapsed_at').update({ lapsed_at: at });
          if (n !== 1) return false; // released or lapsed by someone else meanwhile
          await audit.append(trx, { actor, action: 'hold.lapsed', subject: `recording:${h.recording_id}`, details: { holdId: h.id, recordingId: h.recording_id, until: h.until } });
          return true;
        });
        if (done) lapsed.push(h.id as string);
      }
      if (lapsed.length) logger.info('holds lapsed', { count: lapsed.length });
      return lapsed;
    },

    async forRecording(conn: Db, recordingId: string): Promise<Hold[]> {
      return (await conn('holds').where({ recording_id: recordingId }).orderBy('placed_at')).map(fromRow);
    },
  };
}

export type Holds = ReturnType<typeof createHolds>;
