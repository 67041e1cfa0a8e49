import { handleOf, toNumber, trxOf, type Database } from '../shared/database.js';
import type { SourceNotification, SourceNotificationRepository } from './ports.js';

function fromRow(r: Record<string, unknown>): SourceNotification {
  return {
    source: r.source as string,
    itemId: r.item_id as string,
    callId: r.call_id as string,
    mediaUrl: r.media_url as string,
    callerKey: (r.caller_key as string | null) ?? null,
    startedAt: (r.started_at as string | null) ?? null,
    endedAt: (r.ended_at as string | null) ?? null,
    attempts: toNumber(r.attempts),
    nextAttemptAt: r.next_attempt_at as string,
    lastError: (r.last_error as string | null) ?? null,
    receivedAt: r.received_at as string,
  };
}

/** The source_notifications table: the one owner of it. */
export function createSourceNotificationRepository(db: Database): SourceNotificationRepository {
  return {
    async insert(tx, n) {
      const rows = (await trxOf(tx)('source_notifications')
        .insert({
          source: n.source, item_id: n.itemId, call_id: n.callId, media_url: n.mediaUrl, caller_key: n.callerKey, started_at: n.startedAt, ended_at: n.endedAt,
          attempts: 0, next_attempt_at: n.nextAttemptAt, last_error: null, received_at: n.receivedAt,
        }, ['item_id'])
        .onConflict(['source', 'item_id'])
        .ignore()) as unknown[];
      return rows.length === 1;
    },
    async due(source, now, limit) {
      return (await db('source_notifications').where({ source }).andWhere('next_attempt_at', '<=', now).orderBy('received_at').limit(limit)).map(fromRow);
    },
    async failed(source, itemId, f) {
      await db('source_notifications').where({ source, item_id: itemId }).update({ attempts: f.attempts, next_attempt_at: f.next, last_error: f.error });
    },
    async remove(source, itemId, tx) {
      await handleOf(db, tx)('source_notifications').where({ source, item_id: itemId }).delete();
    },
    async waiting(source) {
      const all = await db('source_notifications').where({ source }).count({ n: '*' });
      const failing = await db('source_notifications').where({ source }).andWhere('attempts', '>', 0).count({ n: '*' }).min({ oldest: 'received_at' });
      const last = await db('source_notifications').where({ source }).andWhere('attempts', '>', 0).orderBy('next_attempt_at', 'desc').first('last_error');
      return {
        waiting: toNumber((all[0] as { n: unknown }).n),
        failing: toNumber((failing[0] as { n: unknown }).n),
        oldestFailingSince: ((failing[0] as { oldest: string | null }).oldest) ?? null,
        lastError: (last?.last_error as string | undefined) ?? null,
      };
    },
  };
}
