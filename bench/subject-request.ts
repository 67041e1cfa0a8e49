/**
 * npm run bench:subject-request — how fast the register extract streams, and how much memory it takes.
 *
 * One caller with BENCH_SR_CALLS recordings (default 200) of BENCH_SR_MB megabytes each (default 2.5)
 * in the filesystem store, then in alternating rounds:
 *  - baseline: the same objects read from the store straight into a ZIP (yazl, stored, one object at
 *    a time), the output read and thrown away: the least any streaming package can cost;
 *  - service: GET /v1/subject-requests/{id}/package over HTTP on loopback through the whole app
 *    (authentication, case look-up, summary, SHA-256 of every file, SHA256SUMS, audit entry).
 * The service runs in a process of its own (bench/subject-request-server.ts), as it would in
 * production; the baseline runs in this one, with nothing else to do.
 * Prints each round, the median throughputs, their ratio (service / baseline, target ≥ 0.8) and the
 * service process's RSS growth while it streams (peak during a round minus its RSS just before it,
 * sampled from /proc; target < 50 MB).
 * Every round also prints the CPU each side spent per package (user + system, all threads: the
 * baseline's from process.cpuUsage, the service process's from /proc/<pid>/stat): on a shared machine
 * throughput drifts, CPU time much less. BENCH_CPU_PROFILE (a folder): the service writes a .cpuprofile.
 */
import { spawn } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import { loadConfig, type ResolvedConfig } from '../src/config.js';
import { storageKeyFor, type Recording } from '../src/recordings/index.js';
import * as recordingRepository from '../src/recordings/recording-repository.js';
import { createServices } from '../src/services.js';
import { ManualClock } from '../src/shared/clock.js';
import { createDatabase, migrateLatest } from '../src/shared/database.js';
import { createLogger } from '../src/shared/logger.js';
import { createFsObjectStore } from '../src/storage/index.js';
import { localDateOf } from '../src/subject-requests/index.js';

const CALLS = Number(process.env.BENCH_SR_CALLS ?? 200);
const BYTES = Math.round(Number(process.env.BENCH_SR_MB ?? 2.5) * 1024 * 1024);
const ROUNDS = Number(process.env.BENCH_SR_ROUNDS ?? 5);
const NUMBER = '+46705551234';
const out = (s: string) => process.stdout.write(s + '\n');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mbps = (bytes: number, s: number) => bytes / s / 1e6;

/** A sink that counts bytes and keeps none. */
function nullSink(): Writable & { bytes: number } {
  const w = new Writable({
    write(chunk: Buffer, _e, cb) {
      w.bytes += chunk.length;
      cb();
    },
  }) as Writable & { bytes: number };
  w.bytes = 0;
  return w;
}

/** Resident set size of a process, from /proc (Linux). */
function rssOf(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb ?? 0) * 1024;
}

/** CPU seconds a process has used so far, all threads, user + system (clock ticks, 100 Hz on Linux). */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Samples a process's RSS every few milliseconds while `fn` runs; returns its result, the peak growth and the seconds it took. */
async function measured<T>(pid: number, fn: () => Promise<T>): Promise<{ result: T; rssGrowth: number; seconds: number }> {
  const before = rssOf(pid);
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 5);
  const t0 = process.hrtime.bigint();
  try {
    const result = await fn();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    peak = Math.max(peak, rssOf(pid));
    return { result, rssGrowth: peak - before, seconds };
  } finally {
    clearInterval(timer);
  }
}

let stopChild = () => {};

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), 'gallra-bench-sr-'));
  const db = createDatabase(`sqlite:${path.join(dir, 'gallra.sqlite')}`);
  try {
    await migrateLatest(db);
    const store = createFsObjectStore({ root: path.join(dir, 'objects') });
    const clock = new ManualClock(new Date());
    const config = {
      port: 0, host: '127.0.0.1', dataDir: dir, databaseUrl: `sqlite:${path.join(dir, 'gallra.sqlite')}`, storageDriver: 'fs',
      webhookSecrets: ['whsec_' + Buffer.from('bench-bench-bench-bench-bench-32').toString('base64')], webhookToleranceMs: 300_000,
      callerKeySecret: 'b'.repeat(64), auditSigningKey: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      retentionDays: 30, retentionSchedule: '*/15 * * * *', orphanGraceMs: 3_600_000, maxRecordingBytes: 1 << 30, maxCallDurationMs: 86_400_000, edge: loadConfig({}).edge, sessionTtlMs: 3_600_000, trustProxy: false, logLevel: 'silent',
    } as ResolvedConfig;
    const services = createServices({ config, db, store, logger: createLogger({ level: 'silent' }), clock });

    out(`bench:subject-request: ${CALLS} recordings of ${(BYTES / 1024 / 1024).toFixed(1)} MB for one caller, filesystem store, ${ROUNDS} rounds`);
    const callerKey = services.callerKeys.of(NUMBER);
    const recordings: Recording[] = [];
    const t0 = Date.now();
    for (let i = 0; i < CALLS; i++) {
      const id = crypto.randomUUID();
      const audio = randomBytes(BYTES);
      const startedAt = new Date(clock.now().getTime() - (i + 1) * 600_000);
      const key = storageKeyFor(id, startedAt);
      await store.put(key, Readable.from([audio]), { contentType: 'audio/mpeg' });
      const at = clock.now().toISOString();
      const r: Recording = {
        id, callId: `call-bench-${i}`, startedAt: startedAt.toISOString(), endedAt: new Date(startedAt.getTime() + 180_000).toISOString(), queue: 'bygglov', agentId: 'agent-1',
        callerKey, storageKey: key, contentType: 'audio/mpeg', bytes: BYTES, sha256: createHash('sha256').update(audio).digest('hex'), durationMs: 180_000,
        status: 'stored', reason: null, deadline: new Date(startedAt.getTime() + 30 * 86_400_000).toISOString(), deletedAt: null, createdAt: at, updatedAt: at,
      };
      await db.transaction((trx) => recordingRepository.insert(trx, r));
      recordings.push(r);
    }
    out(`  stored ${CALLS} objects (${((CALLS * BYTES) / 1e6).toFixed(0)} MB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const c = await services.subjectRequests.requests.open({ kind: 'access', number: NUMBER, receivedAt: localDateOf(clock.now()), reference: 'BENCH 2026/1' }, 'admin:bench');
    const { token } = await services.tokens.create({ role: 'admin', name: 'bench' }, 'system:bench');
    const configFile = path.join(dir, 'bench-config.json');
    writeFileSync(configFile, JSON.stringify(config));
    const profile = process.env.BENCH_CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`] : [];
    const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'bench/subject-request-server.ts', configFile], { cwd: path.resolve(import.meta.dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] });
    stopChild = () => child.kill('SIGTERM');
    const first = await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next();
    const { port } = JSON.parse(String(first.value)) as { port: number };

    const baseline = async () => {
      const zip = new ZipFile();
      for (const r of recordings) {
        zip.addReadStreamLazy(`inspelningar/${r.callId}.mp3`, { size: r.bytes!, compress: false }, (cb) => {
          store.get(r.storageKey!).then((o) => cb(null, o.body), (err) => cb(err, undefined as never));
        });
      }
      zip.end();
      const sink = nullSink();
      await pipeline(zip.outputStream as unknown as Readable, sink);
      return sink.bytes;
    };
    const service = () =>
      new Promise<number>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: `/v1/subject-requests/${c.id}/package`, headers: { Authorization: `Bearer ${token}` }, agent: false }, (res) => {
            if (res.statusCode !== 200) return reject(new Error(`package answered ${res.statusCode}`));
            const sink = nullSink();
            pipeline(res, sink).then(() => resolve(sink.bytes), reject);
          })
          .on('error', reject);
      });

    // One warm-up of each (page cache, JIT), not counted.
    await baseline();
    await service();
    const base: number[] = [];
    const serv: number[] = [];
    const growth: number[] = [];
    const baseCpu: number[] = [];
    const servCpu: number[] = [];
    const clientCpu: number[] = [];
    const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
    let packageBytes = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      let own = process.cpuUsage();
      const b = await measured(process.pid, baseline);
      baseCpu.push(cpuMs(process.cpuUsage(own)));
      own = process.cpuUsage();
      const child0 = cpuOf(child.pid!);
      const s = await measured(child.pid!, service);
      servCpu.push((cpuOf(child.pid!) - child0) * 1000);
      clientCpu.push(cpuMs(process.cpuUsage(own)));
      packageBytes = s.result;
      base.push(mbps(b.result, b.seconds));
      serv.push(mbps(s.result, s.seconds));
      growth.push(s.rssGrowth);
      out(`  round ${round}: baseline ${base[round - 1]!.toFixed(0)} MB/s, service ${serv[round - 1]!.toFixed(0)} MB/s (ratio ${(serv[round - 1]! / base[round - 1]!).toFixed(2)}), service RSS growth ${(s.rssGrowth / 1e6).toFixed(1)} MB; ` +
          `CPU ms per package: baseline ${baseCpu[round - 1]!.toFixed(0)}, service ${servCpu[round - 1]!.toFixed(0)} (its HTTP client ${clientCpu[round - 1]!.toFixed(0)})`);
    }
    stopChild();
    await new Promise((r) => child.once('exit', r));
    const ratio = median(serv) / median(base);
    const maxGrowth = Math.max(...growth);
    const audits = await db('audit_entries').where({ action: 'subject-request.package' }).count({ n: '*' });
    out(`package: ${(packageBytes / 1e6).toFixed(1)} MB, ${CALLS + 3} files; audit entries for packages: ${(audits[0] as { n: number }).n}`);
    out(`median throughput: baseline (store → zip) ${median(base).toFixed(0)} MB/s, service (HTTP package) ${median(serv).toFixed(0)} MB/s`);
    const perRound = median(serv.map((x, i) => x / base[i]!));
    out(`ratio service/baseline: ${ratio.toFixed(2)} of the medians, ${perRound.toFixed(2)} median of the rounds' ratios (target ≥ 0.80) ${Math.min(ratio, perRound) >= 0.8 ? 'MET' : 'NOT MET'}`);
    out(`median CPU ms per package: baseline ${median(baseCpu).toFixed(0)}, service ${median(servCpu).toFixed(0)} (ratio of CPU ${(median(baseCpu) / median(servCpu)).toFixed(2)}), the HTTP client reading it ${median(clientCpu).toFixed(0)}`);
    out(`peak RSS growth while streaming: ${(maxGrowth / 1e6).toFixed(1)} MB (target < 50 MB) ${maxGrowth < 50e6 ? 'MET' : 'NOT MET'}`);
  } finally {
    stopChild();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench:subject-request failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
