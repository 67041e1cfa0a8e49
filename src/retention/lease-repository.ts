import { isUniqueViolation, type Database } from '../shared/database.js';
import type { LeaseRepository } from './ports.js';

/**
 * The job_leases table: one row per job. Each statement is a single conditional write (insert, or
 * update where expired), so SQLite and PostgreSQL need no dialect-specific locking: exactly one
 * contender's write succeeds.
 */
export function createLeaseRepository(db: Database): LeaseRepository {
  return {
    /** True when this holder now has the lease: it was free, or its last holder let it expire. */
    async take(l: { name: string; holder: string; acquiredAt: string; expiresAt: string }): Promise<boolean> {
      const row = { name: l.name, holder: l.holder, acquired_at: l.acquiredAt, expires_at: l.expiresAt };
      try {
        await db('job_leases').insert(row);
        return true;
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        return (await db('job_leases').where({ name: l.name }).andWhere('expires_at', '<=', l.acquiredAt).update(row)) === 1;
      }
    },
    /** False when the lease is no longer this holder's. */
    async extend(name: string, holder: string, expiresAt: string): Promise<boolean> {
      return (await db('job_leases').where({ name, holder }).update({ expires_at: expiresAt })) === 1;
    },
    async drop(name: string, holder: string): Promise<void> {
      await db('job_leases').where({ name, holder }).delete();
    },
  };
}
