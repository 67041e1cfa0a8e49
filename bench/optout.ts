/**
 * npm run bench:optout — the latency of the IVR's pre-call check with a full registry.
 *
 * Seeds OPTOUT_BENCH_NUMBERS opt-outs (default 100 000) into a fresh SQLite database, then drives
 * POST /v1/opt-outs/check of the real app (every middleware, bearer authentication, realistic bodies)
 * on loopback, from a worker thread so that the load generator does not share the server's event loop:
 *   1. one connection, each request sent when the last one was answered (what one IVR line waits for);
 *   2. open loop at OPTOUT_BENCH_RATE requests per second (default 200): each request leaves at its
 *      scheduled time whether or not earlier ones were answered (on as many keep-alive connections as
 *      that takes), and its latency counts from that scheduled time, so a stall is not hidden by the
 *      requests it held back. (autocannon's rate limit sends each second's quota in a burst.)
 * Prints p50/p99 of each against the target p99 < 5 ms. Figures, not a test: nothing fails the process.
 *
 * OPTOUT_BENCH_DURATION (s per run, default 10). The whole run takes well under a minute after seeding.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { createApp } from '../src/app.js';
import { loadConfig, type ResolvedConfig } from '../src/config.js';
import { createServices } from '../src/services.js';
import { systemClock } from '../src/shared/clock.js';
import { createDatabase, migrateLatest } from '../src/shared/database.js';
import { createLogger } from '../src/shared/logger.js';
import { createFsObjectStore } from '../src/storage/index.js';

const NUMBERS = Number(process.env.OPTOUT_BENCH_NUMBERS ?? 100_000);
const DURATION = Number(process.env.OPTOUT_BENCH_DURATION ?? 10);
const RATE = Number(process.env.OPTOUT_BENCH_RATE ?? 200);
const TARGET_P99_MS = 5;

/** The i-th seeded number: +4670 followed by seven digits. */
const seeded = (i: number) => `+4670${String(i).padStart(7, '0')}`;

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gallra-bench-optout-'));
  const config: ResolvedConfig = {
    ...loadConfig({}),
    port: 0,
    host: '127.0.0.1',
    dataDir: dir,
    databaseUrl: `sqlite:${path.join(dir, 'gallra.sqlite')}`,
    storageDriver: 'fs',
    webhookSecrets: ['whsec_' + randomBytes(32).toString('base64')],
    webhookToleranceMs: 300_000,
    callerKeySecret: randomBytes(32).toString('hex'),
    auditSigningKey: '',
    retentionDays: 30,
    retentionSchedule: '*/15 * * * *',
    orphanGraceMs: 3_600_000,
    maxRecordingBytes: 512 * 1024 * 1024,
    maxCallDurationMs: 24 * 3_600_000,
    edge: loadConfig({}).edge,
    controller: loadConfig({}).controller,
    sessionTtlMs: 8 * 3_600_000,
    sessionIdleMs: 30 * 60_000,
    allowTokenSignIn: false,
    trustProxy: false,
    // The request line is still formatted and filtered per request, as in production; only not printed.
    logLevel: 'warn',
  };
  const db = createDatabase(config.databaseUrl);
  let server: Server | undefined;
  try {
    await migrateLatest(db);
    const logger = createLogger({ level: config.logLevel });
    const services = createServices({ config, db, store: createFsObjectStore({ root: path.join(dir, 'objects') }), logger, clock: systemClock });

    const seedStart = Date.now();
    const at = new Date().toISOString();
    const batch = 400;
    for (let i = 0; i < NUMBERS; i += batch) {
      const rows = [];
      for (let j = i; j < Math.min(i + batch, NUMBERS); j++) {
        rows.push({ id: `opt_${j.toString(16).padStart(16, '0')}`, caller_key: services.callerKeys.ofE164(seeded(j)), source: 'ivr', created_at: at, created_by: 'system:bench', removed_at: null, removed_by: null });
      }
      await db.batchInsert('opt_outs', rows, 100);
    }
    process.stdout.write(`seeded ${NUMBERS} opt-outs in ${((Date.now() - seedStart) / 1000).toFixed(1)} s\n`);

    const { token } = await services.tokens.create({ role: 'phone-system', name: 'bench ivr' }, 'system:bench');
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    // Realistic bodies: half registered, half not, in the formats an IVR sends.
    const bodies = [
      JSON.stringify({ number: seeded(17) }),
      JSON.stringify({ number: '+46709999999' }),
      JSON.stringify({ number: '00' + seeded(NUMBERS - 1).slice(1) }),
      JSON.stringify({ number: '08-123 456 78' }),
      JSON.stringify({ number: '0' + seeded(Math.floor(NUMBERS / 2)).slice(3) }),
      JSON.stringify({ number: '+46 31 765 43 21' }),
    ];

    const app = createApp(services);
    const url = await new Promise<string>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(s.address() as AddressInfo).port}/v1/opt-outs/check`));
      server = s;
    });

    // Sanity: the route answers as expected before it is measured.
    for (const [body, expected] of [[bodies[0]!, true], [bodies[1]!, false], [bodies[2]!, true], [bodies[4]!, true]] as const) {
      const r = await fetch(url, { method: 'POST', headers, body });
      const j = (await r.json()) as { optedOut: boolean };
      if (r.status !== 200 || j.optedOut !== expected) throw new Error(`check answered ${r.status} ${JSON.stringify(j)} for ${body}`);
    }

    await drive({ url, headers, bodies, mode: 'closed', duration: 2 }); // warm-up (JIT, SQLite page cache)
    const runs = [
      { name: 'one connection, closed loop', mode: 'closed' as const },
      { name: `open loop at ${RATE} req/s`, mode: 'open' as const },
    ];
    process.stdout.write(`\n${NUMBERS} numbers registered, ${DURATION} s per run, loopback, one process, load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores\n\n`);
    process.stdout.write('run                                 req/s   p50 ms   p99 ms   max ms   non-200/errors   p99 < 5 ms\n');
    for (const run of runs) {
      const r = await drive({ url, headers, bodies, mode: run.mode, rate: RATE, duration: DURATION });
      const p = (q: number) => r.latencies[Math.min(r.latencies.length - 1, Math.floor(q * r.latencies.length))] ?? NaN;
      process.stdout.write(
        `${run.name.padEnd(34)} ${(r.latencies.length / DURATION).toFixed(0).padStart(7)} ${p(0.5).toFixed(2).padStart(8)} ${p(0.99).toFixed(2).padStart(8)} ${p(1).toFixed(2).padStart(8)}   ${String(r.failed).padStart(14)}   ${p(0.99) < TARGET_P99_MS ? 'met' : 'NOT met'}\n`,
      );
    }
  } finally {
    server?.closeAllConnections();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs the load in a worker thread (plain JavaScript, so it needs no loader) and returns the sorted
 * latencies in ms. 'closed': one connection, one request at a time. 'open': one request every
 * 1000/rate ms, each timed from when it was due. Bounded: it stops after `duration` s plus a grace.
 */
function drive(opts: { url: string; headers: Record<string, string>; bodies: string[]; mode: 'closed' | 'open'; rate?: number; duration: number }): Promise<{ latencies: number[]; failed: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(LOAD_WORKER, { eval: true, workerData: opts });
    worker.once('message', (m: { latencies: number[]; failed: number }) => {
      m.latencies.sort((a, b) => a - b);
      resolve(m);
    });
    worker.once('error', reject);
  });
}

const LOAD_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { url, headers, bodies, mode, rate, duration } = workerData;
const u = new URL(url);
const agent = new http.Agent({ keepAlive: true, maxSockets: mode === 'closed' ? 1 : 256 });
const latencies = [];
let failed = 0;
let sent = 0;
let answered = 0;
const t0 = performance.now();
const end = t0 + duration * 1000;
function send(due, onDone) {
  const body = bodies[sent++ % bodies.length];
  const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent,
    headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
    res.resume();
    res.on('end', () => {
      if (res.statusCode !== 200) failed++;
      latencies.push(performance.now() - due);
      answered++;
      onDone();
    });
  });
  req.on('error', () => { failed++; answered++; onDone(); });
  req.end(body);
}
let finished = false;
function finish() {
  if (finished) return;
  finished = true;
  agent.destroy();
  parentPort.postMessage({ latencies, failed });
}
if (mode === 'closed') {
  const next = () => (performance.now() < end ? send(performance.now(), next) : finish());
  next();
} else {
  const interval = 1000 / rate;
  const total = Math.round(rate * duration);
  const whenAnswered = () => { if (answered === total) finish(); };
  const tick = () => {
    while (sent < total && t0 + sent * interval <= performance.now()) send(t0 + sent * interval, whenAnswered);
    if (sent < total) setTimeout(tick, Math.max(0, t0 + sent * interval - performance.now()));
  };
  tick();
  // Whatever is still unanswered 10 s after the last request was due counts as failed.
  setTimeout(() => { failed += total - answered; finish(); }, duration * 1000 + 10000).unref();
}
`;

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
