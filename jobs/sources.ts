import type { ScheduledTask } from 'node-cron';
import type { Services } from '../src/services.js';
import { LEASE_TTL_MS, scheduleExclusive } from './schedule.js';

type SourceDeps = Pick<Services, 'sources' | 'runLeases' | 'logger'>;

/**
 * How long a source's job lease lives without renewal: a poller killed mid-poll blocks the next
 * instance (or itself, restarted) this long. No longer than the source's item lease, so that a crashed
 * take is finished once its item lease expires, not only after the jobs' usual 5 minutes.
 */
export function sourceJobLeaseTtl(config: { leaseMs?: number }): number {
  return Math.min(LEASE_TTL_MS, config.leaseMs ?? LEASE_TTL_MS);
}

/**
 * Polls each configured source on its own interval. The job lease (one per source) keeps two instances
 * from polling one source at once; the item leases keep them from taking one file twice even so.
 * Nothing is scheduled when no source is configured.
 */
export function startSourceJobs(s: SourceDeps) {
  const tasks: ScheduledTask[] = s.sources.pollers.map((poller) =>
    scheduleExclusive({
      name: `source-${poller.name}`,
      expression: poller.config.schedule,
      run: () => poller.poll(),
      leases: s.runLeases,
      logger: s.logger,
      leaseTtlMs: sourceJobLeaseTtl(poller.config),
    }),
  );
  return {
    tasks,
    /** Stops scheduling and closes the sources' connections; a poll in progress keeps its lease until it ends or expires. */
    async stop(): Promise<void> {
      for (const t of tasks) await t.stop();
      await Promise.all(s.sources.pollers.map((p) => p.close().catch(() => undefined)));
    },
  };
}
