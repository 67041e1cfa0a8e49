import cron, { type RunCoordinator, type ScheduledTask } from 'node-cron';
import { keepRenewing, type Lease, type RunLeases } from '../src/retention/index.js';
import { errorFacts, type Logger } from '../src/shared/logger.js';

/** How long a lease lives without renewal; a crashed holder blocks other instances at most this long. */
export const LEASE_TTL_MS = 5 * 60_000;

/**
 * node-cron's distributed-run extension point backed by the `job_leases` row: of all instances that
 * fire for a slot, the one whose conditional write wins runs; the others skip ('not-elected'). The
 * lease is per job (not per slot), so a long run also keeps the next slot's run from overlapping it on
 * another instance. It is renewed while the run lasts and released when it ends.
 */
export function leaseCoordinator(leases: RunLeases, logger: Logger): RunCoordinator {
  const held = new Map<string, { lease: Lease; stop: () => void }>();
  return {
    async shouldRun(key, ttlMs) {
      // node-cron's key is "<task name>:<slot ISO time>"; the lease is the task name.
      const name = key.slice(0, key.indexOf(':'));
      const lease = await leases.acquire(name, ttlMs);
      if (!lease) {
        logger.info('another instance holds the job lease; skipping this run', { job: name });
        return false;
      }
      held.set(key, { lease, stop: keepRenewing(lease, ttlMs, logger) });
      return true;
    },
    async onComplete(key) {
      const h = held.get(key);
      if (!h) return;
      held.delete(key);
      h.stop();
      await h.lease.release();
    },
  };
}

/**
 * Schedules `run` in UTC with no overlapping runs inside this process and, through the lease, none
 * across instances. Failures are logged and left to the next run.
 */
export function scheduleExclusive(opts: {
  name: string;
  expression: string;
  run: () => Promise<unknown>;
  leases: RunLeases;
  logger: Logger;
  leaseTtlMs?: number;
}): ScheduledTask {
  const { name, logger } = opts;
  return cron.schedule(
    opts.expression,
    async () => {
      try {
        await opts.run();
      } catch (err) {
        logger.error('scheduled job failed; the next run retries', { job: name, err: errorFacts(err) });
      }
    },
    {
      name,
      timezone: 'Etc/UTC',
      noOverlap: true,
      distributed: true,
      distributedLease: opts.leaseTtlMs ?? LEASE_TTL_MS,
      runCoordinator: leaseCoordinator(opts.leases, logger),
    },
  );
}
