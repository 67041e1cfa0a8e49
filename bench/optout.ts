/**
 * npm run bench:optout — how fast the IVR's pre-call check is with a full registry.
 *
 * Seeds OPTOUT_BENCH_NUMBERS opt-outs (default 100 000) into a fresh SQLite database, then runs
 * autocannon against, in turn, on loopback and in this same process:
 *   1. bare      — a bare Express route that answers a constant (the baseline);
 *   2. stack     — the app's own middleware (helmet, request id + log line, JSON parser) and a constant;
 *   3. auth      — the same plus bearer-token authentication and a constant;
 *   4. check     — the real app: POST /v1/opt-outs/check, authenticated, with realistic bodies (one
 *                  handler taking the chain's steps as plain calls: see optOutCheck for why).
 * bare and check are driven twice: flat out over OPTOUT_BENCH_CONNECTIONS connections (throughput, and
 * the latency of a saturated server, which is mostly queueing: connections ÷ throughput), and over one
 * connection, each request sent when the last one was answered (the latency one IVR line waits for;
 * a contact centre starts a few calls a second, far below saturation). Prints the ratio check/bare of
 * throughput against the target ≥ 0.7, and check's p99 over one connection against the target
 * < 5 ms. Figures, not a test: nothing fails the process. autocannon records whole milliseconds, so
 * "4" means under 5.
 *
 * OPTOUT_BENCH_DURATION (s per run, default 5), OPTOUT_BENCH_ROUNDS (default 3; figures are medians over
 * rounds), OPTOUT_BENCH_CONNECTIONS (default 10), OPTOUT_BENCH_ONLY (comma-separated starts of run names,
 * e.g. "bare   (constant,check  (POST" for the two the ratio needs, or one run to profile it alone).
 * The default run takes about three minutes.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { createApp } from '../src/app.js';
import type { ResolvedConfig } from '../src/config.js';
import { authenticate, bearerResolver } from '../src/http/auth.js';
import { requestId } from '../src/http/request-id.js';
import { createServices } from '../src/services.js';
import { systemClock } from '../src/shared/clock.js';
import { createDatabase, migrateLatest } from '../src/shared/database.js';
import { createLogger } from '../src/shared/logger.js';
import { createFsObjectStore } from '../src/storage/index.js';

const NUMBERS = Number(process.env.OPTOUT_BENCH_NUMBERS ?? 100_000);
const DURATION = Number(process.env.OPTOUT_BENCH_DURATION ?? 5);
const ROUNDS = Number(process.env.OPTOUT_BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.OPTOUT_BENCH_CONNECTIONS ?? 10);
/** Only the runs whose names start with one of these (comma-separated), e.g. "check" to profile it alone. */
const ONLY = process.env.OPTOUT_BENCH_ONLY?.split(',').map((s) => s.trim());

/** The i-th seeded number: +4670 followed by seven digits. */
const seeded = (i: number) => `+4670${String(i).padStart(7, '0')}`;

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gallra-bench-optout-'));
  const config: ResolvedConfig = {
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
    sessionTtlMs: 8 * 3_600_000,
    sessionIdleMs: 30 * 60_000,
    allowTokenSignIn: false,
    trustProxy: false,
    // The request line is still formatted and filtered per request, as in production; only not printed.
    logLevel: 'warn',
  };
  const db = createDatabase(config.databaseUrl);
  const servers: Server[] = [];
  try {
    await migrateLatest(db);
    const logger = createLogger({ level: config.logLevel });
    const services = createServices({ config, db, store: createFsObjectStore({ root: path.join(dir, 'objects') }), logger, clock: systemClock });

    const seedStart = Date.now();
    const at = new Date().toISOString();
    const batch = 400; // SQLite allows 999 bound variables per statement on old builds: 400 rows × 7 columns stays well inside others' limits too
    for (let i = 0; i < NUMBERS; i += batch) {
      const rows = [];
      for (let j = i; j < Math.min(i + batch, NUMBERS); j++) {
        rows.push({ id: `opt_${j.toString(16).padStart(16, '0')}`, caller_key: services.callerKeys.ofE164(seeded(j)), source: 'ivr', created_at: at, created_by: 'system:bench', removed_at: null, removed_by: null });
      }
      await db.batchInsert('opt_outs', rows, 100);
    }
    process.stdout.write(`seeded ${NUMBERS} opt-outs in ${((Date.now() - seedStart) / 1000).toFixed(1)} s\n`);

    const { token } = await services.tokens.create({ role: 'phone-system', name: 'bench ivr' }, 'system:bench');
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    // Realistic bodies: half registered, half not, in the formats an IVR sends.
    const bodies = [
      JSON.stringify({ number: seeded(17) }),
      JSON.stringify({ number: '+46709999999' }),
      JSON.stringify({ number: '00' + seeded(NUMBERS - 1).slice(1) }),
      JSON.stringify({ number: '08-123 456 78' }),
      JSON.stringify({ number: '0' + seeded(Math.floor(NUMBERS / 2)).slice(3) }),
      JSON.stringify({ number: '+46 31 765 43 21' }),
    ];

    const bare = () => {
      const app = express();
      app.post('/const', (_req, res) => {
        res.json({ optedOut: false });
      });
      return app;
    };
    const stack = (withAuth: boolean) => () => {
      const app = express();
      app.disable('x-powered-by');
      app.set('etag', false);
      app.use(helmet());
      app.use(requestId(logger));
      app.use(express.json({ limit: '64kb', strict: true }));
      if (withAuth) app.use(authenticate([bearerResolver(services.tokens)]));
      app.post('/const', (_req, res) => {
        res.json({ optedOut: false });
      });
      return app;
    };
    // A fresh app per run: a run that stops mid-request must not leave state (rate-limit counts) behind.
    const real = () => createApp(services);

    const listen = (app: Express) =>
      new Promise<string>((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(s.address() as AddressInfo).port}`));
        servers.push(s);
      });

    // Sanity: the real route answers as expected before it is measured.
    const realUrl = await listen(real());
    for (const [body, expected] of [[bodies[0]!, true], [bodies[1]!, false], [bodies[2]!, true], [bodies[4]!, true]] as const) {
      const r = await fetch(`${realUrl}/v1/opt-outs/check`, { method: 'POST', headers: auth, body });
      const j = (await r.json()) as { optedOut: boolean };
      if (r.status !== 200 || j.optedOut !== expected) throw new Error(`check answered ${r.status} ${JSON.stringify(j)} for ${body}`);
    }

    const json = { 'content-type': 'application/json' };
    const runs: { name: string; app: () => Express; path: string; headers: Record<string, string>; connections?: number }[] = [
      { name: 'bare   (constant, bare Express)', app: bare, path: '/const', headers: json },
      { name: 'stack  (constant, app middleware)', app: stack(false), path: '/const', headers: json },
      { name: 'auth   (constant, + bearer auth)', app: stack(true), path: '/const', headers: auth },
      { name: 'check  (POST /v1/opt-outs/check)', app: real, path: '/v1/opt-outs/check', headers: auth },
      { name: 'bare   (one connection)', app: bare, path: '/const', headers: json, connections: 1 },
      { name: 'check  (one connection)', app: real, path: '/v1/opt-outs/check', headers: auth, connections: 1 },
    ];
    type Figures = { rps: number; p50: number; p99: number; non2xx: number };
    const rounds: Record<string, Figures[]> = Object.fromEntries(runs.map((r) => [r.name, []]));
    // Rounds interleave the variants, and each figure is the median over rounds, so that load from
    // elsewhere on the machine hits every variant alike instead of skewing one.
    for (let round = 0; round < ROUNDS; round++) {
      for (const run of runs) {
        if (ONLY && !ONLY.some((o) => run.name.startsWith(o))) continue;
        const opts = {
          // autocannon in a worker thread, so the load generator does not share the server's event loop.
          workers: 1,
          connections: run.connections ?? CONNECTIONS,
          duration: DURATION,
          requests: bodies.map((body) => ({ method: 'POST' as const, headers: run.headers, body })),
        };
        await autocannon({ ...opts, url: (await listen(run.app())) + run.path, duration: 1 }); // warm-up (JIT, SQLite page cache)
        const r = await autocannon({ ...opts, url: (await listen(run.app())) + run.path });
        rounds[run.name]!.push({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx + r.errors });
        if (r.non2xx + r.errors) process.stdout.write(`${run.name}: status codes ${JSON.stringify(r.statusCodeStats)}, errors ${r.errors}\n`);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const results: Record<string, Figures> = Object.fromEntries(
      Object.entries(rounds)
        .filter(([, fs]) => fs.length > 0)
        .map(([name, fs]) => [
        name,
        { rps: median(fs.map((f) => f.rps)), p50: median(fs.map((f) => f.p50)), p99: median(fs.map((f) => f.p99)), non2xx: fs.reduce((n, f) => n + f.non2xx, 0) },
      ]),
    );

    process.stdout.write(`\n${NUMBERS} numbers registered, ${CONNECTIONS} connections unless said, median of ${ROUNDS} rounds of ${DURATION} s, loopback, one process, load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores\n\n`);
    process.stdout.write('run                                   req/s    p50 ms   p99 ms   non-2xx/errors\n');
    for (const [name, r] of Object.entries(results)) {
      process.stdout.write(`${name.padEnd(36)} ${r.rps.toFixed(0).padStart(7)} ${r.p50.toFixed(2).padStart(9)} ${r.p99.toFixed(2).padStart(8)}   ${r.non2xx}\n`);
    }
    const base = results[runs[0]!.name];
    const stackR = results[runs[1]!.name];
    const check = results[runs[3]!.name];
    const checkAlone = results[runs[5]!.name];
    if (base && check) {
      const ratio = check.rps / base.rps;
      process.stdout.write(`\nratio check/bare  = ${ratio.toFixed(2)}   (throughput flat out; target ≥ 0.70: ${ratio >= 0.7 ? 'met' : 'NOT met'})\n`);
    }
    if (stackR && check) process.stdout.write(`ratio check/stack = ${(check.rps / stackR.rps).toFixed(2)}   (against the app's usual middleware answering a constant: the check skips its layers)\n`);
    if (checkAlone && check) {
      process.stdout.write(`check p99         = ${checkAlone.p99.toFixed(2)} ms over one connection (target < 5 ms: ${checkAlone.p99 < 5 ? 'met' : 'NOT met'}); flat out ${check.p99.toFixed(2)} ms, mostly queueing behind ${CONNECTIONS} connections\n`);
    }
  } finally {
    // Let requests still waiting for the database finish before it closes (autocannon stops mid-flight).
    const pool = (db.client as { pool?: { numUsed(): number; numPendingAcquires(): number } }).pool;
    for (let i = 0; i < 100 && pool && pool.numUsed() + pool.numPendingAcquires() > 0; i++) await new Promise((r) => setTimeout(r, 50));
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
