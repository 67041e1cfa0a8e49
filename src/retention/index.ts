import type { Registry } from 'prom-client';
import type { AuditLog } from '../audit-log/index.js';
import type { ReadinessCheck } from '../http/health.routes.js';
import type { DeleteRecordings } from '../recordings/index.js';
import type { Clock } from '../shared/clock.js';
import type { Database } from '../shared/database.js';
import type { Logger } from '../shared/logger.js';
import type { ObjectStore } from '../storage/index.js';
import { createHolds } from './holds.js';
import { createRetention } from './purge-due-recordings.js';
import { createRetentionMetrics, type RetentionMetrics } from './retention-metrics.js';
import { createRunLeases } from './run-lease.js';
import type { DeletionHorizon } from './run-schedule.js';
import { createOrphanSweep } from './sweep-orphans.js';

export { createHolds, type Holds, type Hold } from './holds.js';
export { createRetention, RETENTION_ACTOR, BATCHES_IN_FLIGHT, type Retention, type RetentionRunReport, type OverdueRecording } from './purge-due-recordings.js';
export { createRunLeases, keepRenewing, type RunLeases, type Lease } from './run-lease.js';
export { createDeletionHorizon, type DeletionHorizon, type RunSchedule } from './run-schedule.js';
export { createCronSchedule } from './cron-schedule.js';
export { createOrphanSweep, type SweepOrphans, type OrphanReport } from './sweep-orphans.js';
export { retentionRoutes } from './retention.routes.js';

/** Wires holds, the retention use case, its metrics and the run lease. No I/O happens here. */
export function createRetentionServices(deps: {
  db: Database;
  store: ObjectStore;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  metrics: Registry;
  deleteRecordings: DeleteRecordings;
  horizon: DeletionHorizon;
  orphanGraceMs: number;
}) {
  const holds = createHolds(deps);
  const sweepOrphans = createOrphanSweep({ ...deps, graceMs: deps.orphanGraceMs });
  let metrics: RetentionMetrics | undefined;
  const retention = createRetention({ ...deps, holds, sweepOrphans, metrics: () => metrics! });
  metrics = createRetentionMetrics(deps.metrics, retention.overdueCount);
  const leases = createRunLeases(deps);
  return { holds, retention, leases };
}

/** The overdue alarm for /readyz: not ready while anything unheld is stored past its deadline. */
export function overdueReadinessCheck(retention: { overdueCount(): Promise<number> }): ReadinessCheck {
  return {
    name: 'retention',
    async check() {
      const overdue = await retention.overdueCount();
      return { ok: overdue === 0, details: { overdue } };
    },
  };
}
