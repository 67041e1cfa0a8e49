import type { AuditLog } from '../audit-log/index.js';
import { RECORDINGS_PREFIX, type RecordingRepository } from '../recordings/index.js';
import type { Clock } from '../shared/clock.js';
import type { Transact } from '../shared/transaction.js';
import type { Logger } from '../shared/logger.js';
import type { ObjectStore } from '../storage/index.js';

export interface OrphanReport {
  deleted: string[];
  failed: { key: string; error: string }[];
  /** Orphans that are still inside the grace period (an upload may be about to commit its row). */
  young: number;
}

const BATCH = 1000;

/**
 * Deletes objects under recordings/ that no stored row points at (an upload that crashed between the
 * put and the commit, or a deletion whose row was finished elsewhere) once they are older than the
 * grace period, auditing each as `recording.orphan-deleted`.
 */
export function createOrphanSweep(deps: { recordings: RecordingRepository; transaction: Transact; store: ObjectStore; audit: AuditLog; clock: Clock; logger: Logger; graceMs: number }) {
  const { recordings, transaction, store, audit, clock, logger, graceMs } = deps;

  return async function sweepOrphans(opts: { actor: string; dryRun?: boolean }): Promise<OrphanReport> {
    const report: OrphanReport = { deleted: [], failed: [], young: 0 };
    const olderThan = clock.now().getTime() - graceMs;
    let page: { key: string; lastModified: Date }[] = [];

    const flush = async () => {
      const objects = page;
      page = [];
      if (!objects.length) return;
      const keys = objects.map((o) => o.key);
      const known = await recordings.storedKeysAmong(keys);
      const orphans = objects.filter((o) => !known.has(o.key));
      const old = orphans.filter((o) => o.lastModified.getTime() <= olderThan);
      report.young += orphans.length - old.length;
      if (!old.length) return;
      if (opts.dryRun) {
        report.deleted.push(...old.map((o) => o.key));
        return;
      }
      const result = await store.delete(old.map((o) => o.key));
      report.failed.push(...result.failed);
      const gone = new Set(result.deleted);
      for (const o of old) {
        if (!gone.has(o.key)) continue;
        await transaction((tx) =>
          audit.append(tx, {
            actor: opts.actor,
            action: 'recording.orphan-deleted',
            subject: `object:${o.key}`,
            details: { storageKey: o.key, lastModified: o.lastModified.toISOString(), graceMs },
          }),
        );
        report.deleted.push(o.key);
      }
    };

    for await (const o of store.list(RECORDINGS_PREFIX)) {
      page.push(o);
      if (page.length >= BATCH) await flush();
    }
    await flush();
    if (report.failed.length) logger.error('some orphaned objects could not be deleted; they will be retried', { failed: report.failed.length });
    return report;
  };
}

export type SweepOrphans = ReturnType<typeof createOrphanSweep>;
