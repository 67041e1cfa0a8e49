import { Gauge, type Registry } from 'prom-client';
import type { SourceItemRepository } from './ports.js';
import type { SourceState } from './poll-source.js';

/** The sources' Prometheus metrics, read at scrape time. */
export function createSourceMetrics(registry: Registry, deps: { items: SourceItemRepository; states: () => SourceState[] }): void {
  const counts = async () => new Map((await deps.items.counts()).map((c) => [c.source, c]));
  new Gauge({
    name: 'gallra_source_copies_pending',
    help: 'Recordings taken from a source whose copy there is not deleted yet (retried every poll)',
    labelNames: ['source'] as const,
    registers: [registry],
    async collect() {
      const by = await counts();
      for (const s of deps.states()) this.set({ source: s.name }, s.deleteAtSource ? (by.get(s.name)?.pending ?? 0) : 0);
    },
  });
  new Gauge({
    name: 'gallra_source_items_rejected',
    help: 'Items left at a source because they were rejected (not audio, too large, bad metadata)',
    labelNames: ['source'] as const,
    registers: [registry],
    async collect() {
      const by = await counts();
      for (const s of deps.states()) this.set({ source: s.name }, by.get(s.name)?.rejected ?? 0);
    },
  });
  new Gauge({
    name: 'gallra_source_up',
    help: '1 when the last poll of the source reached it, 0 when it failed',
    labelNames: ['source'] as const,
    registers: [registry],
    collect() {
      for (const s of deps.states()) this.set({ source: s.name }, s.lastError ? 0 : 1);
    },
  });
}
