/**
 * npm run bench:ingest — the webhook's throughput through the S3 adapter to a local S3-compatible
 * server (s3rver), against a raw baseline (the SDK putting the same bytes to the same server at the
 * same concurrency), and the service's peak RSS growth while one 1 GiB recording streams in.
 *
 * The service runs as a child process, compiled as in production (`dist/src/main.js`, built by
 * `npm run build` before the bench), so its memory is its own.
 * Beside it runs the floor (bench/ingest-floor-server.ts): a receiver that does only what no receiver
 * can skip (multipart, HMAC, SHA-256, one PutObject) and nothing else, so that the bench shows in the
 * same run how much of the gap to the baseline is this service and how much is the machine. Every
 * row prints the CPU each process spent per upload: with three processes on two cores, throughput
 * is mostly a matter of CPU.
 *
 * BENCH_UPLOADS (default 64), BENCH_CONCURRENCY (default 8), BENCH_ROUNDS (default 3; medians),
 * BENCH_BIG_MIB (default 1024), BENCH_CPU_PROFILE (a folder: the service and floor write .cpuprofile).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '../src/storage/index.js';
import { s3ConfigFor } from '../test/helpers/s3-server.js';
import { startS3rverProcess } from './s3rver-child.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const UPLOADS = Number(process.env.BENCH_UPLOADS ?? 64);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const BIG_MIB = Number(process.env.BENCH_BIG_MIB ?? 1024);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECRET = 'whsec_' + Buffer.from('bench-secret-bench-secret-bench!').toString('base64');

// ~2.5 MB WAV: the PCM fixture's header, then its samples repeated.
const fixture = readFileSync(path.join(ROOT, 'test/fixtures/call-pcm16-8k.wav'));
const samples = fixture.subarray(44);
const audio = Buffer.concat([fixture.subarray(0, 44), ...Array.from({ length: 14 }, () => samples)]).subarray(0, 2_500_000);

function multipart(meta: object, boundary: string) {
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n${JSON.stringify(meta)}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="audio"; filename="a.wav"\r\n\r\n`,
  );
  return { head, tail: Buffer.from(`\r\n--${boundary}--\r\n`) };
}

function meta() {
  const start = new Date(Date.now() - 600_000);
  return { callId: `bench-${randomUUID()}`, startedAt: start.toISOString(), endedAt: new Date(start.getTime() + 300_000).toISOString(), caller: '+46463550000', queue: 'bench', agentId: null, optOut: false };
}

interface Signed {
  boundary: string;
  head: Buffer;
  tail: Buffer;
  headers: Record<string, string>;
}

/** Multipart framing and Standard Webhooks signature for one upload, made before any timing starts. */
function sign(size: number, chunks: () => Iterable<Buffer>): Signed {
  const boundary = 'b' + randomUUID().replace(/-/g, '');
  const { head, tail } = multipart(meta(), boundary);
  const id = `msg_${randomUUID()}`;
  const ts = Math.floor(Date.now() / 1000);
  const mac = createHmac('sha256', Buffer.from(SECRET.slice(6), 'base64')).update(`${id}.${ts}.`).update(head);
  for (const c of chunks()) mac.update(c);
  mac.update(tail);
  return {
    boundary,
    head,
    tail,
    headers: {
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': String(head.length + size + tail.length),
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': `v1,${mac.digest('base64')}`,
    },
  };
}

/** Sends one signed upload, streaming `chunks()` as the audio; resolves with the status code. */
function upload(port: number, s: Signed, chunks: () => Iterable<Buffer>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/recordings', headers: s.headers });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    (async () => {
      req.write(s.head);
      for (const c of chunks()) if (!req.write(c)) await new Promise((r) => req.once('drain', r));
      req.end(s.tail);
    })().catch(reject);
  });
}

async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await task(next++);
    }),
  );
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Starts `script` (the compiled service, or the floor through tsx) as a child process and waits for the port it prints. */
function startServer(script: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number }> {
  const profile = process.env.BENCH_CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`] : [];
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...profile, ...loader, script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (c) => {
      out += c;
      const line = out.split('\n').find((l) => l.includes('is listening'));
      if (line) resolve({ child, port: JSON.parse(line).port });
    });
    child.stderr!.on('data', (c) => (out += c));
    child.on('exit', (code) => reject(new Error(`${script} exited ${code}: ${out}`)));
  });
}

/** CPU seconds a process has used so far (user + system), from /proc. */
function cpuSeconds(pid: number): number {
  const { user, system } = cpuSplit(pid);
  return user + system;
}

/** User and system CPU seconds of a process, from /proc (clock ticks, 100 Hz on Linux). */
function cpuSplit(pid: number): { user: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

function rssKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]);
}

// The S3-compatible server runs in a process of its own: sharing one with the benchmark's client would
// let the client's work (which is larger on the service path: it also sends every byte to the service)
// starve the store and measure the bench rather than the service.
const s3 = await startS3rverProcess();
const dir = mkdtempSync(path.join(tmpdir(), 'gallra-bench-'));
const cfg = s3ConfigFor(s3);
const env = {
  PATH: process.env.PATH,
  DATA_DIR: dir,
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
  STORAGE_DRIVER: process.env.BENCH_DRIVER ?? 's3',
  S3_BUCKET: s3.bucket,
  S3_ENDPOINT: s3.endpoint,
  S3_FORCE_PATH_STYLE: 'true',
  S3_REGION: cfg.region,
  S3_ACCESS_KEY_ID: cfg.credentials!.accessKeyId,
  S3_SECRET_ACCESS_KEY: cfg.credentials!.secretAccessKey,
  S3_REQUEST_CHECKSUM: 'when_required',
  WEBHOOK_SECRETS: SECRET,
  MAX_RECORDING_BYTES: String((BIG_MIB + 16) * 1024 * 1024),
};
const { child, port } = await startServer('dist/src/main.js', env);
const floor = await startServer('bench/ingest-floor-server.ts', env);
try {
  const mb = (UPLOADS * audio.length) / 1e6;
  // Warm every path once so none pays for JIT and connection setup in the measurement.
  await upload(port, sign(audio.length, () => [audio]), () => [audio]);
  await upload(floor.port, sign(audio.length, () => [audio]), () => [audio]);
  const client = createS3Client(cfg);
  await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'baseline/warm', Body: audio }));

  /** CPU ms per upload of each process while `work` runs; `server` is the receiving process, if any. */
  async function measured(server: ChildProcess | undefined, work: () => Promise<number>): Promise<{ seconds: number; cpu: string }> {
    const bench0 = process.cpuUsage();
    const s30 = cpuSeconds(s3.pid);
    const server0 = server ? cpuSplit(server.pid!) : undefined;
    const seconds = await work();
    const b = process.cpuUsage(bench0);
    const per = (x: number) => ((x * 1000) / UPLOADS).toFixed(1);
    let cpu = `CPU ms per upload: bench ${per((b.user + b.system) / 1e6)}, s3rver ${per(cpuSeconds(s3.pid) - s30)}`;
    if (server && server0) {
      const now = cpuSplit(server.pid!);
      const user = now.user - server0.user;
      const system = now.system - server0.system;
      cpu += `, receiver ${per(user + system)} (${per(user)} user + ${per(system)} system)`;
    }
    return { seconds, cpu };
  }
  let failures = 0;
  const through = (to: ChildProcess, toPort: number) => {
    const signed = Array.from({ length: UPLOADS }, () => sign(audio.length, () => [audio]));
    return measured(to, () =>
      pool(UPLOADS, CONCURRENCY, async (i) => {
        const status = await upload(toPort, signed[i]!, () => [audio]);
        if (status !== 201) failures++;
      }),
    );
  };

  // Rounds interleave the three, and each figure is the median over rounds: this machine's speed
  // drifts by ±20 % from minute to minute, and that drift must hit every row alike.
  const runs: Record<'baseline' | 'floor' | 'service', { seconds: number; cpu: string }[]> = { baseline: [], floor: [], service: [] };
  for (let round = 0; round < ROUNDS; round++) {
    runs.baseline.push(
      await measured(undefined, () =>
        pool(UPLOADS, CONCURRENCY, async (i) => {
          await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `baseline/${round}-${i}`, Body: audio, ContentType: 'audio/wav' }));
        }),
      ),
    );
    runs.floor.push(await through(floor.child, floor.port));
    runs.service.push(await through(child, port));
  }
  const median = (xs: { seconds: number; cpu: string }[]) => [...xs].sort((a, b) => a.seconds - b.seconds)[Math.floor(xs.length / 2)]!;
  const baseline = median(runs.baseline);
  const floorRun = median(runs.floor);
  const service = median(runs.service);

  const row = (name: string, r: { seconds: number; cpu: string }) =>
    `${name.padEnd(34)} ${(UPLOADS / r.seconds).toFixed(1).padStart(8)} uploads/s ${(mb / r.seconds).toFixed(1).padStart(8)} MB/s   ${r.cpu}`;
  console.log(`ingest: ${UPLOADS} uploads of ${(audio.length / 1e6).toFixed(2)} MB, concurrency ${CONCURRENCY}, s3rver on loopback in its own process, median of ${ROUNDS} rounds, ${cpus().length} cores`);
  console.log(row('baseline (SDK PutObject)', baseline));
  console.log(row('floor (bench/ingest-floor-server)', floorRun));
  console.log(row('service (POST /v1/recordings)', service));
  const perRound = (name: 'floor' | 'service') => runs[name].map((r, i) => (runs.baseline[i]!.seconds / r.seconds).toFixed(2)).join(' ');
  console.log(`ratio floor/baseline:   ${(baseline.seconds / floorRun.seconds).toFixed(2)} (rounds: ${perRound('floor')}) — the ceiling for any receiver on this machine`);
  console.log(`ratio service/baseline: ${(baseline.seconds / service.seconds).toFixed(2)} (rounds: ${perRound('service')})${failures ? `  — ${failures} uploads failed!` : ''}`);
  // The service's own overhead: against the floor measured in the same round, so the machine's drift cancels out.
  const serviceToFloor = runs.service.map((r, i) => runs.floor[i]!.seconds / r.seconds);
  const medianRatio = [...serviceToFloor].sort((x, y) => x - y)[Math.floor(serviceToFloor.length / 2)]!;
  console.log(`ratio service/floor:    ${medianRatio.toFixed(2)} (rounds: ${serviceToFloor.map((x) => x.toFixed(2)).join(' ')}) (target ≥ 0.9)`);

  // Memory: one big recording streamed in, generated on the fly so the bench never holds it either.
  const chunk = Buffer.concat(Array.from({ length: 64 }, () => samples)).subarray(0, 8 * 1024 * 1024);
  const bigSize = BIG_MIB * 1024 * 1024;
  const bigChunks = function* () {
    yield fixture.subarray(0, 44);
    let left = bigSize - 44;
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      yield chunk.subarray(0, n);
      left -= n;
    }
  };
  const before = rssKiB(child.pid!, 'VmRSS');
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssKiB(child.pid!, 'VmRSS'))), 50);
  const bigSigned = sign(bigSize, bigChunks);
  const t0 = Date.now();
  const status = await upload(port, bigSigned, bigChunks);
  clearInterval(sampler);
  const hwm = rssKiB(child.pid!, 'VmHWM');
  console.log(
    `memory: one ${BIG_MIB} MiB recording → ${status} in ${((Date.now() - t0) / 1000).toFixed(1)} s; service RSS ${(before / 1024).toFixed(0)} MiB before, ` +
      `peak ${(Math.max(peak, hwm) / 1024).toFixed(0)} MiB; growth ${(((Math.max(peak, hwm) - before) * 1024) / 1e6).toFixed(0)} MB (target < 50 MB)`,
  );
} finally {
  for (const c of [child, floor.child]) {
    c.kill('SIGTERM');
    await new Promise((r) => c.once('exit', r));
  }
  await s3.stop();
  rmSync(dir, { recursive: true, force: true });
}
