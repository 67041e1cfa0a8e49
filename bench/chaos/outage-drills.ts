/**
 * Drills for outages that must not look like the client's fault (issue 23): the store unreachable
 * when the service starts, the store failing in the middle of a large streamed upload, and SQLite kept
 * locked past its busy timeout. Each fills one row of `npm run chaos`, like the drills in scenarios.ts.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import {
  api, broke, countLost, HOST, jsonOf, newCall, newNumber, note, startService, sweepAndCountLeftovers, tally, tokenFor, upload, type Answer, type Call, type DbKind, type Row, type World,
} from './harness.js';
import { ANSWER_BOUND_MS, holdSqliteLock, noteUpload, startupRetentionDone, withWorld, type Acked, type DrillOptions } from './scenarios.js';

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Asks until `ok` holds or `withinMs` has passed; returns the last answer. */
async function until(ask: () => Promise<Answer>, ok: (a: Answer) => boolean, withinMs: number): Promise<Answer> {
  const deadline = performance.now() + withinMs;
  for (;;) {
    const a = await ask();
    if (ok(a) || performance.now() > deadline) return a;
    await delay(250);
  }
}

async function timed(p: () => Promise<Answer>): Promise<{ a: Answer; ms: number }> {
  const t0 = performance.now();
  const a = await p();
  return { a, ms: performance.now() - t0 };
}

const is503Problem = (a: Answer) => a.status === 503 && a.contentType.startsWith('application/problem+json') && !!a.retryAfter;

/** The service's log lines that blame the client for an outage or write after an answer began. */
function clientBlamed(logFile: string): string[] {
  const text = readFileSync(logFile, 'utf8');
  return ['request-timeout', 'ERR_HTTP_HEADERS_SENT'].filter((s) => text.includes(s));
}

// ---------------------------------------------------------------- S3 unreachable at start

/**
 * The service starts while the store's port refuses connections: the pre-call check answers within
 * 1 s, opt-out registration and /healthz answer, uploads get 503, /readyz says the audit log's
 * start-up verification is pending; once the store is back it becomes ready and uploads are stored.
 */
export async function storeUnreachableAtStart(db: DbKind, o: DrillOptions): Promise<Row> {
  return withWorld('S3 unreachable at start', db, 's3', o, async (w, row) => {
    const phone = await tokenFor(w, 'phone-system');
    const admin = await tokenFor(w, 'admin');
    await w.s3!.port.set('refuse');
    row.trials++;
    const svc = await startService(w);
    const health = await api(svc.port, admin, 'GET', '/healthz');
    if (health.status !== 200) broke(row, `/healthz answered ${health.status} with the store unreachable`);
    const check = await timed(() => api(svc.port, phone, 'POST', '/v1/opt-outs/check', { number: newNumber(w) }, ANSWER_BOUND_MS));
    tally(row, check.a, 'pre-call check: ');
    if (check.a.status !== 200) broke(row, `the pre-call check answered ${check.a.status} with the store unreachable`);
    if (check.ms > 1_000) broke(row, `the pre-call check took ${Math.round(check.ms)} ms with the store unreachable`);
    note(row, `pre-call check answered in ${Math.round(check.ms)} ms`);
    const registered = await api(svc.port, phone, 'POST', '/v1/opt-outs', { number: newNumber(w) }, ANSWER_BOUND_MS);
    tally(row, registered, 'opt-out registration: ');
    if (registered.status !== 201) broke(row, `opt-out registration answered ${registered.status} with the store unreachable`);
    const acked: Acked = new Map();
    const call = newCall(w);
    const refused = await upload(svc.port, w, call, ANSWER_BOUND_MS);
    noteUpload(row, call, refused, acked);
    if (refused.status === 'none') row.unanswered++;
    else if (!is503Problem(refused)) broke(row, `an upload answered ${refused.status} with the store unreachable, not 503`);
    const pending = await until(
      () => api(svc.port, admin, 'GET', '/readyz'),
      (a) => jsonOf(a)?.checks?.['audit-chain']?.pending !== undefined,
      60_000,
    );
    tally(row, pending, 'readiness: ');
    if (pending.status !== 503 || jsonOf(pending)?.checks?.['audit-chain']?.pending === undefined) broke(row, '/readyz did not say the start-up verification is pending');
    await w.s3!.port.set('pass');
    const ready = await until(() => api(svc.port, admin, 'GET', '/readyz'), (a) => a.status === 200, 90_000);
    if (ready.status !== 200) broke(row, `/readyz answered ${ready.status} 90 s after the store came back`);
    else if (jsonOf(ready)?.checks?.['audit-chain']?.verified !== true) broke(row, 'ready without the audit log verified');
    const retried = await upload(svc.port, w, call, ANSWER_BOUND_MS);
    if (noteUpload(row, call, retried, acked, 'upload after the store came back: ') !== 'acked') broke(row, `an upload after the store came back answered ${retried.status}`);
    await countLost(svc.port, admin, acked, row);
    await svc.stop();
    await sweepAndCountLeftovers(w, row);
  });
}

// ---------------------------------------------------------------- the store fails during a 20 MB upload

/** A signed upload streamed in 256 KiB chunks; `at.run` is called once `at.bytes` are out. Resolves with the answer, whenever it comes. */
function streamedUpload(port: number, w: World, call: Call, at: { bytes: number; run: () => Promise<void> }, withinMs: number): Promise<{ a: Answer; msAfterFault: number }> {
  const boundary = 'chaos' + randomUUID().replace(/-/g, '');
  const meta = { callId: call.callId, startedAt: call.startedAt.toISOString(), endedAt: new Date(call.startedAt.getTime() + 180_000).toISOString(), caller: call.number, queue: 'bygglov', agentId: 'agent-17' };
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(meta)}\r\n`),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="audio"; filename="call.wav"\r\nContent-Type: audio/wav\r\n\r\n`),
    call.audio,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const id = `msg_${randomUUID()}`;
  const ts = Math.floor(Date.now() / 1000);
  const sig = createHmac('sha256', Buffer.from(w.secrets.webhookSecret.replace(/^whsec_/, ''), 'base64')).update(`${id}.${ts}.`).update(body).digest('base64');
  return new Promise((resolve) => {
    let faultAt = performance.now();
    const req = http.request({
      host: HOST, port, method: 'POST', path: '/v1/recordings',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(body.length), 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${sig}`, connection: 'close' },
    });
    let answered = false;
    const done = (a: Answer) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      resolve({ a, msAfterFault: performance.now() - faultAt });
    };
    const timer = setTimeout(() => {
      req.destroy();
      done({ status: 'none', error: `no answer within ${withinMs} ms` });
    }, withinMs);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode!, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks), retryAfter: res.headers['retry-after'] as string | undefined }));
      res.on('error', (err) => done({ status: 'none', error: err.message }));
    });
    req.on('error', (err) => setTimeout(() => done({ status: 'none', error: err.message }), 1_000));
    void (async () => {
      const CHUNK = 256 * 1024;
      for (let off = 0; off < body.length && !answered && !req.destroyed; off += CHUNK) {
        if (off >= at.bytes && off - CHUNK < at.bytes) {
          await at.run();
          faultAt = performance.now();
        }
        if (!req.write(body.subarray(off, off + CHUNK))) await new Promise<void>((r) => {
          const go = () => {
            req.off('drain', go);
            req.off('close', go);
            r();
          };
          req.on('drain', go);
          req.on('close', go);
        });
      }
      if (!answered && !req.destroyed) req.end();
    })();
  });
}

/**
 * S3 stops (its port refuses) after 8 MB of a 20 MB upload: the upload is answered 503 problem+json
 * with Retry-After as soon as the failure is known, never 408; the log blames neither the client nor
 * writes after the answer; once the store is back the same call is stored, and nothing is left behind.
 */
export async function storeFailsDuringLargeUpload(db: DbKind, o: DrillOptions & { trials?: number }): Promise<Row> {
  return withWorld('store fails during a 20 MB upload', db, 's3', o, async (w, row) => {
    const svc = await startService(w);
    await startupRetentionDone(svc);
    const admin = await tokenFor(w, 'admin');
    const acked: Acked = new Map();
    for (let t = 0; t < (o.trials ?? 1); t++) {
      row.trials++;
      const call = newCall(w, { seconds: (20 * 1024 * 1024) / 16_000 });
      const { a, msAfterFault } = await streamedUpload(svc.port, w, call, { bytes: 8 * 1024 * 1024, run: () => w.s3!.port.set('refuse') }, ANSWER_BOUND_MS);
      noteUpload(row, call, a, acked);
      if (a.status === 'none') {
        row.unanswered++;
        note(row, `the upload had no answer (${a.error})`);
      } else if (a.status === 408) broke(row, 'a store failure during the upload was answered 408');
      else if (!is503Problem(a)) broke(row, `a store failure during the upload was answered ${a.status}, not 503 problem+json`);
      note(row, `answered ${a.status === 'none' ? 'never' : a.status} ${Math.round(msAfterFault)} ms after the store stopped`);
      await w.s3!.port.set('pass');
      const retried = await upload(svc.port, w, call, ANSWER_BOUND_MS);
      if (noteUpload(row, call, retried, acked, 'the upload retried: ') !== 'acked') broke(row, `the upload retried after the store came back answered ${retried.status}`);
    }
    for (const s of clientBlamed(svc.logFile)) broke(row, `the service log says ${s}`);
    await countLost(svc.port, admin, acked, row);
    await svc.stop();
    await sweepAndCountLeftovers(w, row);
  });
}

// ---------------------------------------------------------------- SQLite locked past the busy timeout

/**
 * Another process holds SQLite's write lock for `holdMs` (15 s), longer than the busy timeout (10 s):
 * every route (upload, registration, pre-call check, listing, playback, hold list, /readyz) answers
 * within the busy timeout, writes with 503 problem+json; afterwards everything works again.
 */
export async function sqliteLockedPastBusyTimeout(o: DrillOptions & { holdMs?: number; busyTimeoutMs?: number }): Promise<Row> {
  const busyMs = o.busyTimeoutMs ?? 10_000;
  const holdMs = o.holdMs ?? 15_000;
  return withWorld(`SQLite locked ${holdMs / 1000} s`, 'sqlite', 'fs', { ...o, env: { ...o.env, SQLITE_BUSY_TIMEOUT: `${busyMs}ms` } }, async (w, row) => {
    const svc = await startService(w);
    await startupRetentionDone(svc);
    const admin = await tokenFor(w, 'admin');
    const phone = await tokenFor(w, 'phone-system');
    const acked: Acked = new Map();
    const first = newCall(w);
    noteUpload(row, first, await upload(svc.port, w, first), acked);
    const id = [...acked.values()][0]?.id;
    // Each token once while the database answers: the access-token cache then knows it.
    await api(svc.port, admin, 'GET', '/v1/session');
    await api(svc.port, phone, 'POST', '/v1/opt-outs/check', { number: newNumber(w) });
    row.trials++;
    const lock = holdSqliteLock(w.databaseUrl.slice('sqlite:'.length), holdMs);
    await lock.locked;
    const calls = [newCall(w), newCall(w)];
    const ops: [string, () => Promise<Answer>][] = [
      ...calls.map((c, i): [string, () => Promise<Answer>] => [`upload ${i + 1}`, () => upload(svc.port, w, c, ANSWER_BOUND_MS)]),
      ['opt-out registration', () => api(svc.port, phone, 'POST', '/v1/opt-outs', { number: newNumber(w) }, ANSWER_BOUND_MS)],
      ['pre-call check', () => api(svc.port, phone, 'POST', '/v1/opt-outs/check', { number: newNumber(w) }, ANSWER_BOUND_MS)],
      ['listing', () => api(svc.port, admin, 'GET', '/v1/recordings', undefined, ANSWER_BOUND_MS)],
      ['playback', () => api(svc.port, admin, 'GET', `/v1/recordings/${id}/audio`, undefined, ANSWER_BOUND_MS)],
      ['hold list', () => api(svc.port, admin, 'GET', '/v1/holds', undefined, ANSWER_BOUND_MS)],
      ['readiness', () => api(svc.port, admin, 'GET', '/readyz', undefined, ANSWER_BOUND_MS)],
    ];
    const answers = await Promise.all(ops.map(async ([label, op]) => ({ label, ...(await timed(op)) })));
    const slowest = Math.max(...answers.map((x) => x.ms));
    note(row, `every route answered within ${Math.round(slowest)} ms (busy timeout ${busyMs} ms)`);
    for (const { label, a, ms } of answers) {
      tally(row, a, label === 'readiness' ? 'readiness: ' : `${label}: `);
      if (a.status === 'none') {
        row.unanswered++;
        note(row, `${label}: no answer (${a.error})`);
        continue;
      }
      // A second's grace for the process itself on two busy cores.
      if (ms > busyMs + 1_000) broke(row, `${label} answered ${a.status} after ${Math.round(ms)} ms, past the busy timeout`);
      if (label.startsWith('upload') || label === 'opt-out registration') {
        if (a.status !== 503) broke(row, `${label} answered ${a.status} while the database was locked, not 503`);
      }
    }
    for (const [i, c] of calls.entries()) {
      const a = answers[i]!.a;
      if (a.status !== 'none' && a.status < 300) noteUpload(row, c, a, acked);
    }
    await lock.released;
    // Afterwards all works again: the refused uploads are retried and stored.
    for (const c of calls) {
      if (acked.has(c.callId)) continue;
      const a = await upload(svc.port, w, c, ANSWER_BOUND_MS);
      if (noteUpload(row, c, a, acked, 'upload after the lock: ') !== 'acked') broke(row, `an upload after the lock answered ${a.status}`);
    }
    await countLost(svc.port, admin, acked, row);
    await svc.stop();
    await sweepAndCountLeftovers(w, row);
  });
}
