import { auditEntryFromRow, type AuditEntry } from '../audit-log/index.js';
import type { Database } from '../shared/database.js';

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
  const rows = await db('audit_entries').whereIn('action', ['recording.deleted', 'recording.discarded']).andWhere('at', '>=', since).orderBy('seq');
  return rows.map(auditEntryFromRow);
}

/** The report's read model: recordings, holds and disposal entries of the audit log, read only. */
export function createReportRepository(db: Database) {
  return {
    recordingsStartedIn: (from: string, to: string) => recordingsStartedIn(db, from, to),
    recordingIdsExisting: (ids: string[]) => recordingIdsExisting(db, ids),
    activeHolds: (recordingIds: string[], now: string) => activeHolds(db, recordingIds, now),
    disposalEntriesSince: (since: string) => disposalEntriesSince(db, since),
  };
}

export type ReportRepository = ReturnType<typeof createReportRepository>;
