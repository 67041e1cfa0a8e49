import { Gauge, type Registry } from 'prom-client';

export type { Registry as MetricsRegistry };

/** The overdue data-subject requests as a Prometheus gauge, read at scrape time. */
export function registerOverdueRequestsGauge(registry: Registry, requests: { overdueCount(): Promise<number> }): void {
  new Gauge({
    name: 'gallra_subject_requests_overdue',
    help: 'Data-subject requests still open past their due date (one calendar month, or the extension).',
    registers: [registry],
    async collect() {
      this.set(await requests.overdueCount());
    },
  });
}
