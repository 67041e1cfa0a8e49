/**
 * The parts of the fault drills (`npm run chaos`, test/chaos/): the service and its scripts as child
 * processes on loopback, a TCP port whose faults the drill controls (in front of s3rver or
 * PostgreSQL), a phone-system client that signs and retries, a seeder that ingests calls whose
 * deadline has passed through the real ingest use case with an injected clock, and the scans that
 * fill the table's columns.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createHmac, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, copyFileSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, type WriteStream } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import knexFactory from 'knex';
import { runRetentionOnce } from '../../jobs/retention.js';
import { loadConfig, type ResolvedConfig } from '../../src/config.js';
import { createServices, type Services } from '../../src/services.js';
import { createCallerKeys } from '../../src/shared/caller-key.js';
import { DAY_MS, ManualClock } from '../../src/shared/clock.js';
import { createDatabase, migrateLatest, type Database } from '../../src/shared/database.js';
import { createLogger } from '../../src/shared/logger.js';
import { createStore } from '../../src/storage/index.js';
import { startS3rverProcess } from '../s3rver-child.js';
import { FaultyPort } from '../../test/helpers/faulty-port.js';
import { pcm16Wav } from '../../test/helpers/webhook.js';
import { scanBytes, type PiiHit } from './pii-scan.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const HOST = '127.0.0.1';
export const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
/** Every drill's service keeps calls this many days; seeded calls started two days before "now". */
export const RETENTION_DAYS = 1;

// ---------------------------------------------------------------- how the service is run

/**
 * `compiled`: `node dist/src/main.js` and `node dist/scripts/*.js`, as `npm start` runs them (npm run
 * chaos builds first). `tsx`: the same entry points from the TypeScript sources, for the short drills
 * inside `npm test`, which must not depend on (or rebuild) dist/.
 */
export type Runner = 'compiled' | 'tsx';
const entry = (runner: Runner, what: string) =>
  runner === 'compiled' ? [path.join('dist', what + '.js')] : ['--import', 'tsx', what + '.ts'];

export interface Secrets {
  webhookSecret: string;
  callerKeySecret: string;
  auditSigningKey: string;
}
export function newSecrets(): Secrets {
  return {
    webhookSecret: 'whsec_' + randomBytes(32).toString('base64'),
    callerKeySecret: randomBytes(32).toString('hex'),
    auditSigningKey: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

// A port whose faults the drill controls: test/helpers/faulty-port.ts (the component tests use it too).

// ---------------------------------------------------------------- backends

export type DbKind = 'sqlite' | 'postgres';
export type StoreKind = 'fs' | 's3';

/** One drill's world: a directory for data, logs and temp files, a database and a store. */
export interface World {
  name: string;
  db: DbKind;
  store: StoreKind;
  dir: string;
  dataDir: string;
  logDir: string;
  /** TMPDIR of every process the drill starts: nothing may be left in it. */
  tmpDir: string;
  secrets: Secrets;
  /** The database as the service reaches it (through `pgPort` on PostgreSQL). */
  databaseUrl: string;
  /** The database directly, for the drill's own reads. */
  directDatabaseUrl: string;
  pgPort?: FaultyPort;
  /** `dir`: s3rver's storage directory (objects and their metadata), scanned like the data directory. */
  s3?: { endpoint: string; bucket: string; dir: string; port: FaultyPort; stop(): Promise<void> };
  runner: Runner;
  /** Settings every process of the world gets besides its own (the short drills' shorter store deadline). */
  env: Record<string, string>;
  /** Every phone number the drill used, E.164. */
  numbers: Set<string>;
  /** The drill's own view of the database. */
  knex(): Database;
  close(opts?: { keep?: boolean }): Promise<void>;
}

async function adminSql(sql: string): Promise<void> {
  const admin = knexFactory({ client: 'pg', connection: PG_ADMIN_URL, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(sql);
  } finally {
    await admin.destroy();
  }
}

export async function createWorld(
  name: string,
  db: DbKind,
  store: StoreKind,
  runner: Runner,
  opts: { parent?: string; dataDir?: string; env?: Record<string, string> } = {},
): Promise<World> {
  const dir = mkdtempSync(path.join(opts.parent ?? tmpdir(), `gallra-chaos-${name.replace(/[^a-z0-9]+/gi, '-')}-`));
  const dataDir = opts.dataDir ?? path.join(dir, 'data');
  const logDir = path.join(dir, 'logs');
  const tmpDir = path.join(dir, 'tmp');
  for (const d of [dataDir, logDir, tmpDir]) mkdirSync(d, { recursive: true });
  let pgName: string | undefined;
  let pgPort: FaultyPort | undefined;
  let databaseUrl = `sqlite:${path.join(dataDir, 'gallra.sqlite')}`;
  let directDatabaseUrl = databaseUrl;
  if (db === 'postgres') {
    pgName = `gallra_chaos_${randomBytes(5).toString('hex')}`;
    await adminSql(`create database ${pgName}`);
    pgPort = await FaultyPort.open(5432);
    databaseUrl = `postgres://postgres@${HOST}:${pgPort.port}/${pgName}`;
    directDatabaseUrl = `postgres://postgres@${HOST}:5432/${pgName}`;
  }
  let s3: World['s3'];
  if (store === 's3') {
    const server = await startS3rverProcess();
    const port = await FaultyPort.open(Number(new URL(server.endpoint).port));
    s3 = { endpoint: `http://${HOST}:${port.port}`, bucket: server.bucket, dir: server.dir, port, stop: server.stop };
  }
  let knex: Database | undefined;
  const world: World = {
    name, db, store, dir, dataDir, logDir, tmpDir, secrets: newSecrets(), databaseUrl, directDatabaseUrl, pgPort, s3, runner, env: opts.env ?? {}, numbers: new Set(),
    knex() {
      knex ??= createDatabase(directDatabaseUrl);
      return knex;
    },
    async close({ keep = false } = {}) {
      await knex?.destroy();
      knex = undefined;
      await pgPort?.close();
      if (s3) {
        await s3.port.close();
        await s3.stop();
      }
      if (pgName) await adminSql(`drop database if exists ${pgName} with (force)`);
      if (!keep) rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

/** The environment the service and its scripts get: explicit secrets, the world's database and store, nothing inherited but PATH and HOME. */
export function serviceEnv(w: World, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TMPDIR: w.tmpDir,
    HOST,
    PORT: '0',
    DATA_DIR: w.dataDir,
    DATABASE_URL: w.databaseUrl,
    STORAGE_DRIVER: w.store,
    WEBHOOK_SECRETS: w.secrets.webhookSecret,
    CALLER_KEY_SECRET: w.secrets.callerKeySecret,
    AUDIT_SIGNING_KEY: w.secrets.auditSigningKey,
    RETENTION_DAYS: String(RETENTION_DAYS),
    LOG_LEVEL: 'info',
    ...(w.s3
      ? {
          S3_BUCKET: w.s3.bucket,
          S3_ENDPOINT: w.s3.endpoint,
          S3_FORCE_PATH_STYLE: 'true',
          S3_ACCESS_KEY_ID: 'S3RVER',
          S3_SECRET_ACCESS_KEY: 'S3RVER',
          S3_REQUEST_CHECKSUM: 'when_required',
        }
      : {}),
    ...w.env,
    ...extra,
  };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return env;
}

// ---------------------------------------------------------------- processes

let logSeq = 0;
function logStream(w: World, label: string): { file: string; stream: WriteStream } {
  const file = path.join(w.logDir, `${String(++logSeq).padStart(4, '0')}-${label}.log`);
  return { file, stream: createWriteStream(file) };
}

export interface Service {
  child: ChildProcess;
  port: number;
  logFile: string;
  /** SIGKILL, and wait until it is gone. */
  kill9(): Promise<void>;
  /** SIGTERM (graceful), and wait until it is gone. */
  stop(): Promise<void>;
  exited: Promise<number | null>;
}

/** Starts the service and resolves once it listens; rejects with its output if it exits or takes longer than `withinMs`. */
export async function startService(w: World, extra: Record<string, string | undefined> = {}, withinMs = 90_000): Promise<Service> {
  const { file, stream } = logStream(w, 'service');
  const child = spawn(process.execPath, entry(w.runner, 'src/main'), { cwd: ROOT, env: serviceEnv(w, extra), stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(stream, { end: false });
  child.stderr!.pipe(stream, { end: false });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then(() => setTimeout(() => stream.end(), 50));
  let head = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the service did not start within ${withinMs} ms:\n${head}`));
    }, withinMs);
    const onData = (c: Buffer) => {
      head += c;
      const line = head.split('\n').find((l) => l.includes('gallra is listening'));
      if (line) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(JSON.parse(line).port);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c) => (head += c));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new ServiceExited(code, head));
    });
  });
  const waitExit = async () => void (await exited);
  return {
    child,
    port,
    logFile: file,
    exited,
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await waitExit();
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 40_000);
      await waitExit();
      clearTimeout(t);
    },
  };
}

export class ServiceExited extends Error {
  constructor(
    readonly code: number | null,
    readonly output: string,
  ) {
    super(`the service exited (${code}) before it listened: ${output.trim().split('\n').slice(-4).join(' | ')}`);
  }
}

export interface ScriptRun {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** A CLI (`retention`, `token`, `audit-verify`) as npm runs it; its output also goes to the world's logs. */
export function runScript(w: World, name: string, args: string[] = [], extra: Record<string, string | undefined> = {}, timeoutMs = 180_000): ScriptRun {
  const { stream } = logStream(w, name);
  const child = spawn(process.execPath, [...entry(w.runner, `scripts/${name}`), ...args], { cwd: ROOT, env: serviceEnv(w, extra), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => {
    stdout += c;
    stream.write(c);
  });
  child.stderr!.on('data', (c) => {
    stderr += c;
    stream.write(c);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      stream.end();
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { child, done };
}

export async function tokenFor(w: World, role: string): Promise<string> {
  const r = await runScript(w, 'token', ['create', '--role', role, '--name', `chaos ${role}`]).done;
  if (r.code !== 0) throw new Error(`token create failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim().split('\n').pop()!.trim();
}

// ---------------------------------------------------------------- audio and numbers

/** A WAV (PCM16, 8 kHz, mono) of `seconds` of noise: every call's bytes differ, so byte-for-byte checks mean something. */
export function makeWav(seconds: number): Buffer {
  return pcm16Wav(randomBytes(Math.round(8000 * seconds) * 2));
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A Swedish mobile number the drill has not used yet (E.164), remembered for the PII scan. */
export function newNumber(w: World): string {
  for (;;) {
    const n = `+467${[0, 2, 3, 6, 9][Math.floor(Math.random() * 5)]}${String(Math.floor(Math.random() * 10_000_000)).padStart(7, '0')}`;
    if (!w.numbers.has(n)) {
      w.numbers.add(n);
      return n;
    }
  }
}

// ---------------------------------------------------------------- the phone system and staff as HTTP clients

export type Answer = { status: number; contentType: string; body: Buffer; retryAfter?: string } | { status: 'none'; error: string };

/** One request with a bound on the answer's time: no answer within `withinMs` (or a reset) is 'none'. */
export function request(port: number, method: string, urlPath: string, headers: Record<string, string>, body?: Buffer, withinMs = 30_000): Promise<Answer> {
  return new Promise((resolve) => {
    const h = { ...headers, connection: 'close', ...(body ? { 'content-length': String(body.length) } : {}) };
    const req = http.request({ host: HOST, port, method, path: urlPath, headers: h });
    const timer = setTimeout(() => {
      req.destroy();
      resolve({ status: 'none', error: `no answer within ${withinMs} ms` });
    }, withinMs);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode!, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks), retryAfter: res.headers['retry-after'] as string | undefined });
      });
      res.on('error', (err) => {
        clearTimeout(timer);
        resolve({ status: 'none', error: err.message });
      });
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      resolve({ status: 'none', error: err.message });
    });
    req.end(body);
  });
}

export interface Call {
  callId: string;
  number: string;
  startedAt: Date;
  audio: Buffer;
  optOut?: boolean;
}

export function newCall(w: World, opts: { seconds?: number; number?: string; startedAt?: Date; optOut?: boolean } = {}): Call {
  return {
    callId: `chaos-${randomUUID()}`,
    number: opts.number ?? newNumber(w),
    startedAt: opts.startedAt ?? new Date(Date.now() - 10 * 60_000),
    audio: makeWav(opts.seconds ?? 2),
    optOut: opts.optOut,
  };
}

function multipartOf(call: Call): { body: Buffer; boundary: string } {
  const boundary = 'chaos' + randomUUID().replace(/-/g, '');
  const meta = {
    callId: call.callId,
    startedAt: call.startedAt.toISOString(),
    endedAt: new Date(call.startedAt.getTime() + 180_000).toISOString(),
    caller: call.number,
    queue: 'bygglov',
    agentId: 'agent-17',
    optOut: call.optOut ?? false,
  };
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(meta)}\r\n`),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="audio"; filename="call.wav"\r\nContent-Type: audio/wav\r\n\r\n`),
    call.audio,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, boundary };
}

/** Posts a call to the webhook, signed as Standard Webhooks (a fresh id and timestamp on every attempt, as a retrying sender does). */
export function upload(port: number, w: World, call: Call, withinMs = 30_000): Promise<Answer> {
  const { body, boundary } = multipartOf(call);
  const id = `msg_${randomUUID()}`;
  const ts = Math.floor(Date.now() / 1000);
  const key = Buffer.from(w.secrets.webhookSecret.replace(/^whsec_/, ''), 'base64');
  const sig = createHmac('sha256', key).update(`${id}.${ts}.`).update(body).digest('base64');
  return request(
    port,
    'POST',
    '/v1/recordings',
    { 'content-type': `multipart/form-data; boundary=${boundary}`, 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${sig}` },
    body,
    withinMs,
  );
}

export function api(port: number, token: string, method: string, urlPath: string, json?: unknown, withinMs = 30_000): Promise<Answer> {
  return request(
    port,
    method,
    urlPath,
    { authorization: `Bearer ${token}`, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
    json === undefined ? undefined : Buffer.from(JSON.stringify(json)),
    withinMs,
  );
}

export const jsonOf = (a: Answer): any => (a.status === 'none' ? undefined : JSON.parse(a.body.toString('utf8') || 'null'));

// ---------------------------------------------------------------- the table

export interface Row {
  scenario: string;
  backend: string;
  trials: number;
  /** Uploads answered 2xx (stored) whose audio is not there byte for byte at the end. */
  lost: number;
  /** Stored, unheld recordings whose deadline has passed, after the drill's last retention run. */
  pastDeadline: number;
  /** Objects without a row, `.tmp-*` files, lone sidecars and files in TMPDIR, after one sweep. */
  leftovers: number;
  /** Answers ≥ 500 that are not 503 application/problem+json (a reset connection is not an answer). */
  bad5xx: number;
  /** Requests with no answer within the drill's bound (the service must answer an outage, not hang). */
  unanswered: number;
  /** Phone numbers (any spelling) or caller keys found in the service's and scripts' logs. */
  piiInLogs: number;
  /** Other promises the drill checks that did not hold (each named in `notes`). */
  broken: number;
  notes: string[];
  /** Answers seen, by status. */
  statuses: Map<string, number>;
}

export function newRow(scenario: string, w: Pick<World, 'db' | 'store'>): Row {
  return { scenario, backend: `${w.db === 'sqlite' ? 'SQLite' : 'PostgreSQL'}+${w.store}`, trials: 0, lost: 0, pastDeadline: 0, leftovers: 0, bad5xx: 0, unanswered: 0, piiInLogs: 0, broken: 0, notes: [], statuses: new Map() };
}

/** Counts an answer into the row: every 5xx must be 503 problem+json with Retry-After. */
export function tally(row: Row, a: Answer, label = ''): void {
  const key = a.status === 'none' ? 'none' : String(a.status);
  row.statuses.set(key, (row.statuses.get(key) ?? 0) + 1);
  if (a.status === 'none') return;
  // /readyz answers 503 with its own status document (which checks failed): not an error answer.
  if (label.startsWith('readiness')) return;
  if (a.status >= 500 && !(a.status === 503 && a.contentType.startsWith('application/problem+json') && a.retryAfter)) {
    row.bad5xx++;
    note(row, `${label}${a.status} ${a.contentType.split(';')[0] || '(no type)'}${a.status === 503 && !a.retryAfter ? ' without Retry-After' : ''}`);
  }
}

/** Notes are kept once each, with a count. */
export function note(row: Row, text: string): void {
  const i = row.notes.findIndex((n) => n.replace(/ ×\d+$/, '') === text);
  if (i < 0) row.notes.push(text);
  else {
    const m = / ×(\d+)$/.exec(row.notes[i]!);
    row.notes[i] = `${text} ×${m ? Number(m[1]) + 1 : 2}`;
  }
}

export function broke(row: Row, text: string): void {
  row.broken++;
  note(row, text);
}

/** Rows of the same drill run several times, as one: counts and answers summed, notes counted. */
export function mergeRows(rows: Row[]): Row {
  if (rows.length === 1) return rows[0]!;
  const out: Row = { ...rows[0]!, scenario: `${rows[0]!.scenario} ×${rows.length}`, notes: [], statuses: new Map() };
  for (const c of ['trials', ...BAD_COLUMNS] as const) out[c] = rows.reduce((n, r) => n + r[c], 0);
  for (const r of rows) {
    for (const n of r.notes) {
      const m = / ×(\d+)$/.exec(n);
      for (let i = 0; i < (m ? Number(m[1]) : 1); i++) note(out, n.replace(/ ×\d+$/, ''));
    }
    for (const [s, n] of r.statuses) out.statuses.set(s, (out.statuses.get(s) ?? 0) + n);
  }
  return out;
}

export const BAD_COLUMNS = ['lost', 'pastDeadline', 'leftovers', 'bad5xx', 'unanswered', 'piiInLogs', 'broken'] as const;
export const isClean = (r: Row) => BAD_COLUMNS.every((c) => r[c] === 0);

export function formatTable(rows: Row[]): string {
  const head = ['scenario', 'backend', 'trials', 'acked uploads lost', 'past deadline', 'orphans/temp after sweep', '5xx not 503 problem', 'unanswered', 'numbers/keys in logs', 'other broken', 'answers'];
  const body = rows.map((r) => [
    r.scenario,
    r.backend,
    String(r.trials),
    String(r.lost),
    String(r.pastDeadline),
    String(r.leftovers),
    String(r.bad5xx),
    String(r.unanswered),
    String(r.piiInLogs),
    String(r.broken),
    [...r.statuses].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s}×${n}`).join(' '),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  const notes = rows.filter((r) => r.notes.length).map((r) => `  ${r.scenario} (${r.backend}): ${r.notes.join('; ')}`);
  return [line(head), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...body.map(line), ...(notes.length ? ['', 'notes:', ...notes] : [])].join('\n') + '\n';
}

// ---------------------------------------------------------------- seeding calls that are due

/**
 * Ingests calls through the real ingest use case, in this process, with a clock two days back: each
 * call is stored with its audit entry exactly as the webhook would store it then, and is past its
 * deadline now. No drill waits for a deadline.
 */
export async function seedDue(w: World, n: number): Promise<{ ids: string[] }> {
  const then = new Date(Date.now() - 2 * DAY_MS);
  const { services, close } = await inProcess(w, new ManualClock(then));
  const keys = createCallerKeys(w.secrets.callerKeySecret);
  const audio = makeWav(0.5);
  const ids: string[] = [];
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < n) {
          next++;
          const number = newNumber(w);
          const startedAt = new Date(then.getTime() - 10 * 60_000);
          const meta = { callId: `due-${randomUUID()}`, startedAt, endedAt: new Date(startedAt.getTime() + 60_000), callerKey: keys.of(number), queue: 'bygglov', agentId: 'agent-17', optOut: false };
          const out = await services.ingest.receive(meta, Readable.from([audio]), Promise.resolve(true));
          if (out.outcome !== 'stored') throw new Error(`seeding: a due call was not stored (${out.outcome})`);
          ids.push(out.body.id);
        }
      }),
    );
  } finally {
    await close();
  }
  return { ids };
}

/** The service's use cases in this process, on the world's database and store, with the given clock; logs into the world's log directory. */
export async function inProcess(w: World, clock: ManualClock, extra: Record<string, string> = {}): Promise<{ services: Services; db: Database; close(): Promise<void> }> {
  const config = loadConfig(serviceEnv(w, { DATABASE_URL: w.directDatabaseUrl, S3_ENDPOINT: w.s3 ? directS3Endpoint(w) : undefined, ...extra })) as ResolvedConfig;
  const db = createDatabase(config.databaseUrl);
  await migrateLatest(db);
  const { stream } = logStream(w, 'in-process');
  const logger = createLogger({ level: 'info', stream });
  const services = createServices({ config, db, store: createStore(config), logger, clock });
  return {
    services,
    db,
    async close() {
      await db.destroy();
      stream.end();
    },
  };
}

/** The S3 endpoint behind the world's faulty port: the drill's own reads must not suffer its faults. */
export function directS3Endpoint(w: World): string {
  return w.s3!.endpoint.replace(`:${w.s3!.port.port}`, `:${w.s3!.port.target}`);
}

// ---------------------------------------------------------------- what is left: leftovers, overdue rows, PII

/**
 * One retention run (`npm run retention`); true when it ran to the end without failures. A run killed
 * with the lease in hand (kill -9, or a run cut off by the drill) keeps it until its TTL (5 min) lapses:
 * then the same run happens in this process with a clock 6 minutes ahead, instead of the drill waiting.
 */
export async function retentionRun(w: World, row: Row, extra: Record<string, string> = {}): Promise<boolean> {
  const r = await runScript(w, 'retention', [], extra).done;
  if (r.code === 75) {
    const next = await inProcess(w, new ManualClock(new Date(Date.now() + 6 * 60_000)), extra);
    try {
      const out = await runRetentionOnce(next.services);
      if (!out.ran) broke(row, 'a retention run could not take the lease');
      return out.ran && !out.report.failed.length && !out.report.orphans.failed.length;
    } finally {
      await next.close();
    }
  }
  if (r.code !== 0 && r.code !== 1) broke(row, `a retention run exited ${r.code ?? r.signal}: ${r.stderr.split('\n').slice(-3).join(' ')}`);
  return r.code === 0;
}

/** Runs one retention run with a zero grace period, then counts what no row explains. */
export async function sweepAndCountLeftovers(w: World, row: Row): Promise<void> {
  await retentionRun(w, row, { ORPHAN_GRACE: '0s' });
  const db = w.knex();
  const stored = new Set((await db('recordings').where({ status: 'stored' }).whereNotNull('storage_key').pluck('storage_key')) as string[]);
  let left = 0;
  if (w.store === 'fs') {
    const root = path.join(w.dataDir, 'objects', 'recordings');
    const files = existsSync(root) ? (readdirSync(root, { recursive: true }) as string[]).filter((f) => statSync(path.join(root, f)).isFile()) : [];
    const names = new Set(files);
    for (const f of files) {
      const base = path.basename(f);
      if (base.startsWith('.tmp-')) {
        left++;
        note(row, 'temp file left in the store');
      } else if (f.endsWith('.meta.json')) {
        if (!names.has(f.slice(0, -'.meta.json'.length))) {
          left++;
          note(row, 'sidecar without data left');
        }
      } else if (!stored.has(`recordings/${f}`)) {
        left++;
        note(row, 'object without a stored row left');
      }
    }
  } else {
    const config = loadConfig(serviceEnv(w, { S3_ENDPOINT: directS3Endpoint(w) }));
    const store = createStore(config);
    for await (const o of store.list('recordings/')) {
      if (!stored.has(o.key)) {
        left++;
        note(row, 'object without a stored row left');
      }
    }
  }
  // tsx keeps its compile cache in TMPDIR (the short drills run the sources): that is not the service's.
  const tmpNames = readdirSync(w.tmpDir).filter((f) => !(w.runner === 'tsx' && /^tsx-/.test(f)));
  const tmpLeft = tmpNames.length;
  if (tmpLeft) note(row, `${tmpLeft} files left in TMPDIR (${tmpNames.slice(0, 5).join(', ')})`);
  left += tmpLeft;
  row.leftovers += left;

  const now = new Date().toISOString();
  const overdue = await db('recordings as r')
    .where('r.status', 'stored')
    .andWhere('r.deadline', '<', now)
    .whereNotExists(db('holds as h').whereRaw('h.recording_id = r.id').whereNull('h.released_at').whereNull('h.lapsed_at'))
    .count({ n: '*' });
  row.pastDeadline += Number(overdue[0]!.n);
}

/** Byte-for-byte: every acknowledged call's audio, played back through the API. */
export async function countLost(port: number, token: string, acked: Map<string, { id: string; sha: string }>, row: Row): Promise<void> {
  const items = [...acked.values()];
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < items.length) {
        const { id, sha } = items[next++]!;
        const a = await request(port, 'GET', `/v1/recordings/${id}/audio`, { authorization: `Bearer ${token}` }, undefined, 60_000);
        if (a.status !== 200 || sha256(a.body) !== sha) {
          row.lost++;
          note(row, `acknowledged recording not played back intact (${a.status})`);
        }
      }
    }),
  );
}

export interface PiiFinding {
  /** Relative to the world's directory; s3rver/… for a file of the world's S3 store. */
  file: string;
  path: string;
  numbers: number;
  callerKeys: number;
  hits: PiiHit[];
}

/**
 * Searches files for the drill's numbers in every spelling (bench/chaos/pii-scan.ts) and, where
 * `keysToo`, for their caller keys.
 */
export function scanFiles(files: string[], w: World, keysToo: boolean): PiiFinding[] {
  const nsns = new Set([...w.numbers].map((n) => n.slice(3)));
  const keys = createCallerKeys(w.secrets.callerKeySecret);
  const callerKeys = keysToo ? new Set([...w.numbers].map((n) => keys.ofE164(n))) : undefined;
  const out: PiiFinding[] = [];
  for (const file of files) {
    const hits = scanBytes(readFileSync(file), { nsns, callerKeys });
    if (!hits.length) continue;
    const count = (kind: PiiHit['kind']) => hits.filter((h) => h.kind === kind).length;
    const label = w.s3 && file.startsWith(w.s3.dir + path.sep) ? path.join('s3rver', path.relative(w.s3.dir, file)) : path.relative(w.dir, file);
    out.push({ file: label, path: file, numbers: count('number'), callerKeys: count('caller key'), hits });
  }
  return out;
}

/** Where files with hits are copied before a world is removed: CHAOS_EVIDENCE_DIR, or gallra-chaos-evidence in the OS temp directory. */
export const EVIDENCE_ROOT = process.env.CHAOS_EVIDENCE_DIR ?? path.join(tmpdir(), 'gallra-chaos-evidence');
const evidenceDirs = new WeakMap<World, string>();

/**
 * Copies every file with a hit out of the world (same relative path) and appends its hits to
 * `hits.txt` beside them; returns the folder. Called before the world is removed, so that a hit can be
 * told apart from a real leak afterwards.
 */
export function keepEvidence(w: World, findings: PiiFinding[], root = EVIDENCE_ROOT): string | undefined {
  if (!findings.length) return undefined;
  let dir = evidenceDirs.get(w);
  if (!dir) {
    mkdirSync(root, { recursive: true });
    dir = mkdtempSync(path.join(root, `${new Date().toISOString().replace(/[:.]/g, '')}-${w.name.replace(/[^a-z0-9]+/gi, '-')}-`));
    evidenceDirs.set(w, dir);
  }
  for (const f of findings) {
    const to = path.join(dir, f.file);
    mkdirSync(path.dirname(to), { recursive: true });
    copyFileSync(f.path, to);
    appendFileSync(path.join(dir, 'hits.txt'), f.hits.map((h) => `${f.file}:${h.line}\t${h.kind}\t${h.where}\t${h.text}\n`).join(''));
  }
  return dir;
}

/** One line for the table's notes: counts, the first hits with their place and masked text, and the evidence folder. */
export function describeFinding(f: PiiFinding, prefix: string, evidence: string | undefined): string {
  const shown = f.hits.slice(0, 3).map((h) => `line ${h.line} ${h.where} "${h.text}"`);
  const more = f.hits.length > shown.length ? ` and ${f.hits.length - shown.length} more` : '';
  return `${f.numbers} numbers and ${f.callerKeys} caller keys in ${prefix}${f.file} (${shown.join('; ')}${more}; kept in ${evidence})`;
}

export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).map((f) => path.join(dir, f)).filter((f) => statSync(f).isFile());
}

/** Logs of every process the drill started: numbers and caller keys. */
export function scanLogs(w: World, row: Row): void {
  const findings = scanFiles(filesUnder(w.logDir), w, true);
  const evidence = keepEvidence(w, findings);
  for (const f of findings) {
    row.piiInLogs += f.numbers + f.callerKeys;
    note(row, describeFinding(f, '', evidence));
  }
}

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
