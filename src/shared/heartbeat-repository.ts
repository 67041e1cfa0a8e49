import { trxOf, type Database } from './database.js';
import type { Tx } from './transaction.js';

/** The heartbeats table: one row per writer, overwritten on every beat. */
export function createHeartbeatRepository(_db: Database) {
  return {
    /** Writes `name`'s row: proves the database takes writes (and commits them) now. */
    async beat(tx: Tx, name: string, at: Date): Promise<void> {
      await trxOf(tx)('heartbeats').insert({ name, at: at.toISOString() }).onConflict('name').merge();
    },
  };
}
