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
 *   a PII scan of every file the drills left (data, database files or dump, logs)
 *
 * Bounded: every request has CHAOS_ANSWER_BOUND_MS (35 s) to be answered, every script 3 minutes;
 * the whole run takes about 10–15 minutes on 2 busy cores. Prints one table; exits 1 unless every bad
 * column is 0 (2 if the run itself failed).
 */
import { formatTable, isClean, newRow, type Row } from './chaos/harness.js';
import {
  killDuringRetention, killDuringUploads, postgresRefusing, retentionBesideTraffic, sqliteDiskFull, sqliteLocked, storeOutage, twoInstances, type DrillOptions,
} from './chaos/scenarios.js';
import { sqliteLockedPastBusyTimeout, storeFailsDuringLargeUpload, storeUnreachableAtStart } from './chaos/outage-drills.js';

const UPLOAD_TRIALS = Number(process.env.CHAOS_UPLOAD_TRIALS ?? 30);
const RETENTION_TRIALS = Number(process.env.CHAOS_RETENTION_TRIALS ?? 10);
/** Comma-separated drill names to run (default all): uploads, retention, s3, postgres, locked, full, beside, instances, start, large, busy. */
const ONLY = process.env.CHAOS_ONLY?.split(',').map((s) => s.trim());

async function main(): Promise<void> {
  const started = Date.now();
  const pii = newRow('PII scan of every file left', { db: 'sqlite', store: 'fs' });
  pii.backend = 'all';
  const o: DrillOptions = { runner: 'compiled', pii };
  const drills: [string, () => Promise<Row>][] = [
    ['uploads', () => killDuringUploads('sqlite', 'fs', UPLOAD_TRIALS, o)],
    ['uploads', () => killDuringUploads('postgres', 's3', UPLOAD_TRIALS, o)],
    ['retention', () => killDuringRetention('sqlite', 'fs', RETENTION_TRIALS, o)],
    ['retention', () => killDuringRetention('postgres', 's3', RETENTION_TRIALS, o)],
    ['s3', () => storeOutage('sqlite', 'refuse', o)],
    ['s3', () => storeOutage('postgres', 'blackhole', o)],
    ['s3', () => storeOutage('sqlite', 'blackhole', o)],
    ['postgres', () => postgresRefusing('fs', o)],
    ['locked', () => sqliteLocked(3, o)],
    ['full', () => sqliteDiskFull(o)],
    ['beside', () => retentionBesideTraffic('sqlite', 'fs', o)],
    ['beside', () => retentionBesideTraffic('postgres', 's3', o)],
    ['instances', () => twoInstances('fs', o)],
    ['start', () => storeUnreachableAtStart('sqlite', o)],
    ['start', () => storeUnreachableAtStart('postgres', o)],
    ['large', () => storeFailsDuringLargeUpload('sqlite', o)],
    ['large', () => storeFailsDuringLargeUpload('postgres', o)],
    ['busy', () => sqliteLockedPastBusyTimeout(o)],
  ];
  const rows: Row[] = [];
  for (const [name, drill] of drills) {
    if (ONLY && !ONLY.includes(name)) continue;
    const t0 = Date.now();
    const row = await drill();
    rows.push(row);
    process.stderr.write(`${row.scenario} (${row.backend}): ${((Date.now() - t0) / 1000).toFixed(0)} s${isClean(row) ? '' : ' — not clean'}\n`);
  }
  rows.push(pii);
  process.stdout.write('\n' + formatTable(rows));
  process.stdout.write(`\nrun took ${((Date.now() - started) / 1000).toFixed(0)} s; every column from "acked uploads lost" to "other broken" must be 0\n`);
  process.exitCode = rows.every(isClean) ? 0 : 1;
}

main().catch((err) => {
  process.stderr.write(`chaos failed: ${(err as Error).stack ?? err}\n`);
  process.exit(2);
});
