import type { Database, Transaction } from '../shared/database.js';
import type { Recording } from './recording.js';
import { fromRow } from './recording-repository.js';

type Db = Database | Transaction;

export interface RecordingFilter {
  /** started_at ≥ from (ISO). */
  from?: string;
  /** started_at < to (ISO). */
  to?: string;
  queue?: string;
  agentId?: string;
  /** Only these statuses; all when omitted. */
  statuses?: Recording['status'][];
  /** Only recordings whose deadline is later than this (ISO). */
  deadlineAfter?: string;
}

/** Position after the last row of a page: newest first, ties broken by id. */
export interface PageCursor {
  startedAt: string;
  id: string;
}

/** One page, newest call first; `limit + 1` rows are read so the caller knows whether more follow. */
export async function listPage(db: Db, filter: RecordingFilter, after: PageCursor | undefined, limit: number): Promise<{ rows: Recording[]; more: boolean }> {
  const q = db('recordings').select('*');
  if (filter.from) q.where('started_at', '>=', filter.from);
  if (filter.to) q.where('started_at', '<', filter.to);
  if (filter.queue) q.where('queue', filter.queue);
  if (filter.agentId) q.where('agent_id', filter.agentId);
  if (filter.statuses?.length) q.whereIn('status', filter.statuses);
  if (filter.deadlineAfter) q.where('deadline', '>', filter.deadlineAfter);
  if (after) {
    q.where((w) => w.where('started_at', '<', after.startedAt).orWhere((x) => x.where('started_at', '=', after.startedAt).andWhere('id', '<', after.id)));
  }
  const rows = await q.orderBy([{ column: 'started_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(limit + 1);
  return { rows: rows.slice(0, limit).map(fromRow), more: rows.length > limit };
}
