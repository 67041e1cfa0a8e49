import { randomUUID } from 'node:crypto';
import type { Clock } from '../shared/clock.js';
import { isUniqueViolation, type Database } from '../shared/database.js';
import type { Logger } from '../shared/logger.js';

/** A held lease; renew it while working, release it when done. */
export interface Lease {
  name: string;
  holder: string;
  /** False once the lease was lost (expired and taken by another instance). */
  renew(): Promise<boolean>;
  release(): Promise<void>;
}

/**
 * Mutual exclusion between instances through one row per job in `job_leases`. Both statements are
 * single conditional writes (insert, or update where expired), so SQLite and PostgreSQL need no
 * dialect-specific locking: exactly one contender's write succeeds.
 */
export function createRunLeases(deps: { db: Database; clock: Clock; logger: Logger }) {
  const { db, clock, logger } = deps;

  async function acquire(name: string, ttlMs: number): Promise<Lease | null> {
    const holder = randomUUID();
    const now = clock.now();
    const row = { name, holder, acquired_at: now.toISOString(), expires_at: new Date(now.getTime() + ttlMs).toISOString() };
    try {
      await db('job_leases').insert(row);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const n = await db('job_leases').where({ name }).andWhere('expires_at', '<=', row.acquired_at).update(row);
      if (n !== 1) return null;
    }
    return {
      name,
      holder,
      async renew() {
        const expires = new Date(clock.now().getTime() + ttlMs).toISOString();
        return (await db('job_leases').where({ name, holder }).update({ expires_at: expires })) === 1;
      },
      async release() {
        await db('job_leases').where({ name, holder }).delete();
      },
    };
  }

  return {
    acquire,

    /**
     * Runs `fn` only if the lease is free, renewing it every third of its lifetime while `fn` runs.
     * Returns `{ ran: false }` when another instance holds it.
     */
    async runExclusive<T>(name: string, ttlMs: number, fn: () => Promise<T>): Promise<{ ran: true; result: T } | { ran: false }> {
      const lease = await acquire(name, ttlMs);
      if (!lease) return { ran: false };
      const stopRenewing = keepRenewing(lease, ttlMs, logger);
      try {
        return { ran: true, result: await fn() };
      } finally {
        stopRenewing();
        await lease.release().catch((err: Error) => logger.warn('could not release a job lease; it expires by itself', { lease: name, err: err.message }));
      }
    },
  };
}

export type RunLeases = ReturnType<typeof createRunLeases>;

/** Renews in the background (unref'd: never keeps the process alive); returns the stopper. */
export function keepRenewing(lease: Lease, ttlMs: number, logger: Logger): () => void {
  const timer = setInterval(() => {
    lease.renew().then(
      (ok) => {
        if (!ok) logger.error('a job lease was lost while its run was still going', { lease: lease.name });
      },
      (err: Error) => logger.warn('renewing a job lease failed', { lease: lease.name, err: err.message }),
    );
  }, Math.max(1000, Math.floor(ttlMs / 3)));
  timer.unref();
  return () => clearInterval(timer);
}
