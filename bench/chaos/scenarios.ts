/**
 * The fault drills, one function per row of the table. Each takes a world (database + store + a
 * directory), puts the compiled service (or its scripts) through one kind of fault from outside, and
 * fills its row: what was acknowledged and then lost, what is past its deadline after one more
 * retention run, what that run's sweep left, which answers were 5xx other than 503 problem+json,
 * which requests were not answered in time, and what the logs hold that they must not.
 */
import { spawn } from 'node:child_process';
import { execFileSync, execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmdirSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { runRetentionOnce } from '../../jobs/retention.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createStore, storeRoot } from '../../src/storage/index.js';
import { loadConfig } from '../../src/config.js';
import {
  api, broke, countLost, createWorld, delay, describeFinding, keepEvidence, directS3Endpoint, retentionRun, filesUnder, inProcess, jsonOf, newCall, newNumber, newRow, note, ROOT, runScript, scanFiles, scanLogs, seedDue,
  serviceEnv, ServiceExited, sha256, startService, sweepAndCountLeftovers, tally, tokenFor, upload, type Answer, type Call, type DbKind, type Row, type Runner,
  type Service, type StoreKind, type World,
} from './harness.js';

/** How long a request may take during an outage before it counts as unanswered. */
export const ANSWER_BOUND_MS = Number(process.env.CHAOS_ANSWER_BOUND_MS ?? 35_000);

export interface DrillOptions {
  runner: Runner;
  /** Where worlds are made (default the OS temp directory). */
  parent?: string;
  /** Every file each world leaves is scanned for numbers into this row before the world is removed. */
  pii: Row;
  /** Settings for every process of the drill's worlds (the short drills shorten S3_OPERATION_TIMEOUT). */
  env?: Record<string, string>;
}

export type Acked = Map<string, { id: string; sha: string }>;

/** Counts an upload's answer; a stored (or already stored) call is remembered as acknowledged. */
export function noteUpload(row: Row, call: Call, a: Answer, acked: Acked, label = 'upload: '): 'acked' | 'unanswered' | 'refused' {
  tally(row, a, label);
  if (a.status === 'none') return 'unanswered';
  if (a.status === 200 || a.status === 201) {
    const body = jsonOf(a);
    if (body?.status === 'stored' && body.id) {
      acked.set(call.callId, { id: body.id, sha: sha256(call.audio) });
      return 'acked';
    }
    if (body?.status === 'deleted' && acked.has(call.callId)) return 'acked';
    broke(row, `upload answered ${a.status} but ${body?.status ?? 'no status'}${body?.reason ? ` (${body.reason})` : ''}`);
    return 'refused';
  }
  return 'refused';
}

async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/**
 * Scans every file the world holds (data, the S3 store's files, logs, the database or its dump) for
 * numbers into `pii`, keeps the files with hits under `evidenceRoot` (default CHAOS_EVIDENCE_DIR), then
 * removes the world.
 */
export async function finish(w: World, pii: Row, evidenceRoot?: string): Promise<void> {
  try {
    const files = [...filesUnder(w.dataDir), ...(w.s3 ? filesUnder(w.s3.dir) : []), ...filesUnder(w.logDir)];
    if (w.db === 'postgres') {
      const dump = path.join(w.logDir, 'database.dump.sql');
      const { stdout } = await promisify(execFile)('pg_dump', ['--data-only', '--no-owner', w.directDatabaseUrl], { encoding: 'buffer', maxBuffer: 512 * 1024 * 1024 });
      const { writeFileSync } = await import('node:fs');
      writeFileSync(dump, stdout);
      files.push(dump);
    }
    pii.trials += files.length;
    const findings = scanFiles(files, w, false);
    const evidence = keepEvidence(w, findings, evidenceRoot);
    for (const f of findings) {
      pii.piiInLogs += f.numbers;
      note(pii, describeFinding(f, `${w.name}/`, evidence));
    }
  } finally {
    await w.close();
  }
}

export async function withWorld(name: string, db: DbKind, store: StoreKind, o: DrillOptions, fn: (w: World, row: Row) => Promise<void>, worldOpts: { dataDir?: string } = {}): Promise<Row> {
  const w = await createWorld(name, db, store, o.runner, { parent: o.parent, env: o.env, ...worldOpts });
  const row = newRow(name, w);
  try {
    await fn(w, row);
  } catch (err) {
    broke(row, `the drill itself failed: ${(err as Error).message.split('\n')[0]}`);
  } finally {
    scanLogs(w, row);
    await finish(w, o.pii);
  }
  return row;
}

/** Lines of a log file that say the service's startup retention run is over. */
export async function startupRetentionDone(svc: Service, withinMs = 60_000): Promise<void> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    const text = existsSync(svc.logFile) ? readFileSync(svc.logFile, 'utf8') : '';
    if (/retention run finished|start-up retention run failed|another instance is running retention/.test(text)) return;
    await delay(100);
  }
}

// ---------------------------------------------------------------- kill -9 during concurrent uploads

export async function killDuringUploads(db: DbKind, store: StoreKind, trials: number, o: DrillOptions & { concurrency?: number; audioSeconds?: number; maxKillMs?: number }): Promise<Row> {
  return withWorld('kill -9 during uploads', db, store, o, async (w, row) => {
    const acked: Acked = new Map();
    let pending: Call[] = [];
    let svc = await startService(w);
    const retry = async (calls: Call[]) => {
      const still: Call[] = [];
      await pool(calls, o.concurrency ?? 6, async (call) => {
        if (noteUpload(row, call, await upload(svc.port, w, call, ANSWER_BOUND_MS), acked, 'retried upload: ') === 'unanswered') still.push(call);
      });
      return still;
    };
    for (let t = 0; t < trials; t++) {
      row.trials++;
      // The phone system retries what got no answer once the service is back.
      pending = await retry(pending);
      let killed = false;
      const workers = Array.from({ length: o.concurrency ?? 6 }, async () => {
        while (!killed) {
          const call = newCall(w, { seconds: o.audioSeconds ?? 20 });
          const a = await upload(svc.port, w, call, ANSWER_BOUND_MS);
          if (a.status === 'none') {
            if (!killed) {
              row.unanswered++;
              note(row, `an upload got no answer while the service ran: ${a.error}`);
            }
            pending.push(call);
          } else noteUpload(row, call, a, acked);
        }
      });
      await delay(150 + Math.random() * (o.maxKillMs ?? 2500));
      killed = true;
      await svc.kill9();
      await Promise.all(workers);
      svc = await startService(w);
    }
    pending = await retry(pending);
    pending = await retry(pending);
    if (pending.length) {
      row.unanswered += pending.length;
      note(row, `${pending.length} uploads still unanswered after two retries`);
    }
    note(row, `${acked.size} uploads acknowledged`);
    const admin = await tokenFor(w, 'admin');
    await countLost(svc.port, admin, acked, row);
    await svc.stop();
    await sweepAndCountLeftovers(w, row);
  });
}

// ---------------------------------------------------------------- kill -9 during retention runs

/** Where a killed run stopped, read from what it left: which of its recordings are stored, tombstoned, without an object. */
type Phase = 'before any deletion' | 'objects deleted, tombstones not committed' | 'some tombstones committed' | 'after the last commit';

async function phaseOf(w: World, ids: string[]): Promise<Phase> {
  const db = w.knex();
  const rows = (await db('recordings').whereIn('id', ids).select('id', 'status', 'storage_key')) as { id: string; status: string; storage_key: string | null }[];
  const stored = rows.filter((r) => r.status === 'stored');
  if (!stored.length) return 'after the last commit';
  const config = loadConfig(serviceEnv(w, { S3_ENDPOINT: w.s3 ? directS3Endpoint(w) : undefined }));
  const store = createStore(config);
  let missing = 0;
  for (const r of stored) {
    const present = w.store === 'fs' ? existsSync(path.join(storeRoot(config), r.storage_key!)) : await store.exists(r.storage_key!);
    if (!present) missing++;
  }
  if (stored.length < ids.length) return 'some tombstones committed';
  return missing ? 'objects deleted, tombstones not committed' : 'before any deletion';
}

/**
 * When to kill a run: trial t aims at phase t mod 4, triggered by what the run visibly does (an
 * object of its batch disappears, its first tombstones appear, all are written), plus a random delay.
 */
async function killTrigger(w: World, ids: string[], aim: number, startupMs: number): Promise<void> {
  const k = w.knex();
  const config = loadConfig(serviceEnv(w, { S3_ENDPOINT: w.s3 ? directS3Endpoint(w) : undefined }));
  const store = createStore(config);
  const sample = ((await k('recordings').whereIn('id', ids.slice(0, 20)).pluck('storage_key')) as string[]);
  const deleted = async () => Number((await k('recordings').whereIn('id', ids).where('status', 'deleted').count({ n: '*' }))[0]!.n);
  const until = Date.now() + 120_000;
  const jitter = () => delay(Math.random() * 30);
  if (aim === 0) return delay(Math.random() * startupMs);
  while (Date.now() < until) {
    if (aim === 1) {
      for (const key of sample) {
        const present = w.store === 'fs' ? existsSync(path.join(storeRoot(config), key)) : await store.exists(key);
        if (!present) return jitter();
      }
    } else {
      const n = await deleted();
      if (aim === 2 && n > 0) return jitter();
      if (aim === 3 && n === ids.length) return jitter();
    }
    await delay(w.store === 'fs' ? 2 : 10);
  }
}

export async function killDuringRetention(db: DbKind, store: StoreKind, trials: number, o: DrillOptions & { perTrial?: number }): Promise<Row> {
  return withWorld('kill -9 during retention runs', db, store, o, async (w, row) => {
    // Above one tombstone transaction (500) when aiming between two of them; fewer otherwise.
    const perTrial = (t: number) => o.perTrial ?? (t % 4 === 2 ? 600 : 200);
    const phases = new Map<Phase, number>();
    const all: string[] = [];
    // One run without a kill, to know how long a run takes to start.
    const calibration = await seedDue(w, 10);
    all.push(...calibration.ids);
    const t0 = performance.now();
    const first = await runScript(w, 'retention').done;
    const startupMs = performance.now() - t0;
    if (first.code !== 0) broke(row, `an uninterrupted retention run exited ${first.code}`);
    for (let t = 0; t < trials; t++) {
      row.trials++;
      const { ids } = await seedDue(w, perTrial(t));
      all.push(...ids);
      const run = runScript(w, 'retention');
      await Promise.race([killTrigger(w, ids, t % 4, startupMs), run.done]);
      run.child.kill('SIGKILL');
      await run.done;
      const phase = await phaseOf(w, ids);
      phases.set(phase, (phases.get(phase) ?? 0) + 1);
      // The next run finishes the job. The killed run's lease lapses after its TTL (5 min): this run's
      // clock is 6 minutes ahead instead of the drill waiting for it.
      const next = await inProcess(w, new ManualClock(new Date(Date.now() + 6 * 60_000)));
      try {
        const r = await runRetentionOnce(next.services);
        if (!r.ran) broke(row, 'the run after a kill could not take the lease');
      } finally {
        await next.close();
      }
    }
    note(row, `killed runs by phase: ${[...phases].map(([p, n]) => `${p} ${n}`).join(', ')}`);
    // Each seeded recording: deleted, exactly one recording.deleted entry.
    const k = w.knex();
    const notDeleted = Number((await k('recordings').whereIn('id', all).whereNot('status', 'deleted').count({ n: '*' }))[0]!.n);
    if (notDeleted) broke(row, `${notDeleted} due recordings not deleted`);
    const entries = (await k('audit_entries').where('action', 'recording.deleted').select('subject')) as { subject: string }[];
    const perRecording = new Map<string, number>();
    for (const e of entries) perRecording.set(e.subject, (perRecording.get(e.subject) ?? 0) + 1);
    const wrong = all.filter((id) => perRecording.get(`recording:${id}`) !== 1).length;
    if (wrong) broke(row, `${wrong} deleted recordings without exactly one recording.deleted entry`);
    note(row, `${all.length} due recordings`);
    const verify = await runScript(w, 'audit-verify').done;
    if (verify.code !== 0) broke(row, `audit:verify exited ${verify.code}`);
    await sweepAndCountLeftovers(w, row);
  });
}

// ---------------------------------------------------------------- the store stopped or black-holed

export async function storeOutage(db: DbKind, mode: 'refuse' | 'blackhole', o: DrillOptions): Promise<Row> {
  return withWorld(mode === 'refuse' ? 'S3 stopped' : 'S3 black-holed', db, 's3', o, async (w, row) => {
    const svc = await startService(w);
    await startupRetentionDone(svc);
    const admin = await tokenFor(w, 'admin');
    const acked: Acked = new Map();
    for (let i = 0; i < 3; i++) {
      const call = newCall(w);
      noteUpload(row, call, await upload(svc.port, w, call), acked);
    }
    const { ids: due } = await seedDue(w, 5);
    const ackedIds = [...acked.values()].map((a) => a.id);
    await w.s3!.port.set(mode);
    row.trials++;
    const during: Call[] = [newCall(w), newCall(w)];
    const bound = ANSWER_BOUND_MS;
    const counted = async (label: string, p: Promise<Answer>) => {
      const a = await p;
      tally(row, a, label);
      if (a.status === 'none') {
        row.unanswered++;
        note(row, `${label}no answer (${a.error})`);
      }
      return a;
    };
    const retentionDuring = runScript(w, 'retention', [], {}, bound + 30_000);
    const t0 = performance.now();
    await Promise.all([
      ...during.map((c) => counted('upload: ', upload(svc.port, w, c, bound))),
      counted('playback: ', api(svc.port, admin, 'GET', `/v1/recordings/${ackedIds[0]}/audio`, undefined, bound)),
      counted('manual deletion: ', api(svc.port, admin, 'DELETE', `/v1/recordings/${ackedIds[1]}`, { reason: 'chaos drill' }, bound)),
      counted('audit verification: ', api(svc.port, admin, 'GET', '/v1/audit/verify', undefined, bound)),
      counted('audit checkpoints: ', api(svc.port, admin, 'GET', '/v1/audit/checkpoints', undefined, bound)),
      counted('readiness: ', api(svc.port, admin, 'GET', '/readyz', undefined, bound)).then((a) => {
        if (a.status === 200) broke(row, '/readyz said ready with the store down');
      }),
      retentionDuring.done.then((r) => {
        if (r.signal) {
          row.unanswered++;
          note(row, `the retention run during the outage did not end within ${Math.round((bound + 30_000) / 1000)} s`);
        } else if (r.code === 0) broke(row, 'the retention run during the outage reported success');
      }),
    ]);
    note(row, `outage answered within ${Math.round(performance.now() - t0)} ms`);
    await w.s3!.port.set('pass');
    // Afterwards everything works again, and nothing was acknowledged that is not stored.
    for (const call of during) {
      const a = await upload(svc.port, w, call, bound);
      if (noteUpload(row, call, a, acked, 'upload after the outage: ') !== 'acked') broke(row, `an upload after the outage was answered ${a.status}`);
    }
    if (!(await retentionRun(w, row))) broke(row, 'the retention run after the outage did not delete everything due');
    const deletedOk = Number((await w.knex()('recordings').whereIn('id', due).where('status', 'deleted').count({ n: '*' }))[0]!.n);
    if (deletedOk !== due.length) broke(row, `${due.length - deletedOk} due recordings not deleted after the outage`);
    const verify = await api(svc.port, admin, 'GET', '/v1/audit/verify');
    if (verify.status !== 200) broke(row, `audit verification after the outage answered ${verify.status}`);
    const ready = await api(svc.port, admin, 'GET', '/readyz');
    if (ready.status !== 200) broke(row, `/readyz after the outage answered ${ready.status}`);
    // The manual deletion may have gone through before the fault bit; either way it is not "lost".
    const deletedManually = ackedIds[1]!;
    const manual = (await w.knex()('recordings').where({ id: deletedManually }).first()) as { status: string } | undefined;
    if (manual?.status !== 'stored') for (const [k, v] of acked) if (v.id === deletedManually) acked.delete(k);
    await countLost(svc.port, admin, acked, row);
    await svc.stop();
    await sweepAndCountLeftovers(w, row);
  });
}

// ---------------------------------------------------------------- PostgreSQL refusing connections

export async function postgresRefusing(store: StoreKind, o: DrillOptions): Promise<Row> {
  return withWorld('PostgreSQL refusing connections', 'postgres', store, o, async (w, row) => {
    const svc = await startService(w);
    await startupRetentionDone(svc);
    const admin = await tokenFor(w, 'admin');
    const phone = await tokenFor(w, 'phone-system');
    const acked: Acked = new Map();
    for (let i = 0; i < 3; i++) {
      const call = newCall(w);
      noteUpload(row, call, await upload(svc.port, w, call), acked);
    }
    const id = [...acked.values()][0]!.id;
    const ops = (label: string, c: Call) => [
      [`upload${label}: `, upload(svc.port, w, c, ANSWER_BOUND_MS)],
      [`pre-call check${label}: `, api(svc.port, phone, 'POST', '/v1/opt-outs/check', { number: newNumber(w) }, ANSWER_BOUND_MS)],
      [`opt-out registration${label}: `, api(svc.port, phone, 'POST', '/v1/opt-outs', { number: newNumber(w) }, ANSWER_BOUND_MS)],
      [`playback${label}: `, api(svc.port, admin, 'GET', `/v1/recordings/${id}/audio`, undefined, ANSWER_BOUND_MS)],
      [`listing${label}: `, api(svc.port, admin, 'GET', '/v1/recordings', undefined, ANSWER_BOUND_MS)],
      [`readiness${label}: `, api(svc.port, admin, 'GET', '/readyz', undefined, ANSWER_BOUND_MS)],
    ] as const;
    await w.pgPort!.set('refuse');
    row.trials++;
    const call = newCall(w);
    const answers = await Promise.all(ops('', call).map(async ([label, p]) => [label, await p] as const));
    for (const [label, a] of answers) {
      if (label.startsWith('upload')) noteUpload(row, call, a, acked, label);
      else tally(row, a, label);
      if (a.status === 'none') {
        row.unanswered++;
        note(row, `${label}no answer (${a.error})`);
      }
      if (label.startsWith('readiness') && a.status === 200) broke(row, '/readyz said ready with the database refusing connections');
    }
    await w.pgPort!.set('pass');
    const after = await Promise.all(ops(' after', newCall(w)).map(async ([label, p]) => [label, await p] as const));
    for (const [label, a] of after) {
      if (a.status === 'none' || a.status >= 300) broke(row, `${label}answered ${a.status} once the database was back`);
    }
    const retried = await upload(svc.port, w, call);
    if (noteUpload(row, call, retried, acked, 'retried upload: ') !== 'acked') broke(row, `the upload retried after the outage answered ${retried.status}`);
    await countLost(svc.port, admin, acked, row);
    await svc.stop();
    await sweepAndCountLeftovers(w, row);
  });
}

// ---------------------------------------------------------------- SQLite locked by another process

/** A second process that takes SQLite's write lock (BEGIN IMMEDIATE) and holds it for `holdMs`. */
export function holdSqliteLock(file: string, holdMs: number): { locked: Promise<void>; released: Promise<void> } {
  const code = `
    const sqlite3 = require('sqlite3');
    const db = new sqlite3.Database(process.argv[1]);
    db.exec('PRAGMA busy_timeout = 10000; BEGIN IMMEDIATE', (err) => {
      if (err) { console.error(err.message); process.exit(1); }
      console.log('locked');
      setTimeout(() => db.exec('COMMIT', () => db.close(() => process.exit(0))), Number(process.argv[2]));
    });`;
  const child = spawn(process.execPath, ['-e', code, file, String(holdMs)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const locked = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c) => String(c).includes('locked') && resolve());
    child.once('exit', (c) => reject(new Error(`the lock holder exited ${c} before locking`)));
  });
  const released = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { locked, released };
}

export async function sqliteLocked(trials: number, o: DrillOptions & { holdMs?: number }): Promise<Row> {
  return withWorld('SQLite locked by another process', 'sqlite', 'fs', o, async (w, row) => {
    const svc = await startService(w);
    await startupRetentionDone(svc);
    const admin = await tokenFor(w, 'admin');
    const phone = await tokenFor(w, 'phone-system');
    const acked: Acked = new Map();
    const file = w.databaseUrl.slice('sqlite:'.length);
    for (let t = 0; t < trials; t++) {
      row.trials++;
      const lock = holdSqliteLock(file, o.holdMs ?? 2_000);
      await lock.locked;
      const calls = [newCall(w), newCall(w), newCall(w)];
      await Promise.all([
        ...calls.map(async (c) => {
          const a = await upload(svc.port, w, c, ANSWER_BOUND_MS);
          if (noteUpload(row, c, a, acked) === 'unanswered') row.unanswered++;
        }),
        ...[0, 1, 2].map(async () => tally(row, await api(svc.port, phone, 'POST', '/v1/opt-outs', { number: newNumber(w) }, ANSWER_BOUND_MS), 'opt-out registration: ')),
        ...[0, 1].map(async () => tally(row, await api(svc.port, phone, 'POST', '/v1/opt-outs/check', { number: newNumber(w) }, ANSWER_BOUND_MS), 'pre-call check: ')),
      ]);
      await lock.released;
    }
    await countLost(svc.port, admin, acked, row);
    await svc.stop();
    await sweepAndCountLeftovers(w, row);
  });
}

// ---------------------------------------------------------------- SQLite on a full disk

/** A size-limited tmpfs for DATA_DIR, or why there is none. */
function mountSmallTmpfs(sizeMb: number): { dir: string; unmount(): void } | { error: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'gallra-chaos-fulldisk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmdirSync(dir);
    return { error: String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim() };
  }
  return {
    dir,
    unmount() {
      execFileSync('umount', [dir], { stdio: 'pipe' });
      rmdirSync(dir);
    },
  };
}

function fillDisk(dir: string): string {
  const file = path.join(dir, 'filler');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(256 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    // Down to the last byte: small writes (the WAL, a sidecar) must fail too.
    const one = Buffer.alloc(1);
    try {
      for (;;) writeSync(fd, one);
    } catch {
      // full
    }
  } finally {
    closeSync(fd);
  }
  return file;
}

export async function sqliteDiskFull(o: DrillOptions): Promise<Row> {
  const mount = mountSmallTmpfs(64);
  if ('error' in mount) {
    const row = newRow('SQLite on a full disk', { db: 'sqlite', store: 'fs' });
    note(row, `no size-limited directory on this machine (mount tmpfs: ${mount.error}); not run`);
    return row;
  }
  try {
    return await withWorld(
      'SQLite on a full disk (tmpfs size=64m)',
      'sqlite',
      'fs',
      o,
      async (w, row) => {
        const svc = await startService(w);
        await startupRetentionDone(svc);
        const admin = await tokenFor(w, 'admin');
        const phone = await tokenFor(w, 'phone-system');
        const acked: Acked = new Map();
        for (let i = 0; i < 3; i++) {
          const call = newCall(w);
          noteUpload(row, call, await upload(svc.port, w, call), acked);
        }
        const id = [...acked.values()][0]!.id;
        row.trials++;
        const filler = fillDisk(mount.dir);
        const call = newCall(w);
        const counted = async (label: string, p: Promise<Answer>) => {
          const a = await p;
          tally(row, a, label);
          if (a.status === 'none') {
            row.unanswered++;
            note(row, `${label}no answer (${a.error})`);
          }
          return a;
        };
        const up = await counted('upload: ', upload(svc.port, w, call, ANSWER_BOUND_MS));
        if (up.status === 201) noteUpload(row, call, up, acked);
        await counted('opt-out registration: ', api(svc.port, phone, 'POST', '/v1/opt-outs', { number: newNumber(w) }, ANSWER_BOUND_MS));
        await counted('pre-call check: ', api(svc.port, phone, 'POST', '/v1/opt-outs/check', { number: newNumber(w) }, ANSWER_BOUND_MS));
        await counted('playback: ', api(svc.port, admin, 'GET', `/v1/recordings/${id}/audio`, undefined, ANSWER_BOUND_MS));
        const ready = await counted('readiness: ', api(svc.port, admin, 'GET', '/readyz', undefined, ANSWER_BOUND_MS));
        if (ready.status === 200) broke(row, '/readyz said ready on a full disk');
        rmSync(filler);
        const again = await upload(svc.port, w, call);
        if (noteUpload(row, call, again, acked, 'upload after space was freed: ') !== 'acked') broke(row, `the upload after space was freed answered ${again.status}`);
        const reg = await api(svc.port, phone, 'POST', '/v1/opt-outs', { number: newNumber(w) });
        if (reg.status !== 201) broke(row, `an opt-out registration after space was freed answered ${reg.status}`);
        await countLost(svc.port, admin, acked, row);
        await svc.stop();
        await sweepAndCountLeftovers(w, row);
      },
      { dataDir: mount.dir },
    );
  } finally {
    mount.unmount();
  }
}

// ---------------------------------------------------------------- a retention run beside uploads and opt-outs

export async function retentionBesideTraffic(db: DbKind, store: StoreKind, o: DrillOptions & { uploads?: number; optOuts?: number; due?: number }): Promise<Row> {
  return withWorld('retention run beside uploads and opt-outs', db, store, o, async (w, row) => {
    const uploads = o.uploads ?? 150;
    const optOuts = o.optOuts ?? 150;
    const svc = await startService(w);
    await startupRetentionDone(svc);
    const admin = await tokenFor(w, 'admin');
    const phone = await tokenFor(w, 'phone-system');
    const { ids: due } = await seedDue(w, o.due ?? 300);
    row.trials++;
    const acked: Acked = new Map();
    const registered: string[] = [];
    const calls = Array.from({ length: uploads }, () => newCall(w, { seconds: 1 }));
    const numbers = Array.from({ length: optOuts }, () => newNumber(w));
    const run = runScript(w, 'retention');
    await Promise.all([
      pool(calls, 4, async (c) => {
        if (noteUpload(row, c, await upload(svc.port, w, c, ANSWER_BOUND_MS), acked) === 'unanswered') row.unanswered++;
      }),
      pool(numbers, 4, async (n) => {
        const a = await api(svc.port, phone, 'POST', '/v1/opt-outs', { number: n }, ANSWER_BOUND_MS);
        tally(row, a, 'opt-out registration: ');
        if (a.status === 'none') row.unanswered++;
        if (a.status === 201 || a.status === 200) registered.push(n);
      }),
      run.done.then((r) => {
        if (r.code !== 0) broke(row, `the retention run exited ${r.code ?? r.signal}`);
      }),
    ]);
    note(row, `${acked.size} of ${uploads} uploads stored, ${registered.length} of ${optOuts} opt-outs registered`);
    if (acked.size !== uploads) broke(row, `${uploads - acked.size} uploads not stored`);
    if (registered.length !== optOuts) broke(row, `${optOuts - registered.length} opt-outs not registered`);
    await pool(registered, 4, async (n) => {
      const a = await api(svc.port, phone, 'POST', '/v1/opt-outs/check', { number: n });
      if (jsonOf(a)?.optedOut !== true) broke(row, 'a registered opt-out does not check as opted out');
    });
    const notDeleted = Number((await w.knex()('recordings').whereIn('id', due).whereNot('status', 'deleted').count({ n: '*' }))[0]!.n);
    if (notDeleted) note(row, `${notDeleted} due recordings left for the next run`);
    await countLost(svc.port, admin, acked, row);
    await svc.stop();
    await sweepAndCountLeftovers(w, row);
  });
}

// ---------------------------------------------------------------- two instances on one PostgreSQL database

export async function twoInstances(store: StoreKind, o: DrillOptions): Promise<Row> {
  return withWorld('two instances on one PostgreSQL', 'postgres', store, o, async (w, row) => {
    const a = await startService(w);
    const b = await startService(w);
    try {
      row.trials++;
      const phone = await tokenFor(w, 'phone-system');
      const admin = await tokenFor(w, 'admin');
      const number = newNumber(w);
      const reg = await api(a.port, phone, 'POST', '/v1/opt-outs', { number });
      tally(row, reg, 'registration on A: ');
      if (reg.status !== 201) broke(row, `registration on A answered ${reg.status}`);
      const check = await api(b.port, phone, 'POST', '/v1/opt-outs/check', { number });
      tally(row, check, 'check on B: ');
      if (jsonOf(check)?.optedOut !== true) broke(row, 'an opt-out registered on A checks false on B');
      const call = newCall(w, { number });
      const up = await upload(b.port, w, call);
      tally(row, up, 'upload on B: ');
      if (jsonOf(up)?.status !== 'discarded') broke(row, `a call from a number opted out on A was ${jsonOf(up)?.status ?? up.status} on B`);
      const acked: Acked = new Map();
      const other = newCall(w);
      noteUpload(row, other, await upload(a.port, w, other), acked);
      await countLost(b.port, admin, acked, row);
      const verify = await api(b.port, admin, 'GET', '/v1/audit/verify');
      if (verify.status !== 200 || jsonOf(verify)?.ok === false) broke(row, `audit verification on B answered ${verify.status}`);
      // A third instance with a different caller-key secret must refuse to start, naming the variable.
      row.trials++;
      const different = { CALLER_KEY_SECRET: 'c'.repeat(64) };
      await expectRefusal(w, row, different, 'CALLER_KEY_SECRET', 'a different caller-key secret');
      row.trials++;
      await expectRefusal(w, row, { WEBHOOK_SECRETS: 'whsec_' + Buffer.from('another-webhook-secret-of-32byte').toString('base64') }, 'WEBHOOK_SECRETS', 'a different webhook secret');
      row.trials++;
      await expectRefusal(w, row, { CALLER_KEY_SECRET: undefined, WEBHOOK_SECRETS: undefined, AUDIT_SIGNING_KEY: undefined, DATA_DIR: mkdtempSync(path.join(w.dir, 'empty-')) }, 'CALLER_KEY_SECRET', 'no explicit secrets');
    } finally {
      await a.stop();
      await b.stop();
    }
    await sweepAndCountLeftovers(w, row);
  });
}

async function expectRefusal(w: World, row: Row, env: Record<string, string | undefined>, variable: string, what: string): Promise<void> {
  try {
    const c = await startService(w, env, 60_000);
    await c.stop();
    broke(row, `an instance with ${what} started on the same database`);
  } catch (err) {
    if (!(err instanceof ServiceExited)) throw err;
    if (!err.output.includes(variable)) broke(row, `an instance with ${what} refused to start without naming ${variable}`);
  }
}


