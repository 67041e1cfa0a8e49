/**
 * npm run chaos — the fault matrix, from outside, on loopback only: the compiled service
 * (`node dist/src/main.js`, built by the prechaos step) and its scripts as child processes, with real
 * s3rver (behind a port whose faults the drill controls) or the filesystem store, on SQLite and
 * PostgreSQL (127.0.0.1:5432, a throwaway database per drill). Not part of `npm test`; test/chaos/
 * runs the same drills with few trials.
 *
 *   kill -9 during concurrent uploads (CHAOS_UPLOAD_TRIALS, default 30 per backend; unanswered uploads
 *     retried after the restart, as a phone system does)
 *   kill -9 during retention runs (CHAOS_RETENTION_TRIALS, default 10 per backend, 300 due recordings
 *     each; kills spread over a whole run, so every phase is hit)
 *   S3 stopped and black-holed during upload, playback, deletion (manual and a retention run) and
 *     verification
 *   PostgreSQL refusing connections; SQLite locked by another process (BEGIN IMMEDIATE); SQLite on a
 *     full disk (a 64 MB tmpfs, where the machine allows mounting one)
 *   a retention run (`npm run retention`) beside 150 uploads and 150 opt-out registrations
 *   two instances on one PostgreSQL database (same secrets; different or missing ones must not start)
 *   S3 unreachable at start (the pre-call check answers within 1 s, uploads 503, ready once the store
 *     is back); the store failing after 8 MB of a 20 MB upload (503 at once, never 408, nothing left);
 *     SQLite locked 15 s, past its 10 s busy timeout (every route answers within it)
 *   kill -9 while taking from a folder source (CHAOS_SOURCE_TRIALS, default 6 per backend, 4 FreePBX
 *     items each; kills aimed in turn after a download, after a commit, before the source delete)
 *   two instances polling one folder source on one PostgreSQL database (60 items, each stored once)
 *   a PII scan of every file the drills left (data, the S3 store, database files or dump, logs)
 *
 * Bounded: every request has CHAOS_ANSWER_BOUND_MS (35 s) to be answered, every script 3 minutes;
 * the whole run takes about 10–15 minutes on 2 busy cores. Prints one table; exits 1 unless every bad
 * column is 0 (2 if the run itself failed).
 *
 * CHAOS_SCENARIO picks drills: comma-separated names, each optionally with its database
 * (`beside:postgres`); CHAOS_REPEAT=N runs each picked drill N times, as one row summed over the repeats.
 */
import { formatTable, isClean, mergeRows, newRow, type DbKind, type Row } from './chaos/harness.js';
import {
  killDuringRetention, killDuringUploads, postgresRefusing, retentionBesideTraffic, sqliteDiskFull, sqliteLocked, storeOutage, twoInstances, type DrillOptions,
} from './chaos/scenarios.js';
import { sqliteLockedPastBusyTimeout, storeFailsDuringLargeUpload, storeUnreachableAtStart } from './chaos/outage-drills.js';
import { killDuringSourceTakes, twoInstancesPollingOneSource } from './chaos/source-drills.js';

const UPLOAD_TRIALS = Number(process.env.CHAOS_UPLOAD_TRIALS ?? 30);
const RETENTION_TRIALS = Number(process.env.CHAOS_RETENTION_TRIALS ?? 10);
const SOURCE_TRIALS = Number(process.env.CHAOS_SOURCE_TRIALS ?? 6);
/**
 * Comma-separated drills to run (default all): uploads, retention, s3, postgres, locked, full, beside,
 * instances, start, large, busy, source-kill, source-instances, each optionally `:sqlite` or `:postgres` for one backend. CHAOS_ONLY is the older name.
 */
const PICKED = (process.env.CHAOS_SCENARIO ?? process.env.CHAOS_ONLY)?.split(',').map((s) => s.trim()).filter(Boolean);
/** How many times each picked drill runs. */
const REPEAT = Number(process.env.CHAOS_REPEAT ?? 1);
const picked = (name: string, db: DbKind) => !PICKED || PICKED.some((p) => p === name || p === `${name}:${db}`);

async function main(): Promise<void> {
  if (!Number.isInteger(REPEAT) || REPEAT < 1) throw new Error(`CHAOS_REPEAT must be a whole number ≥ 1, not ${process.env.CHAOS_REPEAT}`);
  const started = Date.now();
  const pii = newRow('PII scan of every file left', { db: 'sqlite', store: 'fs' });
  pii.backend = 'all';
  const o: DrillOptions = { runner: 'compiled', pii };
  const drills: [string, DbKind, () => Promise<Row>][] = [
    ['uploads', 'sqlite', () => killDuringUploads('sqlite', 'fs', UPLOAD_TRIALS, o)],
    ['uploads', 'postgres', () => killDuringUploads('postgres', 's3', UPLOAD_TRIALS, o)],
    ['retention', 'sqlite', () => killDuringRetention('sqlite', 'fs', RETENTION_TRIALS, o)],
    ['retention', 'postgres', () => killDuringRetention('postgres', 's3', RETENTION_TRIALS, o)],
    ['s3', 'sqlite', () => storeOutage('sqlite', 'refuse', o)],
    ['s3', 'postgres', () => storeOutage('postgres', 'blackhole', o)],
    ['s3', 'sqlite', () => storeOutage('sqlite', 'blackhole', o)],
    ['postgres', 'postgres', () => postgresRefusing('fs', o)],
    ['locked', 'sqlite', () => sqliteLocked(3, o)],
    ['full', 'sqlite', () => sqliteDiskFull(o)],
    ['beside', 'sqlite', () => retentionBesideTraffic('sqlite', 'fs', o)],
    ['beside', 'postgres', () => retentionBesideTraffic('postgres', 's3', o)],
    ['instances', 'postgres', () => twoInstances('fs', o)],
    ['start', 'sqlite', () => storeUnreachableAtStart('sqlite', o)],
    ['start', 'postgres', () => storeUnreachableAtStart('postgres', o)],
    ['large', 'sqlite', () => storeFailsDuringLargeUpload('sqlite', o)],
    ['large', 'postgres', () => storeFailsDuringLargeUpload('postgres', o)],
    ['busy', 'sqlite', () => sqliteLockedPastBusyTimeout(o)],
    ['source-kill', 'sqlite', () => killDuringSourceTakes('sqlite', 'fs', SOURCE_TRIALS, o)],
    ['source-kill', 'postgres', () => killDuringSourceTakes('postgres', 's3', SOURCE_TRIALS, o)],
    ['source-instances', 'postgres', () => twoInstancesPollingOneSource('fs', o)],
  ];
  const rows: Row[] = [];
  const summaries: string[] = [];
  for (const [name, db, drill] of drills) {
    if (!picked(name, db)) continue;
    const repeats: Row[] = [];
    const t0 = Date.now();
    for (let r = 1; r <= REPEAT; r++) {
      const t1 = Date.now();
      const hitsBefore = pii.piiInLogs;
      const row = await drill();
      repeats.push(row);
      const hits = pii.piiInLogs - hitsBefore + row.piiInLogs;
      const which = REPEAT > 1 ? ` repeat ${r}/${REPEAT}` : '';
      process.stderr.write(`${row.scenario} (${row.backend})${which}: ${((Date.now() - t1) / 1000).toFixed(0)} s${isClean(row) ? '' : ' — not clean'}${hits ? `, PII hits ${hits}` : ''}\n`);
    }
    const row = mergeRows(repeats);
    rows.push(row);
    if (REPEAT > 1) {
      const clean = repeats.filter(isClean).length;
      summaries.push(`${row.scenario} (${row.backend}): ${REPEAT} repeats in ${((Date.now() - t0) / 1000).toFixed(0)} s, ${clean} clean, ${REPEAT - clean} not clean`);
    }
  }
  if (!rows.length) throw new Error(`CHAOS_SCENARIO=${PICKED?.join(',')} picks no drill (names: ${[...new Set(drills.map(([n]) => n))].join(', ')}, each optionally :sqlite or :postgres)`);
  rows.push(pii);
  process.stdout.write('\n' + formatTable(rows));
  if (summaries.length) process.stdout.write(`\n${summaries.join('\n')}\nPII hits (the scan's row): ${pii.piiInLogs} in ${pii.trials} files\n`);
  process.stdout.write(`\nrun took ${((Date.now() - started) / 1000).toFixed(0)} s; every column from "acked uploads lost" to "other broken" must be 0\n`);
  process.exitCode = rows.every(isClean) ? 0 : 1;
}

main().catch((err) => {
  process.stderr.write(`chaos failed: ${(err as Error).stack ?? err}\n`);
  process.exit(2);
});
