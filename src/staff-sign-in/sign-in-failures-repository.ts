import { lockForTransaction, type Database } from '../shared/database.js';
import type { FailureCount, SignInFailuresRepository } from './ports.js';

/**
 * SQL of `sign_in_failures`: one row per account or token prefix (by hash). Counting is a
 * read-modify-write under a lock per key, so instances sharing one PostgreSQL count together.
 */
export function createSignInFailuresRepository(db: Database): SignInFailuresRepository {
  return {
    async find(key: string): Promise<FailureCount | undefined> {
      const r = await db('sign_in_failures').where({ key }).first();
      return r ? { failures: Number(r.failures), windowStartedAt: r.window_started_at, blockedUntil: r.blocked_until ?? null } : undefined;
    },

    /** Applies `next` to the key's count (undefined when there is none) and stores the result, atomically. */
    async update(key: string, next: (current: FailureCount | undefined) => FailureCount): Promise<FailureCount> {
      return db.transaction(async (trx) => {
        await lockForTransaction(trx, `sign-in-failures:${key}`);
        const r = await trx('sign_in_failures').where({ key }).first();
        const current = r ? { failures: Number(r.failures), windowStartedAt: r.window_started_at, blockedUntil: r.blocked_until ?? null } : undefined;
        const n = next(current);
        const row = { failures: n.failures, window_started_at: n.windowStartedAt, blocked_until: n.blockedUntil };
        if (r) await trx('sign_in_failures').where({ key }).update(row);
        else await trx('sign_in_failures').insert({ key, ...row });
        return n;
      });
    },

    /** Forgets counts whose window began before `before` (they no longer count): the table stays small. */
    async removeStale(before: string): Promise<void> {
      await db('sign_in_failures').where('window_started_at', '<', before).delete();
    },

    async remove(key: string): Promise<void> {
      await db('sign_in_failures').where({ key }).delete();
    },
  };
}
