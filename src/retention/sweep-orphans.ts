import type { AuditInput, AuditLog } from '../audit-log/index.js';
import { RECORDINGS_PREFIX, type RecordingRepository } from '../recordings/index.js';
import type { Clock } from '../shared/clock.js';
import type { Transact } from '../shared/transaction.js';
import type { Logger } from '../shared/logger.js';
import type { DeleteResult, ObjectStore } from '../storage/index.js';
import type { OrphanDeletion, OrphanDeletionRepository } from './ports.js';

export interface OrphanReport {
  /** Object keys and crash leftovers' ids deleted, each with exactly one `recording.orphan-deleted` entry (on a dry run: would be). */
  deleted: string[];
  failed: { key: string; error: string }[];
  /** Orphans that are still inside the grace period (an upload may be about to commit its row). */
  young: number;
  /** Of `deleted`, those an earlier sweep had begun (it crashed, or the store refused) and this one finished. */
  resumed: number;
}

const BATCH = 1000;
/** Audit entries (and cleared intents) to a transaction: one commit per group, not per orphan. */
const ENTRIES_PER_TRANSACTION = 500;

/**
 * Deletes what a crash left in the store once older than the grace period: objects under recordings/
 * that no stored row points at (an upload that crashed between the put and the commit, or a deletion
 * whose row was finished elsewhere), and the store's leftovers (temp files, lone sidecars, unfinished
 * multipart uploads), auditing each as `recording.orphan-deleted`.
 *
 * Each deletion is written ahead: an intent row is committed before the store deletes, and the audit
 * entry is appended in the transaction that clears it. A sweep that dies in between leaves the intent,
 * and the next sweep finishes it first (deleting again, which counts a missing target as deleted), so
 * every orphan deletion ends with exactly one entry.
 */
export function createOrphanSweep(deps: {
  recordings: RecordingRepository;
  intents: OrphanDeletionRepository;
  transaction: Transact;
  store: ObjectStore;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  graceMs: number;
}) {
  const { recordings, intents, transaction, store, audit, clock, logger, graceMs } = deps;

  function entryOf(d: OrphanDeletion, actor: string, resumed: boolean): AuditInput {
    const details: Record<string, unknown> =
      d.kind === 'object'
        ? { storageKey: d.target, kind: d.kind, lastModified: d.lastModified, graceMs }
        : { kind: d.kind, leftover: d.target, ...(d.storageKey !== null ? { storageKey: d.storageKey } : {}), lastModified: d.lastModified, graceMs };
    if (resumed) details.resumed = true;
    // A multipart upload's id is its key and S3's upload id, too long for a subject: the subject names the key.
    const subject = `object:${d.kind === 'multipart-upload' && d.storageKey !== null ? d.storageKey : d.target}`;
    return { actor, action: 'recording.orphan-deleted', subject, details };
  }

  /** Deletes the targets from the store and writes down those verifiably gone; failures keep their intents. */
  async function carryOut(todo: OrphanDeletion[], report: OrphanReport, opts: { actor: string; resumed: boolean; attempted: Set<string> }): Promise<void> {
    for (const d of todo) opts.attempted.add(d.target);
    const objects = todo.filter((d) => d.kind === 'object').map((d) => d.target);
    const leftovers = todo.filter((d) => d.kind !== 'object').map((d) => d.target);
    const results: DeleteResult[] = [];
    if (objects.length) results.push(await store.delete(objects));
    if (leftovers.length) results.push(await store.removeLeftovers(leftovers));
    const gone = new Set(results.flatMap((r) => r.deleted));
    report.failed.push(...results.flatMap((r) => r.failed));
    const done = todo.filter((d) => gone.has(d.target));
    for (let i = 0; i < done.length; i += ENTRIES_PER_TRANSACTION) {
      const group = done.slice(i, i + ENTRIES_PER_TRANSACTION);
      const written = await transaction(async (tx) => {
        // Conditional: an intent someone else cleared first keeps their entry and gets none here.
        const cleared = new Set((await intents.clear(tx, group.map((d) => d.target))).map((d) => d.target));
        const mine = group.filter((d) => cleared.has(d.target));
        await audit.appendAll(tx, mine.map((d) => entryOf(d, opts.actor, opts.resumed)));
        return mine.map((d) => d.target);
      });
      report.deleted.push(...written);
      if (opts.resumed) report.resumed += written.length;
    }
  }

  /** Writes the intents ahead, then carries them out; a target this sweep already tried (resuming) is left for the next. */
  async function deleteAhead(all: OrphanDeletion[], report: OrphanReport, opts: { actor: string; attempted: Set<string> }): Promise<void> {
    const todo = all.filter((d) => !opts.attempted.has(d.target));
    if (!todo.length) return;
    await transaction((tx) => intents.record(tx, todo));
    await carryOut(todo, report, { ...opts, resumed: false });
  }

  /** Finishes the intents an earlier sweep left: it died between deciding and writing down, or the store refused. */
  async function resume(report: OrphanReport, opts: { actor: string; attempted: Set<string> }): Promise<void> {
    let after: string | undefined;
    for (;;) {
      const pending = await intents.pending(after, BATCH);
      if (!pending.length) return;
      after = pending[pending.length - 1]!.target;
      // An object a stored recording points at is no orphan (an upload committed after all): its intent
      // is dropped, nothing deleted and nothing written.
      const objectKeys = pending.filter((d) => d.kind === 'object').map((d) => d.target);
      const claimed = objectKeys.length ? await recordings.storedKeysAmong(objectKeys) : new Set<string>();
      if (claimed.size) {
        await transaction((tx) => intents.clear(tx, [...claimed]));
        logger.warn('an orphan deletion was dropped: a stored recording points at its object', { count: claimed.size });
      }
      for (const target of claimed) opts.attempted.add(target);
      await carryOut(pending.filter((d) => !claimed.has(d.target)), report, { ...opts, resumed: true });
    }
  }

  return async function sweepOrphans(opts: { actor: string; dryRun?: boolean }): Promise<OrphanReport> {
    const report: OrphanReport = { deleted: [], failed: [], young: 0, resumed: 0 };
    const now = clock.now();
    const olderThan = new Date(now.getTime() - graceMs);
    const run = { actor: opts.actor, attempted: new Set<string>() };
    if (!opts.dryRun) await resume(report, run);

    let page: { key: string; lastModified: Date }[] = [];
    const flush = async () => {
      const objects = page;
      page = [];
      if (!objects.length) return;
      const known = await recordings.storedKeysAmong(objects.map((o) => o.key));
      const orphans = objects.filter((o) => !known.has(o.key));
      const old = orphans.filter((o) => o.lastModified.getTime() <= olderThan.getTime());
      report.young += orphans.length - old.length;
      if (opts.dryRun) {
        report.deleted.push(...old.map((o) => o.key));
        return;
      }
      await deleteAhead(
        old.map((o) => ({ target: o.key, kind: 'object', storageKey: o.key, lastModified: o.lastModified.toISOString(), recordedAt: now.toISOString() })),
        report,
        run,
      );
    };
    for await (const o of store.list(RECORDINGS_PREFIX)) {
      page.push(o);
      if (page.length >= BATCH) await flush();
    }
    await flush();

    // What a crash left besides objects: call audio all the same, never listed nor deleted otherwise.
    let leftovers: OrphanDeletion[] = [];
    const flushLeftovers = async () => {
      const todo = leftovers;
      leftovers = [];
      if (opts.dryRun) report.deleted.push(...todo.map((d) => d.target));
      else await deleteAhead(todo, report, run);
    };
    for await (const l of store.leftovers(RECORDINGS_PREFIX, olderThan)) {
      leftovers.push({ target: l.id, kind: l.kind, storageKey: l.key ?? null, lastModified: l.lastModified.toISOString(), recordedAt: now.toISOString() });
      if (leftovers.length >= BATCH) await flushLeftovers();
    }
    await flushLeftovers();

    if (report.failed.length) logger.error('some orphaned objects could not be deleted; they will be retried', { failed: report.failed.length });
    return report;
  };
}

export type SweepOrphans = ReturnType<typeof createOrphanSweep>;
