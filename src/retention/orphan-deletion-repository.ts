import { handleOf, isPostgres, trxOf, type Database } from '../shared/database.js';
import type { Tx } from '../shared/transaction.js';
import type { OrphanDeletion, OrphanDeletionRepository } from './ports.js';

/** SQLite's older limit of 999 bound variables: five columns a row. */
const ROWS_PER_INSERT = 150;
const IDS_PER_STATEMENT = 500;

function fromRow(r: Record<string, unknown>): OrphanDeletion {
  return {
    target: r.target as string,
    kind: r.kind as OrphanDeletion['kind'],
    storageKey: (r.storage_key as string | null) ?? null,
    lastModified: r.last_modified as string,
    recordedAt: r.recorded_at as string,
  };
}

/** The orphan_deletions table: the sweep's intents, written before a deletion and cleared with its audit entry. */
export function createOrphanDeletionRepository(db: Database): OrphanDeletionRepository {
  return {
    /** Records intents; one already recorded for a target (a crashed sweep's) is kept as it is. */
    async record(tx: Tx, intents: OrphanDeletion[]): Promise<void> {
      const trx = trxOf(tx);
      for (let i = 0; i < intents.length; i += ROWS_PER_INSERT) {
        const rows = intents.slice(i, i + ROWS_PER_INSERT).map((d) => ({
          target: d.target,
          kind: d.kind,
          storage_key: d.storageKey,
          last_modified: d.lastModified,
          recorded_at: d.recordedAt,
        }));
        await trx('orphan_deletions').insert(rows).onConflict('target').ignore();
      }
    },

    /**
     * Removes the intents of `targets` and returns those it removed: of two sweeps finishing the same
     * intent only one gets it back (PostgreSQL: the rows are locked, and a row another transaction
     * removed meanwhile is skipped; SQLite: one writer at a time), so only one writes its audit entry.
     */
    async clear(tx: Tx, targets: string[]): Promise<OrphanDeletion[]> {
      const trx = trxOf(tx);
      const out: OrphanDeletion[] = [];
      for (let i = 0; i < targets.length; i += IDS_PER_STATEMENT) {
        const slice = targets.slice(i, i + IDS_PER_STATEMENT);
        const select = trx('orphan_deletions').whereIn('target', slice);
        const rows = (await (isPostgres(trx) ? select.forUpdate() : select)) as Record<string, unknown>[];
        if (!rows.length) continue;
        await trx('orphan_deletions').whereIn('target', rows.map((r) => r.target as string)).delete();
        out.push(...rows.map(fromRow));
      }
      return out;
    },

    /** Intents a sweep recorded and did not finish (it crashed, or the store refused), by target, a page after `after`. */
    async pending(after: string | undefined, limit: number, tx?: Tx): Promise<OrphanDeletion[]> {
      const q = handleOf(db, tx)('orphan_deletions').orderBy('target').limit(limit);
      if (after !== undefined) q.where('target', '>', after);
      return (await q).map(fromRow);
    },
  };
}
