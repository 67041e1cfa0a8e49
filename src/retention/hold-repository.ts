import { handleOf, toNumber, trxOf, type Database, type Transaction } from '../shared/database.js';
import type { Tx } from '../shared/transaction.js';
import { createStoredTextRepository, type StoredTextSource } from '../stored-numbers/index.js';
import type { ActiveHold, Hold, HoldReportFacts, HoldRepository } from './ports.js';

type Db = Database | Transaction;

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

/** Holds neither released nor lapsed (their `until` may have passed without the lapse job yet). */
function notEnded(db: Db, alias = 'holds') {
  return db(alias === 'holds' ? 'holds' : `holds as ${alias}`).whereNull(`${alias}.released_at`).whereNull(`${alias}.lapsed_at`);
}

/**
 * A hold in force at `at`: neither released nor lapsed, and its `until` (if any) still ahead. The one
 * definition: every query about holds in force (retention, data-subject requests, the reports) starts here.
 */
export function holdsInForce(db: Db, at: string, alias = 'holds') {
  return notEnded(db, alias).andWhere((q) => q.whereNull(`${alias}.until`).orWhere(`${alias}.until`, '>', at));
}

/** The holds table. */
export function createHoldRepository(db: Database): HoldRepository {
  return {
    /** How many recordings are stored past their deadline without an active hold: one count, in SQL. */
    async unheldOverdueCount(now: Date, tx?: Tx): Promise<number> {
      const h = handleOf(db, tx);
      const at = now.toISOString();
      const row = await h('recordings as r')
        .where('r.status', 'stored')
        .andWhere('r.deadline', '<=', at)
        .whereNotExists(holdsInForce(h, at).whereRaw('holds.recording_id = r.id').select(h.raw('1')))
        .count({ n: '*' })
        .first();
      return toNumber(row?.n ?? 0);
    },

    /** The active hold of each of `recordingIds` that has one: recording id → hold id. */
    async activeHoldIds(recordingIds: string[], now: Date, tx?: Tx): Promise<Map<string, string>> {
      const out = new Map<string, string>();
      for (let i = 0; i < recordingIds.length; i += 500) {
        const rows = await holdsInForce(handleOf(db, tx), now.toISOString()).whereIn('recording_id', recordingIds.slice(i, i + 500)).select('id', 'recording_id');
        for (const r of rows) out.set(r.recording_id as string, r.id as string);
      }
      return out;
    },

    async findActive(recordingId: string, now: Date, tx?: Tx): Promise<Hold | undefined> {
      const row = await holdsInForce(handleOf(db, tx), now.toISOString()).where({ recording_id: recordingId }).first();
      return row ? fromRow(row) : undefined;
    },

    /**
     * The active hold an administrator placed by hand: not one a data-subject request placed (reason
     * subject-request:<case id>), which its case releases. A recording may carry one of each.
     */
    async findActiveManual(recordingId: string, now: Date, tx?: Tx): Promise<Hold | undefined> {
      const row = await holdsInForce(handleOf(db, tx), now.toISOString()).andWhereNot('reason', 'like', 'subject-request:%').where({ recording_id: recordingId }).first();
      return row ? fromRow(row) : undefined;
    },

    async insert(tx: Tx, h: Hold): Promise<void> {
      await trxOf(tx)('holds').insert({ id: h.id, recording_id: h.recordingId, reason: h.reason, until: h.until, placed_at: h.placedAt, placed_by: h.placedBy });
    },

    /** True when this call released it (it was neither released nor lapsed before). */
    async release(tx: Tx, id: string, at: string, by: string): Promise<boolean> {
      return (await notEnded(trxOf(tx)).where({ id }).update({ released_at: at, released_by: by })) === 1;
    },

    /** Holds still in force whose `until` is at or before `at`. */
    async dueToLapse(at: string): Promise<Hold[]> {
      return (await notEnded(db).whereNotNull('until').andWhere('until', '<=', at)).map(fromRow);
    },

    /** True when this call lapsed it (it was neither released nor lapsed before). */
    async lapse(tx: Tx, id: string, at: string): Promise<boolean> {
      return (await notEnded(trxOf(tx)).where({ id }).update({ lapsed_at: at })) === 1;
    },

    /** Every hold in force at `now`, with the call it keeps, soonest end first (open-ended last). */
    async listActive(now: Date, tx?: Tx): Promise<ActiveHold[]> {
      const at = now.toISOString();
      // Columns named by table: recordings has a reason column too.
      const rows = await holdsInForce(handleOf(db, tx), at)
        .join('recordings', 'recordings.id', 'holds.recording_id')
        .select('holds.*', 'recordings.call_id as call_id', 'recordings.started_at as started_at', 'recordings.deadline as deadline')
        .orderByRaw('holds.until is null, holds.until, holds.placed_at, holds.id');
      return rows.map((r: Record<string, unknown>) => ({ ...fromRow(r), callId: r.call_id as string, startedAt: r.started_at as string, deadline: r.deadline as string }));
    },

    async forRecording(recordingId: string): Promise<Hold[]> {
      return (await db('holds').where({ recording_id: recordingId }).orderBy('placed_at')).map(fromRow);
    },

    async inForceOn(recordingIds: string[], now: Date, tx?: Tx): Promise<Hold[]> {
      const out: Hold[] = [];
      for (let i = 0; i < recordingIds.length; i += 500) {
        out.push(...(await holdsInForce(handleOf(db, tx), now.toISOString()).whereIn('recording_id', recordingIds.slice(i, i + 500)).orderBy('placed_at')).map(fromRow));
      }
      return out;
    },

    async insertMany(tx: Tx, holds: Hold[]): Promise<void> {
      for (let i = 0; i < holds.length; i += 100) {
        await trxOf(tx)('holds').insert(
          holds.slice(i, i + 100).map((h) => ({ id: h.id, recording_id: h.recordingId, reason: h.reason, until: h.until, placed_at: h.placedAt, placed_by: h.placedBy })),
        );
      }
    },

    async releaseWithReason(tx: Tx, reason: string, at: string, by: string): Promise<Hold[]> {
      const trx = trxOf(tx);
      const held = (await notEnded(trx).where({ reason })).map(fromRow);
      for (let i = 0; i < held.length; i += 500) {
        await notEnded(trx).whereIn('id', held.slice(i, i + 500).map((h) => h.id)).update({ released_at: at, released_by: by });
      }
      return held;
    },
  };
}

/**
 * How many calls that started in [from, to) ended in each outcome, counted by the database with the
 * rules the retention report applies row by row (createRetentionReport): deleted on request by its
 * reason, late when deleted (or, without a time, now) after the deadline, held by the first-placed
 * hold in force (a data-subject request's when its reason says so), overdue once the deadline is
 * reached. Timestamps are ISO-8601 UTC text on both databases, so comparing them as text is exact.
 */
async function outcomeCounts(db: Database, from: string, to: string, now: string): Promise<Record<string, number>> {
  const byQueue = await outcomeCountsByQueue(db, from, to, now);
  const out: Record<string, number> = {};
  for (const q of byQueue) for (const [o, n] of Object.entries(q.counts)) out[o] = (out[o] ?? 0) + n;
  return out;
}

/** outcomeCounts per queue (null: calls without a queue), queues in name order. */
async function outcomeCountsByQueue(db: Database, from: string, to: string, now: string): Promise<{ queue: string | null; counts: Record<string, number> }[]> {
  const firstHold = holdsInForce(db, now, 'h').select('h.reason').whereRaw('h.recording_id = r.id').orderBy('h.placed_at').limit(1);
  const facts = db('recordings as r')
    .select('r.status', 'r.reason', 'r.deadline', 'r.deleted_at', 'r.queue')
    .select(firstHold.as('hold_reason'))
    .where('r.started_at', '>=', from)
    .andWhere('r.started_at', '<', to)
    .as('f');
  // The outcome is named in its own derived table, so that the grouping refers to a column.
  const outcome = `case
      when status = 'discarded' then 'discarded'
      when status = 'deleted' and reason = 'subject-request' then 'deleted-on-request'
      when status = 'deleted' and coalesce(deleted_at, ?) > deadline then 'deleted-late'
      when status = 'deleted' then 'deleted-on-time'
      when hold_reason is not null and substr(hold_reason, 1, 16) = 'subject-request:' then 'held-for-request'
      when hold_reason is not null then 'held'
      when deadline <= ? then 'overdue'
      else 'stored-not-yet-due' end`;
  const classified = db.from(facts).select('queue').select(db.raw(`${outcome} as outcome`, [now, now])).as('c');
  const rows: { queue: string | null; outcome: string; n: number | string }[] = await db.from(classified).select('queue', 'outcome').count({ n: '*' }).groupBy('queue', 'outcome');
  const byQueue = new Map<string | null, Record<string, number>>();
  for (const r of rows) byQueue.set(r.queue, { ...byQueue.get(r.queue), [r.outcome]: toNumber(r.n) });
  return [...byQueue].sort(([a], [b]) => (a ?? '').localeCompare(b ?? '', 'sv')).map(([queue, counts]) => ({ queue, counts }));
}

/**
 * What is stored now, with and without a hold in force: how many, the oldest call's start, and how
 * many started after each of `after` (ISO instants, newest first), from which ages are bucketed.
 */
async function storedAges(db: Database, now: string, after: string[]): Promise<{ held: boolean; count: number; oldest: string | null; startedAfter: number[] }[]> {
  const held = db.raw('case when exists ? then 1 else 0 end', [holdsInForce(db, now, 'h').whereRaw('h.recording_id = r.id').select(db.raw('1'))]);
  const stored = db('recordings as r').select('r.started_at').select(held.wrap('(', ') as held')).where('r.status', 'stored').as('s');
  const rows: Record<string, string | number | null>[] = await db
    .from(stored)
    .select('held')
    .count({ n: '*' })
    .min({ oldest: 'started_at' })
    .select(after.map((a, i) => db.raw(`sum(case when started_at > ? then 1 else 0 end) as a${i}`, [a])))
    .groupBy('held');
  return rows.map((r) => ({
    held: toNumber(r.held) === 1,
    count: toNumber(r.n),
    oldest: r.oldest === null ? null : String(r.oldest),
    startedAfter: after.map((_, i) => toNumber(r[`a${i}`] ?? 0)),
  }));
}

/** The reports' read model of recordings with their holds in force. */
export function createHoldReportFacts(db: Database): HoldReportFacts {
  return {
    async activeHolds(recordingIds: string[], now: string): Promise<Map<string, { id: string; reason: string }>> {
      const out = new Map<string, { id: string; reason: string }>();
      for (let i = 0; i < recordingIds.length; i += 500) {
        const rows = await holdsInForce(db, now).select('id', 'recording_id', 'reason').whereIn('recording_id', recordingIds.slice(i, i + 500)).orderBy('placed_at');
        for (const r of rows as { id: string; recording_id: string; reason: string }[]) if (!out.has(r.recording_id)) out.set(r.recording_id, { id: r.id, reason: r.reason });
      }
      return out;
    },
    outcomeCounts: (from: string, to: string, now: string) => outcomeCounts(db, from, to, now),
    outcomeCountsByQueue: (from: string, to: string, now: string) => outcomeCountsByQueue(db, from, to, now),
    storedAges: (now: string, after: string[]) => storedAges(db, now, after),
  };
}

/** Holds' reasons, for masking numbers stored before they were refused; a case's own reason is the service's. */
export function createHoldStoredText(db: Database): StoredTextSource {
  return createStoredTextRepository(db, {
    table: 'holds',
    key: ['id'],
    fields: { reason: { column: 'reason', kind: 'text', maxLength: 500, generated: /^subject-request:sr_[0-9a-f]{16}$/ } },
  });
}
