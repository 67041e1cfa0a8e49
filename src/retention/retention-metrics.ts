import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RetentionMetrics } from './ports.js';

/** The retention job's Prometheus metrics, registered on the service's registry. */
export function createRetentionMetrics(registry: Registry, overdue: () => Promise<number>) {
  const metrics = {
    deletions: new Counter({
      name: 'gallra_retention_deletions_total',
      help: 'Recordings (and orphaned objects) deleted, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    failures: new Counter({
      name: 'gallra_retention_deletion_failures_total',
      help: 'Deletions that failed and are left for the next run',
      registers: [registry],
    }),
    runDuration: new Histogram({
      name: 'gallra_retention_run_duration_seconds',
      help: 'Wall time of a retention run',
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900],
      registers: [registry],
    }),
    overdue: new Gauge({
      name: 'gallra_retention_overdue_recordings',
      help: 'Recordings still stored past their deadline (held ones excluded); must be 0',
      registers: [registry],
      // Read at scrape time, so the alarm does not wait for the next run.
      async collect() {
        this.set(await overdue());
      },
    }),
    lastSuccess: new Gauge({
      name: 'gallra_retention_last_success_timestamp_seconds',
      help: 'When the last retention run without failures finished (Unix time)',
      registers: [registry],
    }),
  };
  // The overdue gauge is read at scrape time only; the job uses the rest.
  return metrics satisfies RetentionMetrics;
}
