import pLimit from 'p-limit';
import type { DeleteRecordings, DeletionReport } from '../recordings/index.js';
import type { Recording, RecordingRepository } from '../recordings/index.js';
import type { Clock } from '../shared/clock.js';
import { Conflict, NotFound, Unavailable } from '../shared/errors.js';
import { errorFacts, errorSummary, type Logger } from '../shared/logger.js';
import type { Holds } from './holds.js';
import type { OverdueRecordings } from './overdue-recordings.js';
import type { RetentionMetrics } from './ports.js';
import type { DeletionHorizon } from './run-schedule.js';
import type { OrphanReport, SweepOrphans } from './sweep-orphans.js';

export const RETENTION_ACTOR = 'system:retention';
/** Rows per batch: one DeleteObjects request (at most 1000 keys) per batch on S3. */
const PAGE = 1000;
/** Batches whose objects are being deleted at once (DeleteObjects + verification); the benchmark's raw baseline uses the same number. */
export const BATCHES_IN_FLIGHT = 2;
/**
 * Batches under way in all, including those whose objects are gone and whose tombstones are still
 * being written: the store gets its next batch while the database writes the last one down.
 */
const BATCHES_PENDING = 4;

export interface RetentionRunReport {
  dryRun: boolean;
  startedAt: string;
  /** Every stored recording with a deadline before this moment was due. */
  cutoff: string;
  /**
   * What the run had to delete: stored recordings with a deadline before the cutoff, and deletions
   * claimed earlier (a manual deletion or opt-out the store could not finish) that it finished or
   * retried. Each is counted once, in exactly one of deleted, held, failed and skipped:
   * due = deleted + held + failed + skipped.
   */
  due: number;
  deleted: string[];
  failed: { id: string; error: string }[];
  held: string[];
  /** Read as due but not attempted: the run stopped early, or another run had finished them first. */
  skipped: number;
  lapsedHolds: string[];
  /**
   * Stored deadlines a shortened retention policy brought forward at the start of this run (each
   * audited as recording.deadline-changed), and the policy version; absent on a dry run.
   */
  policy?: { version: number; deadlinesChanged: number };
  /** Opt-outs of calls that never arrived, forgotten after the retention period (listed only on a dry run). */
  expiredCallOptOuts: string[];
  orphans: OrphanReport;
  /** Recordings still stored past their deadline after the run (held ones excluded). */
  overdue: number;
  durationMs: number;
  /**
   * Why the run stopped before the end, when it did: a batch in which nothing could be deleted while
   * the store does not answer, or a batch that failed (the database). The recordings not yet read,
   * unfinished claims and orphans wait for the next run, instead of each batch waiting out the same
   * outage in turn. Objects the store refuses one by one while it answers do not stop a run.
   */
  stoppedEarly?: string;
  /** With encryption at rest: the keys this run destroyed, data keys re-wrapped for holds, keys that failed. */
  keys?: { destroyed: string[]; rewrapped: number; failed: { key: string; error: string }[] };
}

/**
 * The retention rule: a run deletes every stored, unheld recording whose deadline is before the
 * horizon (next run + margin), through the one deletion path. Failures stay stored and are retried by
 * the next run; nothing is written down as done unless the store confirmed the object gone.
 */
export function createRetention(deps: {
  recordings: RecordingRepository;
  clock: Clock;
  logger: Logger;
  holds: Holds;
  deleteRecordings: DeleteRecordings;
  horizon: DeletionHorizon;
  sweepOrphans: SweepOrphans;
  overdue: OverdueRecordings;
  metrics: RetentionMetrics;
  /**
   * Whether the object store answers (a bounded ping): after a batch in which nothing could be deleted,
   * it tells an outage (stop the run) from objects refused one by one (go on with the rest).
   */
  storeAnswers: () => Promise<boolean>;
  /** Forgets the opt-outs of calls that never arrived within the retention period; returns their ids. */
  expirePendingCallOptOuts: (actor: string, opts: { dryRun?: boolean }) => Promise<string[]>;
  /**
   * Encryption at rest: destroys the period keys due at the horizon (and hold keys no longer needed).
   * Runs even when the store is down: a destroyed key deletes every copy, the unreachable live one too.
   */
  shredKeys?: (opts: { actor: string; cutoff: Date }) => Promise<{ destroyed: string[]; rewrapped: number; failed: { key: string; error: string }[] }>;
  /**
   * Brings stored deadlines in line with a shortened retention policy (once per policy version) before
   * anything is read as due, so a deadline brought forward is deleted by this same run.
   */
  applyPolicy?: (actor: string) => Promise<{ version: number; changed: number }>;
}) {
  const { recordings, clock, logger, holds, deleteRecordings, horizon, sweepOrphans } = deps;

  const { metrics, overdue } = deps;
  return {
    horizon,
    overdueCount: overdue.count,
    listOverdue: overdue.list,

    /** One retention run: lapse holds, delete what is due, sweep orphans, report the overdue count. */
    async run(opts: { dryRun?: boolean } = {}): Promise<RetentionRunReport> {
      const dryRun = opts.dryRun ?? false;
      const started = clock.now();
      const t0 = performance.now();
      const cutoff = horizon.cutoff(started);
      const report: RetentionRunReport = {
        dryRun,
        startedAt: started.toISOString(),
        cutoff: cutoff.toISOString(),
        due: 0,
        deleted: [],
        failed: [],
        held: [],
        skipped: 0,
        lapsedHolds: [],
        expiredCallOptOuts: [],
        orphans: { deleted: [], failed: [], young: 0, resumed: 0 },
        overdue: 0,
        durationMs: 0,
      };

      if (!dryRun) report.lapsedHolds = await holds.lapseExpired(RETENTION_ACTOR);
      if (!dryRun && deps.applyPolicy) {
        try {
          const applied = await deps.applyPolicy(RETENTION_ACTOR);
          report.policy = { version: applied.version, deadlinesChanged: applied.changed };
        } catch (err) {
          // Those changed so far are committed (with their entries); the next run goes on with the rest.
          logger.error('applying the retention policy to stored recordings failed; the next run retries', { err: errorFacts(err) });
        }
      }

      const inFlight = new Set<Promise<void>>();
      const storeSlots = pLimit(BATCHES_IN_FLIGHT);
      const stop = (why: string) => {
        if (report.stoppedEarly) return;
        report.stoppedEarly = why;
        logger.error('the retention run stops early; the next run goes on', { why });
      };
      /**
       * One batch through the deletion path, its outcome added to the report. A batch that throws (the
       * database failed between removing objects and writing tombstones: the next run finds the rows
       * still stored, the objects gone, and finishes them) or in which nothing could be deleted while
       * the store does not answer stops the run.
       */
      const deleteAndTally = async (
        todo: Recording[],
        run: () => Promise<DeletionReport>,
        reasonOf: (id: string) => string,
        whenFailed: string,
      ): Promise<void> => {
        try {
          const result = await run();
          if (!result.deleted.length && result.failed.length && !(await deps.storeAnswers())) stop('a batch in which no recording could be deleted, the store not answering');
          report.deleted.push(...result.deleted);
          report.failed.push(...result.failed);
          // Held after the page was read, before the deletion's own check: left alone, like the others.
          report.held.push(...result.held);
          // Rows someone else had finished (no longer stored, not claimed by this run).
          report.skipped += todo.length - result.deleted.length - result.failed.length - result.held.length;
          for (const id of result.deleted) metrics.deletions.inc({ reason: reasonOf(id) });
          metrics.failures.inc(result.failed.length);
        } catch (err) {
          const error = errorSummary(err);
          logger.error(whenFailed, { count: todo.length, err: errorFacts(err) });
          report.failed.push(...todo.map((r) => ({ id: r.id, error: `unconfirmed: ${error}` })));
          metrics.failures.inc(todo.length);
          stop('a batch that failed');
        }
      };
      const deleteBatch = (todo: Recording[], storeDone: () => void): Promise<void> =>
        deleteAndTally(
          todo,
          () => deleteRecordings(todo, { reason: 'retention', actor: RETENTION_ACTOR, details: { cutoff: report.cutoff }, onStoreDone: storeDone }),
          () => 'retention',
          'a retention batch failed; it will be retried by the next run',
        ).finally(storeDone);

      // Keyset pagination over (deadline, id): rows that failed stay 'stored' and must not be read again.
      let after: { deadline: string; id: string } | undefined;
      while (!report.stoppedEarly) {
        const page = await recordings.storedDueBefore(cutoff, after, PAGE);
        if (!page.length) break;
        const last = page[page.length - 1]!;
        after = { deadline: last.deadline, id: last.id };
        report.due += page.length;

        const held = await holds.activeHoldIds(page.map((r) => r.id), clock.now());
        report.held.push(...held.keys());
        const todo = page.filter((r) => !held.has(r.id));
        if (dryRun) {
          report.deleted.push(...todo.map((r) => r.id));
          continue;
        }
        if (!todo.length) continue;
        // Store round trips of BATCHES_IN_FLIGHT batches at a time, overlapping earlier batches' tombstone writes.
        while (inFlight.size >= BATCHES_PENDING) await Promise.race(inFlight);
        if (report.stoppedEarly) {
          report.skipped += todo.length;
          break;
        }
        // A batch holds its store slot until its store part is over (a second storeDone is a no-op).
        const batch: Promise<void> = new Promise<void>((settled) => {
          void storeSlots(() => new Promise<void>((storeDone) => void deleteBatch(todo, storeDone).then(settled)));
        }).finally(() => inFlight.delete(batch));
        inFlight.add(batch);
      }
      await Promise.all(inFlight);

      // Deletions claimed but never finished (a crash, a store outage) of recordings not yet due: the
      // claim already refuses new holds, so they are finished now, with the reason they were begun with.
      if (!dryRun && !report.stoppedEarly) {
        let afterId: string | undefined;
        while (!report.stoppedEarly) {
          const page = await recordings.claimedNotDue(cutoff, afterId, PAGE);
          if (!page.length) break;
          report.due += page.length;
          const todo = page.map((p) => p.recording);
          afterId = todo[todo.length - 1]!.id;
          const reasons = new Map(page.map((p) => [p.recording.id, p.claim.reason]));
          // Each is finished as its claim said (reason, actor, details); the entry names this run as the one that finished it.
          await deleteAndTally(
            todo,
            () => deleteRecordings(todo, { reason: 'retention', actor: RETENTION_ACTOR }),
            (id) => reasons.get(id) ?? 'retention',
            'finishing claimed deletions failed; the next run retries them',
          );
        }
      }

      if (!dryRun && deps.shredKeys) {
        try {
          report.keys = await deps.shredKeys({ actor: RETENTION_ACTOR, cutoff });
        } catch (err) {
          logger.error('destroying due keys failed; the next run retries', { err: errorFacts(err) });
          report.keys = { destroyed: [], rewrapped: 0, failed: [{ key: '*', error: errorSummary(err) }] };
        }
      }

      try {
        report.expiredCallOptOuts = await deps.expirePendingCallOptOuts(RETENTION_ACTOR, { dryRun });
      } catch (err) {
        logger.error('expiring pending call opt-outs failed; the next run retries', { err: errorFacts(err) });
      }

      if (!report.stoppedEarly) {
        try {
          report.orphans = await sweepOrphans({ actor: RETENTION_ACTOR, dryRun });
          if (!dryRun) {
            metrics.deletions.inc({ reason: 'orphan' }, report.orphans.deleted.length);
            metrics.failures.inc(report.orphans.failed.length);
          }
        } catch (err) {
          logger.error('the orphan sweep failed; it will be retried by the next run', { err: errorFacts(err) });
          report.orphans.failed.push({ key: '*', error: errorSummary(err) });
        }
      }

      report.overdue = await overdue.count();
      report.durationMs = Math.round(performance.now() - t0);
      if (!dryRun) {
        metrics.runDuration.observe(report.durationMs / 1000);
        if (!report.failed.length && !report.orphans.failed.length) metrics.lastSuccess.set(clock.now().getTime() / 1000);
      }
      if (report.overdue > 0) {
        logger.error('recordings are stored past their deadline', { overdue: report.overdue, failed: report.failed.length });
      }
      logger.info(dryRun ? 'retention dry run' : 'retention run finished', {
        cutoff: report.cutoff,
        due: report.due,
        deleted: report.deleted.length,
        failed: report.failed.length,
        held: report.held.length,
        skipped: report.skipped,
        lapsedHolds: report.lapsedHolds.length,
        ...(report.policy?.deadlinesChanged ? { deadlinesChanged: report.policy.deadlinesChanged, policyVersion: report.policy.version } : {}),
        expiredCallOptOuts: report.expiredCallOptOuts.length,
        orphansDeleted: report.orphans.deleted.length,
        overdue: report.overdue,
        durationMs: report.durationMs,
        ...(report.stoppedEarly ? { stoppedEarly: report.stoppedEarly } : {}),
      });
      return report;
    },

    /** Manual deletion (DELETE /v1/recordings/:id): the same path, refused while a hold is active. */
    async deleteOne(id: string, input: { reason: string; actor: string }): Promise<Recording> {
      const recording = await recordings.findById(id);
      if (!recording) throw new NotFound('recording-not-found', `No recording ${id}`);
      if (recording.status !== 'stored') {
        throw new Conflict('recording-not-stored', `Recording ${id} is already ${recording.status}`, { recordingStatus: recording.status });
      }
      const held = await holds.activeHoldIds([id], clock.now());
      if (held.has(id)) throw new Conflict('recording-held', `Recording ${id} is held and cannot be deleted`, { holdId: held.get(id) });
      const result = await deleteRecordings([recording], { reason: 'manual', actor: input.actor, details: { note: input.reason } });
      metrics.deletions.inc({ reason: 'manual' }, result.deleted.length);
      metrics.failures.inc(result.failed.length);
      // A hold placed after the check above and before the deletion's own: the deletion left it alone.
      if (result.held.length) throw new Conflict('recording-held', `Recording ${id} is held and cannot be deleted`);
      if (result.failed.length) {
        throw new Unavailable('store-unavailable', 'The recording could not be deleted from the store yet; it stays marked for deletion, and a retry or the next retention run finishes it');
      }
      const after = await recordings.findById(id);
      return after!;
    },
  };
}

export type Retention = ReturnType<typeof createRetention>;
