import type { ScheduledTask } from 'node-cron';
import type { Services } from '../src/services.js';
import { scheduleExclusive } from './schedule.js';

type SourceDeps = Pick<Services, 'sources' | 'runLeases' | 'logger'>;

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
