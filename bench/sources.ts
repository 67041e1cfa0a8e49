/**
 * npm run bench:sources [-- --kind sftp|bucket] — recordings taken from an SFTP source into the S3 store, deletion at the
 * source included, against a raw baseline in the same run: the same SFTP client (ssh2-sftp-client)
 * listing and downloading each file, the SDK putting it to the same bucket, then removing audio and
 * sidecar at the source, at the same concurrency. The SFTP server is Debian's OpenSSH sshd started
 * here (test/helpers/sshd.ts), the store s3rver in a process of its own; gallra's poller runs in this
 * process on SQLite, with its peak RSS growth sampled while it works.
 *
 * `--kind bucket`: the same from a platform's bucket (a Genesys Cloud bulk export: audio and
 * `_metadata.json` per recording) in an s3rver process of its own, to the store in another, against a
 * raw SDK copy in the same run: GetObject of the metadata and the audio, PutObject to the store,
 * DeleteObjects of both, at the same concurrency.
 *
 * BENCH_FILES (default 300), BENCH_MB (default 2.5), BENCH_CONCURRENCY (default 4); BENCH_KEEP=1 (bucket)
 * keeps the copies at the source, to see the ingest alone.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import SftpClient from 'ssh2-sftp-client';
import { createServices } from '../src/services.js';
import { ManualClock } from '../src/shared/clock.js';
import { createDatabase, migrateLatest } from '../src/shared/database.js';
import { createLogger } from '../src/shared/logger.js';
import { createBucketSource, createSftpSource, type BucketSourceConfig } from '../src/sources/index.js';
import { createS3Client, createStore } from '../src/storage/index.js';
import { s3ConfigFor } from '../test/helpers/s3-server.js';
import { sftpSource, sourceSettings } from '../test/helpers/sources.js';
import { startSshd } from '../test/helpers/sshd.js';
import { testConfig } from '../test/helpers/test-app.js';
import { startS3rverProcess } from './s3rver-child.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const FILES = Number(process.env.BENCH_FILES ?? 300);
const BYTES = Math.round(Number(process.env.BENCH_MB ?? 2.5) * 1_000_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);

const fixture = readFileSync(path.join(ROOT, 'test/fixtures/call-pcm16-8k.wav'));
const samples = fixture.subarray(44);
const audio = Buffer.concat([fixture.subarray(0, 44), ...Array.from({ length: Math.ceil(BYTES / samples.length) + 1 }, () => samples)]).subarray(0, BYTES);

function deliver(dir: string, round: string): void {
  const start = new Date(Date.now() - 600_000);
  for (let i = 0; i < FILES; i++) {
    writeFileSync(path.join(dir, `${round}-${i}.wav`), audio);
    const meta = { callId: `bench-${round}-${i}`, startedAt: start.toISOString(), endedAt: new Date(start.getTime() + 150_000).toISOString(), caller: null, queue: 'bench' };
    writeFileSync(path.join(dir, `${round}-${i}.json`), JSON.stringify(meta));
  }
}

const mbps = (ms: number) => (FILES * BYTES) / 1e6 / (ms / 1000);

type Poller = ReturnType<typeof createServices>['sources']['pollers'][number];

/** Two polls a settle time apart (the second takes everything), timed, with the peak RSS growth sampled. */
async function measurePolls(poller: Poller, clock: ManualClock, settleMs: number) {
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 50);
  const t1 = performance.now();
  await poller.poll();
  clock.advance(settleMs);
  const report = await poller.poll();
  const ms = performance.now() - t1;
  clearInterval(sampler);
  await poller.close();
  return { ms, report, rssGrowth: rssPeak - rssBefore };
}

function printFigures(raw: readonly [string, number], ours: readonly [string, number], m: Awaited<ReturnType<typeof measurePolls>>, stored: number, extra: string): void {
  const width = Math.max(raw[0].length, ours[0].length);
  process.stdout.write(`${FILES} recordings of ${(BYTES / 1e6).toFixed(1)} MB, concurrency ${CONCURRENCY}\n`);
  for (const [what, ms] of [raw, ours]) process.stdout.write(`${what.padEnd(width)} ${(ms / 1000).toFixed(1).padStart(7)} s ${mbps(ms).toFixed(1).padStart(7)} MB/s\n`);
  process.stdout.write(`ratio ${(mbps(ours[1]) / mbps(raw[1])).toFixed(2)} (goal ≥ 0.80); stored ${stored}/${FILES}; taken ${m.report?.taken}, deleted ${m.report?.deleted}, pending ${m.report?.pending}${extra}\n`);
  process.stdout.write(`RSS growth while polling: ${(m.rssGrowth / 1048576).toFixed(1)} MB (goal < 50 MB)\n`);
}

async function main(): Promise<void> {
  const sshd = await startSshd();
  const s3 = await startS3rverProcess();
  const work = mkdtempSync(path.join(tmpdir(), 'gallra-bench-sources-'));
  const s3cfg = s3ConfigFor(s3);
  try {
    // Baseline: list, download, put, remove, with the same client and concurrency.
    deliver(sshd.dir, 'raw');
    const client = new SftpClient('bench');
    await client.connect({ host: '127.0.0.1', port: sshd.port, username: sshd.username, privateKey: sshd.userKey });
    const s3client = createS3Client(s3cfg);
    const t0 = performance.now();
    const listing = (await client.list(sshd.dir)).filter((f) => f.name.endsWith('.wav'));
    const limit = pLimit(CONCURRENCY);
    await Promise.all(
      listing.map((f) =>
        limit(async () => {
          const remote = path.posix.join(sshd.dir, f.name);
          const sidecar = remote.replace(/\.wav$/, '.json');
          await client.get(sidecar);
          const body = client.createReadStream(remote);
          await s3client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `raw/${f.name}`, Body: body, ContentLength: f.size, ContentType: 'audio/wav' }));
          await client.delete(sidecar);
          await client.delete(remote);
        }),
      ),
    );
    const rawMs = performance.now() - t0;
    await client.end();

    // gallra: the sftp source's poller through the ingest use case into the S3 store.
    deliver(sshd.dir, 'src');
    const db = createDatabase(`sqlite:${path.join(work, 'gallra.sqlite')}`);
    await migrateLatest(db);
    const config = testConfig(work, { databaseUrl: `sqlite:${path.join(work, 'gallra.sqlite')}`, storageDriver: 's3', s3: s3cfg, maxRecordingBytes: 64 * 1024 * 1024 });
    const store = createStore(config);
    const source = sftpSource(
      'bench',
      { host: '127.0.0.1', port: sshd.port, username: sshd.username, directory: sshd.dir, hostKeySha256: sshd.hostKeySha256, privateKey: sshd.userKey, connectTimeoutMs: 10_000 },
      { concurrency: CONCURRENCY, maxFileBytes: 64 * 1024 * 1024, include: '*.wav' },
    );
    const clock = new ManualClock(new Date());
    const services = createServices({ config, db, store, logger: createLogger({ level: 'warn' }), clock, sources: [{ config: source, adapter: createSftpSource(source) }] });
    const m = await measurePolls(services.sources.pollers[0]!, clock, source.settleMs);
    const stored = Number((await db('recordings').where({ status: 'stored' }).count({ n: '*' }).first())!.n);
    await db.destroy();
    printFigures(['raw baseline (SFTP get → PutObject → remove)', rawMs], ['gallra sftp source (poll → ingest → S3 → delete, audited)', m.ms], m, stored, '');
    if (stored !== FILES || m.report?.pending !== 0) process.exitCode = 1;
  } finally {
    await s3.stop();
    await sshd.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

const ORG = '9b5a2c1e-1111-4222-8333-444455556666';

/** A Genesys Cloud bulk export of FILES recordings into the source bucket, under `round/`. */
async function exportTo(client: S3Client, bucket: string, round: string): Promise<void> {
  const start = new Date(Date.now() - 600_000);
  await pLimit(8).map(Array.from({ length: FILES }, (_, i) => i), async (i) => {
    const conversationId = randomUUID();
    const base = `${round}/${ORG}/year=2026/month=11/day=23/hour=8/conversation_id=${conversationId}/${randomUUID()}`;
    const meta = { mediaType: 'Call', conversationId, conversationStartTime: start.toISOString(), conversationEndTime: new Date(start.getTime() + 150_000).toISOString(), queueNames: ['bench'], ani: `tel:+4670${String(1_000_000 + i).slice(-7)}` };
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${base}.wav`, Body: audio, ContentLength: audio.length }));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${base}_metadata.json`, Body: JSON.stringify(meta) }));
  });
}

async function listAll(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let marker: string | undefined;
  for (;;) {
    const out = await client.send(new ListObjectsCommand({ Bucket: bucket, Prefix: prefix, Marker: marker }));
    const listed = (out.Contents ?? []).map((o) => o.Key!);
    keys.push(...listed);
    if (!out.IsTruncated || !listed.length) return keys;
    marker = listed[listed.length - 1];
  }
}

async function bucketMain(): Promise<void> {
  const platform = await startS3rverProcess();
  const s3 = await startS3rverProcess();
  const work = mkdtempSync(path.join(tmpdir(), 'gallra-bench-sources-'));
  const s3cfg = s3ConfigFor(s3);
  const platformCfg = s3ConfigFor(platform);
  const source = createS3Client(platformCfg);
  try {
    // Baseline: list, get metadata and audio, put, delete both, with the SDK and the same concurrency.
    await exportTo(source, platform.bucket, 'raw');
    const store = createS3Client(s3cfg);
    const t0 = performance.now();
    const audioKeys = (await listAll(source, platform.bucket, 'raw/')).filter((k) => k.endsWith('.wav'));
    await pLimit(CONCURRENCY).map(audioKeys, async (key) => {
      const sidecar = key.replace(/\.wav$/, '_metadata.json');
      const meta = await source.send(new GetObjectCommand({ Bucket: platform.bucket, Key: sidecar }));
      await meta.Body!.transformToString();
      const got = await source.send(new GetObjectCommand({ Bucket: platform.bucket, Key: key }));
      await store.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `raw/${randomUUID()}`, Body: got.Body as Readable, ContentLength: got.ContentLength, ContentType: 'audio/wav' }));
      await source.send(new DeleteObjectsCommand({ Bucket: platform.bucket, Delete: { Objects: [{ Key: sidecar }, { Key: key }], Quiet: true } }));
    });
    const rawMs = performance.now() - t0;
    store.destroy();

    // gallra: the bucket source's poller through the ingest use case into the S3 store.
    await exportTo(source, platform.bucket, 'src');
    const db = createDatabase(`sqlite:${path.join(work, 'gallra.sqlite')}`);
    await migrateLatest(db);
    const config = testConfig(work, { databaseUrl: `sqlite:${path.join(work, 'gallra.sqlite')}`, storageDriver: 's3', s3: s3cfg, maxRecordingBytes: 64 * 1024 * 1024 });
    const cfg: BucketSourceConfig = {
      ...sourceSettings('bench', { concurrency: CONCURRENCY, maxFileBytes: 64 * 1024 * 1024, include: '**/*.wav', metadata: { preset: 'genesys-bulk-export' } }),
      adapter: 'bucket',
      bucket: platform.bucket,
      prefix: 'src/',
      region: 'eu-north-1',
      endpoint: platform.endpoint,
      forcePathStyle: true,
      credentials: platformCfg.credentials!,
      requestChecksum: 'when_required',
      listPageSize: 1000,
      residency: { region: 'eu-north-1', eea: true, place: 'Stockholm, Sweden' },
      ...(process.env.BENCH_KEEP ? { deleteAtSource: false, keepReason: 'measuring the ingest alone' } : {}),
    };
    const clock = new ManualClock(new Date());
    const services = createServices({ config, db, store: createStore(config), logger: createLogger({ level: 'warn' }), clock, sources: [{ config: cfg, adapter: createBucketSource(cfg) }] });
    const m = await measurePolls(services.sources.pollers[0]!, clock, cfg.settleMs);
    const stored = Number((await db('recordings').where({ status: 'stored' }).count({ n: '*' }).first())!.n);
    await db.destroy();
    const left = (await listAll(source, platform.bucket, 'src/')).length;
    printFigures(
      ['raw baseline (GetObject ×2 → PutObject → DeleteObjects)', rawMs],
      ['gallra bucket source (poll → ingest → S3 → delete all versions, verified, audited)', m.ms],
      m,
      stored,
      `; objects left in the bucket ${left}`,
    );
    if (stored !== FILES || m.report?.pending !== 0 || left !== 0) process.exitCode = 1;
  } finally {
    source.destroy();
    await s3.stop();
    await platform.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

const { values } = parseArgs({ options: { kind: { type: 'string', default: 'sftp' } }, strict: true });
if (values.kind === 'bucket') await bucketMain();
else if (values.kind === 'sftp') await main();
else throw new Error(`--kind sftp|bucket, not ${values.kind}`);
