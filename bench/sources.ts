/**
 * npm run bench:sources — recordings taken from an SFTP source into the S3 store, deletion at the
 * source included, against a raw baseline in the same run: the same SFTP client (ssh2-sftp-client)
 * listing and downloading each file, the SDK putting it to the same bucket, then removing audio and
 * sidecar at the source, at the same concurrency. The SFTP server is Debian's OpenSSH sshd started
 * here (test/helpers/sshd.ts), the store s3rver in a process of its own; gallra's poller runs in this
 * process on SQLite, with its peak RSS growth sampled while it works.
 *
 * BENCH_FILES (default 300), BENCH_MB (default 2.5), BENCH_CONCURRENCY (default 4).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import SftpClient from 'ssh2-sftp-client';
import { createServices } from '../src/services.js';
import { ManualClock } from '../src/shared/clock.js';
import { createDatabase, migrateLatest } from '../src/shared/database.js';
import { createLogger } from '../src/shared/logger.js';
import { createSftpSource } from '../src/sources/index.js';
import { createS3Client, createStore } from '../src/storage/index.js';
import { s3ConfigFor } from '../test/helpers/s3-server.js';
import { sftpSource } from '../test/helpers/sources.js';
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
    const poller = services.sources.pollers[0]!;
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 50);
    const t1 = performance.now();
    await poller.poll();
    clock.advance(source.settleMs);
    const report = await poller.poll();
    const srcMs = performance.now() - t1;
    clearInterval(sampler);
    await poller.close();
    const stored = Number((await db('recordings').where({ status: 'stored' }).count({ n: '*' }).first())!.n);
    await db.destroy();

    const ratio = mbps(srcMs) / mbps(rawMs);
    const rows = [
      ['raw baseline (SFTP get → PutObject → remove)', rawMs, mbps(rawMs)],
      ['gallra sftp source (poll → ingest → S3 → delete, audited)', srcMs, mbps(srcMs)],
    ] as const;
    process.stdout.write(`${FILES} recordings of ${(BYTES / 1e6).toFixed(1)} MB, concurrency ${CONCURRENCY}\n`);
    for (const [what, ms, rate] of rows) process.stdout.write(`${what.padEnd(60)} ${(ms / 1000).toFixed(1).padStart(7)} s ${rate.toFixed(1).padStart(7)} MB/s\n`);
    process.stdout.write(`ratio ${ratio.toFixed(2)} (goal ≥ 0.80); stored ${stored}/${FILES}; taken ${report?.taken}, deleted ${report?.deleted}, pending ${report?.pending}\n`);
    process.stdout.write(`RSS growth while polling: ${((rssPeak - rssBefore) / 1048576).toFixed(1)} MB (goal < 50 MB)\n`);
    if (stored !== FILES || report?.pending !== 0) process.exitCode = 1;
  } finally {
    await s3.stop();
    await sshd.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
