import { handleOf, toNumber, trxOf, type Database } from '../shared/database.js';
import type { Tx } from '../shared/transaction.js';
import type { SourceItem, SourceItemRepository } from './ports.js';

function fromRow(r: Record<string, unknown>): SourceItem {
  return {
    source: r.source as string,
    itemId: r.item_id as string,
    state: r.state as SourceItem['state'],
    size: toNumber(r.size),
    mtimeMs: toNumber(r.mtime_ms),
    seenAt: r.seen_at as string,
    leaseOwner: (r.lease_owner as string | null) ?? null,
    leaseUntil: (r.lease_until as string | null) ?? null,
    recordingId: (r.recording_id as string | null) ?? null,
    outcome: (r.outcome as SourceItem['outcome']) ?? null,
    reason: (r.reason as string | null) ?? null,
    maskedName: (r.masked_name as string | null) ?? null,
    bytes: r.bytes == null ? null : toNumber(r.bytes),
    takenAt: (r.taken_at as string | null) ?? null,
    updatedAt: r.updated_at as string,
  };
}

/** The source_items table: the one owner of it. */
export function createSourceItemRepository(db: Database): SourceItemRepository {
  return {
    async ofSource(source, itemIds) {
      const out = new Map<string, SourceItem>();
      for (let i = 0; i < itemIds.length; i += 500) {
        const rows = await db('source_items').where({ source }).whereIn('item_id', itemIds.slice(i, i + 500));
        for (const r of rows) out.set(r.item_id as string, fromRow(r));
      }
      return out;
    },

    async pendingDeletion(source) {
      return (await db('source_items').where({ source, state: 'taken' }).orderBy('taken_at')).map(fromRow);
    },

    async insertSeen(items, tx) {
      for (let i = 0; i < items.length; i += 100) {
        const rows = items.slice(i, i + 100).map(({ source, itemId, size, mtimeMs, at, maskedName }) => ({
          source, item_id: itemId, state: 'seen', size, mtime_ms: mtimeMs, seen_at: at, masked_name: maskedName, created_at: at, updated_at: at,
        }));
        await handleOf(db, tx)('source_items').insert(rows).onConflict(['source', 'item_id']).ignore();
      }
    },

    async resetSeen({ source, itemId, size, mtimeMs, at, maskedName }) {
      // Not while another instance is taking it, nor once it is taken: those finish first.
      await db('source_items')
        .where({ source, item_id: itemId })
        .whereIn('state', ['seen', 'rejected', 'deleted'])
        .update({ state: 'seen', size, mtime_ms: mtimeMs, seen_at: at, masked_name: maskedName, reason: null, recording_id: null, outcome: null, bytes: null, taken_at: null, lease_owner: null, lease_until: null, updated_at: at });
    },

    async claim(source, itemIds, owner, now, until) {
      const got = new Set<string>();
      for (let i = 0; i < itemIds.length; i += 500) {
        const rows = (await db('source_items')
          .where({ source })
          .whereIn('item_id', itemIds.slice(i, i + 500))
          .where((w) => w.where('state', 'seen').orWhere((x) => x.where('state', 'taking').andWhere('lease_until', '<', now)))
          .update({ state: 'taking', lease_owner: owner, lease_until: until, updated_at: now }, ['item_id'])) as Array<{ item_id: string }>;
        for (const r of rows) got.add(r.item_id);
      }
      return got;
    },

    async markTaken(source, itemId, owner, f, tx) {
      await handleOf(db, tx)('source_items')
        .where({ source, item_id: itemId, state: 'taking', lease_owner: owner })
        .update({ state: 'taken', recording_id: f.recordingId, outcome: f.outcome, bytes: f.bytes, taken_at: f.at, lease_owner: null, lease_until: null, updated_at: f.at });
    },

    async release(source, itemId, owner) {
      await db('source_items').where({ source, item_id: itemId, state: 'taking', lease_owner: owner }).update({ state: 'seen', lease_owner: null, lease_until: null });
    },

    async markRejected(tx, source, itemId, owner, f) {
      const n = await trxOf(tx)('source_items')
        .where({ source, item_id: itemId, state: 'taking', lease_owner: owner })
        .update({ state: 'rejected', reason: f.reason, lease_owner: null, lease_until: null, updated_at: f.at });
      return n === 1;
    },

    async markDeleted(tx, source, itemId, at) {
      const n = await trxOf(tx)('source_items').where({ source, item_id: itemId, state: 'taken' }).update({ state: 'deleted', updated_at: at });
      return n === 1;
    },

    async counts() {
      const rows = await handleOf(db)('source_items')
        .whereIn('state', ['taken', 'rejected'])
        .groupBy('source', 'state')
        .select('source', 'state')
        .count({ n: '*' })
        .min({ oldest: 'taken_at' });
      const by = new Map<string, { source: string; pending: number; oldestPendingAt: string | null; rejected: number }>();
      for (const r of rows as Array<{ source: string; state: string; n: unknown; oldest: string | null }>) {
        const c = by.get(r.source) ?? { source: r.source, pending: 0, oldestPendingAt: null, rejected: 0 };
        if (r.state === 'taken') {
          c.pending = toNumber(r.n);
          c.oldestPendingAt = r.oldest;
        } else c.rejected = toNumber(r.n);
        by.set(r.source, c);
      }
      return [...by.values()];
    },

    async rejected(source) {
      return (await db('source_items').where({ source, state: 'rejected' }).orderBy('updated_at')).map(fromRow);
    },
  };
}
