/**
 * npm run bench:retention — the retention job against a local S3-compatible server (s3rver on
 * loopback, in a process of its own as a store would be) beside a raw baseline: the SDK's
 * DeleteObjects on the same number of keys, batches of 1000, with as many batches in flight as the
 * job (BATCHES_IN_FLIGHT).
 *
 * The recordings are what a month of calls leaves behind: call starts spread evenly over 30 days,
 * each uploaded five minutes after it started, every one past its deadline (a catch-up run).
 *
 * The job runs four times, each on fresh rows and objects: twice under a retention policy of 100 rules
 * (exact queue names and globs over the recordings' 100 queues) and twice under one rule, alternating.
 * Each policy is a new version when the job starts, so it first walks every stored recording through
 * the rules (applyToStored, timed on its own too) and then deletes: the faster 100-rule job must keep
 * ≥ 0.9 of the faster single-rule job's throughput.
 *
 * BENCH_RECORDINGS=100000 for the full size (default 5000, which finishes in a few minutes on 2 cores).
 * Prints wall times, deletions/s, the ratio job ÷ baseline (deletions/s) and 100 rules ÷ one rule.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { DeleteObjectsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { storageKeyFor, type Recording } from '../src/recordings/index.js';
import * as recordingRepository from '../src/recordings/recording-repository.js';
import type { PolicyRule } from '../src/retention-policy/index.js';
import { BATCHES_IN_FLIGHT } from '../src/retention/index.js';
import { createServices } from '../src/services.js';
import { DAY_MS, ManualClock } from '../src/shared/clock.js';
import { createDatabase, migrateLatest, type Database } from '../src/shared/database.js';
import { createLogger } from '../src/shared/logger.js';
import { createS3Client, createS3ObjectStore } from '../src/storage/index.js';
import { s3ConfigFor } from '../test/helpers/s3-server.js';
import { testConfig } from '../test/helpers/test-app.js';
import { startS3rverProcess } from './s3rver-child.js';

const N = Number(process.env.BENCH_RECORDINGS ?? 5000);
const BATCH = 1000;
const PUT_CONCURRENCY = 16;
const BODY = Buffer.alloc(2048, 1);
const QUEUES = 100;
const queueOf = (i: number) => `kö-${i % QUEUES}`;

/** One rule over every queue, and 100 rules: an exact name for half the queues, a glob for each of the others. */
const ONE_RULE: PolicyRule[] = [{ match: { queue: 'kö-*' }, retainDays: 30 }];
const HUNDRED_RULES: PolicyRule[] = Array.from({ length: 100 }, (_, i) =>
  i < 50 ? { match: { queue: `KÖ-${i}` }, retainDays: 30 } : { match: { queue: `kö-${i}*` }, retainDays: 30 },
);

async function seedObjects(client: S3Client, bucket: string, keys: string[]): Promise<void> {
  await pLimit(PUT_CONCURRENCY).map(keys, async (Key) => {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: BODY, ContentType: 'audio/wav' }));
  });
}

interface Seeded {
  id: string;
  key: string;
  startedAt: Date;
}

/** Recordings as a month of calls leaves them: starts spread over 30 days, all past their deadline. */
function recordingsFor(n: number, now: Date): Seeded[] {
  const newest = now.getTime() - 30 * DAY_MS - 3_600_000;
  return Array.from({ length: n }, (_, i) => {
    const id = randomUUID();
    const startedAt = new Date(newest - Math.floor((i / n) * 30 * DAY_MS));
    return { id, startedAt, key: storageKeyFor(id, new Date(startedAt.getTime() + 5 * 60_000)) };
  });
}

async function seedRows(db: Database, items: Seeded[]): Promise<void> {
  const rows = items.map(({ id, key, startedAt }, i) => {
    const started = startedAt.toISOString();
    return recordingRepository.toRow({
      id, callId: `call-${id}`, startedAt: started, endedAt: started, queue: queueOf(i), agentId: null,
      callerKey: null, storageKey: key, contentType: 'audio/wav', bytes: BODY.length, sha256: '0'.repeat(64), durationMs: null,
      status: 'stored', reason: null, deadline: new Date(startedAt.getTime() + 30 * DAY_MS).toISOString(), deletedAt: null, createdAt: started, updatedAt: started,
    } satisfies Recording);
  });
  // SQLite allows 999 bound variables per statement: 20 columns × 40 rows stays below.
  await db.transaction(async (trx) => {
    for (let i = 0; i < rows.length; i += 40) await trx('recordings').insert(rows.slice(i, i + 40));
  });
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  const server = await startS3rverProcess();
  const dir = mkdtempSync(path.join(tmpdir(), 'gallra-bench-'));
  // On a loaded machine s3rver may take longer than the production bounds (10 s) for one DeleteObjects of 1000 keys.
  const s3 = { ...s3ConfigFor(server), requestTimeoutMs: 120_000 };
  const client = createS3Client(s3);
  const now = new Date();
  try {
    process.stderr.write(`bench:retention — ${N} recordings on s3rver ${server.endpoint}\n`);

    // Baseline: raw DeleteObjects on N keys, 1000 per request, the job's number of requests in flight.
    const raw = recordingsFor(N, now);
    let t0 = performance.now();
    await seedObjects(client, s3.bucket, raw.map((k) => k.key));
    process.stderr.write(`  seeded ${N} objects for the baseline in ${fmt(performance.now() - t0)}\n`);
    t0 = performance.now();
    const batches = Array.from({ length: Math.ceil(raw.length / BATCH) }, (_, i) => raw.slice(i * BATCH, (i + 1) * BATCH));
    await pLimit(BATCHES_IN_FLIGHT).map(batches, async (batch) => {
      const out = await client.send(
        new DeleteObjectsCommand({ Bucket: s3.bucket, Delete: { Objects: batch.map((k) => ({ Key: k.key })), Quiet: true } }),
      );
      if (out.Errors?.length) throw new Error(`baseline delete failed: ${out.Errors[0]!.Code}`);
    });
    const baselineMs = performance.now() - t0;

    // The job: same number of keys, with rows, through services.retention.run(), under each policy.
    const runJob = async (name: string, rules: PolicyRule[]) => {
      const jobDir = path.join(dir, name);
      const config = testConfig(jobDir, { storageDriver: 's3', s3, databaseUrl: `sqlite:${path.join(jobDir, 'gallra.sqlite')}` });
      mkdirSync(jobDir, { recursive: true });
      const db = createDatabase(config.databaseUrl);
      await migrateLatest(db);
      const s3store = createS3ObjectStore({ client, bucket: s3.bucket, sse: 'none', operationTimeoutMs: 300_000 });
      // Time inside the store's delete (DeleteObjects + verification), summed over the batches in flight.
      let storeDeleteMs = 0;
      const store = {
        ...s3store,
        async delete(keys: string[]) {
          const t = performance.now();
          try {
            return await s3store.delete(keys);
          } finally {
            storeDeleteMs += performance.now() - t;
          }
        },
      };
      const logger = createLogger({ level: 'warn', stream: new PassThrough() });
      const services = createServices({ config, db, store, logger, clock: new ManualClock(now) });
      const items = recordingsFor(N, now);
      let t1 = performance.now();
      await seedObjects(client, s3.bucket, items.map((k) => k.key));
      await seedRows(db, items);
      await services.retentionPolicy.set({ rules }, 'bench', 'cli');
      process.stderr.write(`  seeded ${N} objects and rows for the job (${rules.length} rule${rules.length === 1 ? '' : 's'}) in ${fmt(performance.now() - t1)}\n`);
      t1 = performance.now();
      // The step whose cost depends on the rules: every stored recording through them (the run below then finds the version applied).
      const applied = await services.retentionPolicy.applyToStored('system:retention');
      const applyMs = performance.now() - t1;
      const report = await services.retention.run();
      const jobMs = performance.now() - t1;
      if (applied.version !== 1) throw new Error('the policy was not applied');
      await db.destroy();
      if (report.deleted.length !== N || report.failed.length) {
        const reasons = [...new Set(report.failed.map((f) => f.error))].slice(0, 5).join('; ');
        throw new Error(`the job deleted ${report.deleted.length} of ${N} (${report.failed.length} failed: ${reasons})`);
      }
      return { jobMs, applyMs, storeDeleteMs };
    };
    // Each policy twice, alternating and 100 rules first (the first job also pays for warming up); the
    // faster of each pair counts, so that a burst of load on a shared machine does not decide the ratio.
    const runs: Array<{ name: string; jobMs: number; applyMs: number; storeDeleteMs: number }> = [];
    for (const [name, rules] of [['hundred-rules-1', HUNDRED_RULES], ['one-rule-1', ONE_RULE], ['hundred-rules-2', HUNDRED_RULES], ['one-rule-2', ONE_RULE]] as const) {
      runs.push({ name, ...(await runJob(name, rules)) });
    }
    const best = (prefix: string) => runs.filter((r) => r.name.startsWith(prefix)).reduce((a, b) => (b.jobMs < a.jobMs ? b : a));
    const hundred = best('hundred');
    const single = best('one');
    const { jobMs, storeDeleteMs } = single;

    const baselineRate = N / (baselineMs / 1000);
    const jobRate = N / (jobMs / 1000);
    const result = {
      recordings: N,
      batchSize: BATCH,
      batchesInFlight: BATCHES_IN_FLIGHT,
      baseline: { wallMs: Math.round(baselineMs), deletionsPerSecond: Math.round(baselineRate) },
      job: { wallMs: Math.round(jobMs), deletionsPerSecond: Math.round(jobRate), storeDeleteMsSummedOverBatches: Math.round(storeDeleteMs) },
      ratio: Number((jobRate / baselineRate).toFixed(3)),
      hundredRules: { wallMs: Math.round(hundred.jobMs), deletionsPerSecond: Math.round(N / (hundred.jobMs / 1000)), storeDeleteMsSummedOverBatches: Math.round(hundred.storeDeleteMs) },
      /** Walking every stored recording through the rules, within each job's wall time. */
      applyPolicyMs: { oneRule: Math.round(single.applyMs), hundredRules: Math.round(hundred.applyMs) },
      runs: runs.map((r) => ({ name: r.name, wallMs: Math.round(r.jobMs), applyMs: Math.round(r.applyMs) })),
      /** Throughput under 100 rules ÷ under one rule (target ≥ 0.9). */
      policyRatio: Number((single.jobMs / hundred.jobMs).toFixed(3)),
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    process.stderr.write(
      `  baseline DeleteObjects: ${fmt(baselineMs)} (${Math.round(baselineRate)}/s)\n` +
        `  retention job:          ${fmt(jobMs)} (${Math.round(jobRate)}/s), verified gone, tombstoned and audited\n` +
        `  ratio job ÷ baseline:   ${result.ratio} (target ≥ 0.8)\n` +
        `  job under 100 rules:    ${fmt(hundred.jobMs)} (${result.hundredRules.deletionsPerSecond}/s); applying the rules: ${fmt(hundred.applyMs)} (one rule: ${fmt(single.applyMs)})\n` +
        `  100 rules ÷ one rule:   ${result.policyRatio} (target ≥ 0.9)\n`,
    );
  } finally {
    client.destroy();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench:retention failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
