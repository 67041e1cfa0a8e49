import type { Services } from '../src/services.js';
import { errorFacts } from '../src/shared/logger.js';
import type { RetentionRunReport } from '../src/retention/index.js';
import { warnOfOverdueRequests } from '../src/subject-requests/index.js';
import { LEASE_TTL_MS, scheduleExclusive } from './schedule.js';

const JOB = 'retention';

type RetentionDeps = Pick<Services, 'retention' | 'runLeases' | 'logger' | 'config'> & Partial<Pick<Services, 'subjectRequests'>>;

/** A retention run, then the overdue data-subject requests logged as an error (one line per run while any is). */
async function runAndWarn(s: RetentionDeps): Promise<RetentionRunReport> {
  const report = await s.retention.run();
  if (s.subjectRequests) await warnOfOverdueRequests(s.subjectRequests.requests, s.logger);
  return report;
}

/**
 * One retention run, taking the same lease as the scheduled runs, so a start-up run, a shell run and
 * another instance's scheduled run never delete concurrently. A dry run changes nothing and needs no lease.
 */
export async function runRetentionOnce(s: RetentionDeps, opts: { dryRun?: boolean } = {}): Promise<{ ran: true; report: RetentionRunReport } | { ran: false }> {
  if (opts.dryRun) return { ran: true, report: await s.retention.run({ dryRun: true }) };
  const r = await s.runLeases.runExclusive(JOB, LEASE_TTL_MS, () => runAndWarn(s));
  if (!r.ran) s.logger.info('another instance is running retention; skipped', { job: JOB });
  return r.ran ? { ran: true, report: r.result } : { ran: false };
}

/** Schedules retention (RETENTION_SCHEDULE, UTC) and runs it once now, to catch up after downtime. */
export function startRetentionJob(s: RetentionDeps) {
  const task = scheduleExclusive({ name: JOB, expression: s.config.retentionSchedule, run: () => runAndWarn(s), leases: s.runLeases, logger: s.logger });
  const startup = runRetentionOnce(s).catch((err: Error) => s.logger.error('the start-up retention run failed; the schedule retries', { err: errorFacts(err) }));
  return {
    task,
    /** Stops scheduling and waits for the start-up run; a scheduled run in progress keeps its lease until it ends or expires. */
    async stop(): Promise<void> {
      await task.stop();
      await startup;
    },
  };
}
