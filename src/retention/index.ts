import type { ReadinessCheck } from '../shared/readiness.js';

export { createHolds, type Holds, type Hold } from './holds.js';
export type { ActiveHold, HoldRepository, HoldReportFacts, RequestHolds, LeaseRepository, OrphanDeletion, OrphanDeletionRepository, RetentionMetrics } from './ports.js';
export { createHoldRepository, createHoldReportFacts, createHoldStoredText } from './hold-repository.js';
export { createLeaseRepository } from './lease-repository.js';
export { createRetention, RETENTION_ACTOR, BATCHES_IN_FLIGHT, type Retention, type RetentionRunReport } from './purge-due-recordings.js';
export { createRunLeases, keepRenewing, type RunLeases, type Lease } from './run-lease.js';
export { createDeletionHorizon, type DeletionHorizon, type RunSchedule } from './run-schedule.js';
export { createOverdueRecordings, type OverdueRecordings, type OverdueRecording } from './overdue-recordings.js';
export { createRetentionMetrics } from './retention-metrics.js';
export { createCronSchedule } from './cron-schedule.js';
export { createOrphanSweep, type SweepOrphans, type OrphanReport } from './sweep-orphans.js';
export { createOrphanDeletionRepository } from './orphan-deletion-repository.js';

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
