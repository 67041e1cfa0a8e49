import { createAuditRepository, type AuditEntry } from '../audit-log/index.js';
import { toNumber, type Database } from '../shared/database.js';

export interface RecordingFacts {
  id: string;
  callId: string;
  startedAt: string;
  deadline: string;
  deletedAt: string | null;
  reason: string | null;
  status: 'stored' | 'deleted' | 'discarded';
}

/** Recordings (and tombstones) of calls that started in [from, to). Never the caller key. */
export async function recordingsStartedIn(db: Database, from: string, to: string): Promise<RecordingFacts[]> {
  const rows = await db('recordings')
    .select('id', 'call_id', 'started_at', 'deadline', 'deleted_at', 'reason', 'status')
    .where('started_at', '>=', from)
    .andWhere('started_at', '<', to)
    .orderBy([{ column: 'started_at' }, { column: 'id' }]);
  return rows.map((r: Record<string, string | null>) => ({
    id: r.id!,
    callId: r.call_id!,
    startedAt: r.started_at!,
    deadline: r.deadline!,
    deletedAt: r.deleted_at,
    reason: r.reason,
    status: r.status as RecordingFacts['status'],
  }));
}

export async function recordingIdsExisting(db: Database, ids: string[]): Promise<Map<string, RecordingFacts['status']>> {
  const out = new Map<string, RecordingFacts['status']>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db('recordings').select('id', 'status').whereIn('id', ids.slice(i, i + 500));
    for (const r of rows as { id: string; status: RecordingFacts['status'] }[]) out.set(r.id, r.status);
  }
  return out;
}

/**
 * Holds in force at `now` for the given recordings (first placed wins). Read straight from the holds
 * table when it exists, so the report does not depend on the retention capability being wired.
 */
export async function activeHolds(db: Database, recordingIds: string[], now: string): Promise<Map<string, { id: string; reason: string }>> {
  const out = new Map<string, { id: string; reason: string }>();
  if (!recordingIds.length || !(await db.schema.hasTable('holds'))) return out;
  for (let i = 0; i < recordingIds.length; i += 500) {
    const rows = await db('holds')
      .select('id', 'recording_id', 'reason')
      .whereIn('recording_id', recordingIds.slice(i, i + 500))
      .whereNull('released_at')
      .whereNull('lapsed_at')
      .andWhere((q) => q.whereNull('until').orWhere('until', '>', now))
      .orderBy('placed_at');
    for (const r of rows as { id: string; recording_id: string; reason: string }[]) if (!out.has(r.recording_id)) out.set(r.recording_id, { id: r.id, reason: r.reason });
  }
  return out;
}

/** Deletion and discard entries appended at or after `since` (a recording cannot end before it starts). */
export async function disposalEntriesSince(db: Database, since: string): Promise<AuditEntry[]> {
  return createAuditRepository(db).entriesWithActionsSince(['recording.deleted', 'recording.discarded'], since);
}

/** A hold in force at `now` (bound as the query's `?`s: now). SQL text shared by the overview's queries. */
const ACTIVE_HOLD = `h.released_at is null and h.lapsed_at is null and (h.until is null or h.until > ?)`;

/**
 * How many calls that started in [from, to) ended in each outcome, counted by the database with the
 * rules the retention report applies row by row (createRetentionReport): deleted on request by its
 * reason, late when deleted (or, without a time, now) after the deadline, held by the first-placed
 * hold in force (a data-subject request's when its reason says so), overdue once the deadline is
 * reached. Timestamps are ISO-8601 UTC text on both databases, so comparing them as text is exact.
 */
export async function outcomeCounts(db: Database, from: string, to: string, now: string): Promise<Record<string, number>> {
  const firstHold = db('holds as h').select('h.reason').whereRaw('h.recording_id = r.id').andWhereRaw(ACTIVE_HOLD, [now]).orderBy('h.placed_at').limit(1);
  const facts = db('recordings as r')
    .select('r.status', 'r.reason', 'r.deadline', 'r.deleted_at')
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
  const classified = db.from(facts).select(db.raw(`${outcome} as outcome`, [now, now])).as('c');
  const rows: { outcome: string; n: number | string }[] = await db.from(classified).select('outcome').count({ n: '*' }).groupBy('outcome');
  return Object.fromEntries(rows.map((r) => [r.outcome, toNumber(r.n)]));
}

/**
 * What is stored now, with and without a hold in force: how many, the oldest call's start, and how
 * many started after each of `after` (ISO instants, newest first), from which ages are bucketed.
 */
export async function storedAges(db: Database, now: string, after: string[]): Promise<{ held: boolean; count: number; oldest: string | null; startedAfter: number[] }[]> {
  const held = db.raw(`case when exists (select 1 from holds h where h.recording_id = r.id and ${ACTIVE_HOLD}) then 1 else 0 end`, [now]);
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

/** Tombstones whose deadline or deletion falls in [from, to): the overview's deletions per day against their deadlines. */
export async function deletionsAndDeadlinesIn(db: Database, from: string, to: string): Promise<{ deadline: string; deletedAt: string | null; reason: string | null; status: RecordingFacts['status'] }[]> {
  const rows: { deadline: string; deleted_at: string | null; reason: string | null; status: RecordingFacts['status'] }[] = await db('recordings')
    .select('deadline', 'deleted_at', 'reason', 'status')
    .whereNot('status', 'discarded')
    .andWhere((q) => q.where((d) => d.where('deadline', '>=', from).andWhere('deadline', '<', to)).orWhere((d) => d.where('deleted_at', '>=', from).andWhere('deleted_at', '<', to)));
  return rows.map((r) => ({ deadline: r.deadline, deletedAt: r.deleted_at, reason: r.reason, status: r.status }));
}

/** The report's read model: recordings, holds and disposal entries of the audit log, read only. */
export function createReportRepository(db: Database) {
  return {
    recordingsStartedIn: (from: string, to: string) => recordingsStartedIn(db, from, to),
    recordingIdsExisting: (ids: string[]) => recordingIdsExisting(db, ids),
    activeHolds: (recordingIds: string[], now: string) => activeHolds(db, recordingIds, now),
    disposalEntriesSince: (since: string) => disposalEntriesSince(db, since),
    outcomeCounts: (from: string, to: string, now: string) => outcomeCounts(db, from, to, now),
    storedAges: (now: string, after: string[]) => storedAges(db, now, after),
    deletionsAndDeadlinesIn: (from: string, to: string) => deletionsAndDeadlinesIn(db, from, to),
  };
}

export type ReportRepository = ReturnType<typeof createReportRepository>;
