/**
 * npm run chaos:edge — the HTTP edge under abuse, against the real service in a child process on
 * loopback (127.0.0.1 only), bounded in requests and time. Not part of `npm test`.
 *
 *   fuzz:      CHAOS_FUZZ (default 10 000) webhook and API requests of 38 kinds, forged and authentic
 *              (cut-off bodies, wrong boundaries, second audio parts, callIds of dots, calls in 2096,
 *              numbers in free text, lying WAV headers, unknown tokens, …)
 *   burst:     the audit-growth burst: 500 badly signed webhooks, 50 without any webhook header, 500
 *              unknown bearer tokens
 *   stalled:   300 forged uploads that stop sending halfway
 *   slowloris: 1 000 connections sending their headers a line at a time
 *
 * It prints one table: requests, answers by status, unanswered after 10 s, 5xx, error bodies that are
 * not problem+json, audit entries added by unauthenticated requests, temp files and descriptors left
 * after the clients leave. Every column but the first two must be 0; the exit code says whether it is.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDatabase } from '../src/shared/database.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const HOST = '127.0.0.1';
const FUZZ = Number(process.env.CHAOS_FUZZ ?? 10_000);
const CONCURRENCY = Number(process.env.CHAOS_CONCURRENCY ?? 16);
const SECRET = 'whsec_' + Buffer.from('chaos-edge-secret-chaos-edge-32b').toString('base64');
const FORGED = 'whsec_' + Buffer.from('not-the-secret-the-service-uses!').toString('base64');
const ANSWER_WITHIN_MS = 10_000;
// Limits the run uses (the defaults are 10 s / 15 s): short enough that a stalled client is cut
// within the 10 s the table allows. The service is otherwise on its defaults.
const EDGE_ENV = { HEADERS_TIMEOUT: '5s', BODY_IDLE_TIMEOUT: '5s', REQUEST_TIMEOUT: '8s' };

const fixture = (name: string) => readFileSync(path.join(ROOT, 'test/fixtures', name));
const MP3 = fixture('call-8k.mp3');
const WAV = fixture('call-pcm16-8k.wav');

interface Row {
  name: string;
  requests: number;
  statuses: Map<string, number>;
  unanswered: number;
  fiveHundreds: number;
  notProblem: number;
  anonymousAudit: number;
  tempFiles: number;
  descriptors: number;
}
const newRow = (name: string): Row => ({ name, requests: 0, statuses: new Map(), unanswered: 0, fiveHundreds: 0, notProblem: 0, anonymousAudit: 0, tempFiles: 0, descriptors: 0 });
const count = (row: Row, status: string) => row.statuses.set(status, (row.statuses.get(status) ?? 0) + 1);

// ---------------------------------------------------------------- the service

async function startService(dataDir: string): Promise<{ child: ChildProcess; port: number }> {
  const env: NodeJS.ProcessEnv = { ...process.env, HOST, PORT: '0', DATA_DIR: dataDir, WEBHOOK_SECRETS: SECRET, LOG_LEVEL: 'info', ...EDGE_ENV };
  delete env.DATABASE_URL;
  delete env.STORAGE_DRIVER;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    let found = false;
    child.stdout!.on('data', (c) => {
      if (found) return; // the request log is read and dropped
      out += c;
      const line = out.split('\n').find((l) => l.includes('is listening'));
      if (line) {
        found = true;
        resolve({ child, port: JSON.parse(line).port });
      }
    });
    child.stderr!.on('data', (c) => (out += c));
    child.once('exit', (code) => reject(new Error(`the service exited (${code}):\n${out}`)));
  });
}

function tokenFor(dataDir: string, role: string): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/token.ts', 'create', '--role', role, '--name', `chaos ${role}`], {
    cwd: ROOT,
    env: { ...process.env, DATA_DIR: dataDir, WEBHOOK_SECRETS: SECRET },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}

const descriptorsOf = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
function tempFilesUnder(dir: string): number {
  try {
    return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => path.basename(f).startsWith('.tmp-')).length;
  } catch {
    return 0;
  }
}

// ---------------------------------------------------------------- requests

interface Req {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

function multipart(parts: { name: string; value: string | Buffer; filename?: string }[], boundary = 'chaos' + randomUUID().replace(/-/g, '')) {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disp = p.filename ? `form-data; name="${p.name}"; filename="${p.filename}"` : `form-data; name="${p.name}"`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disp}\r\n\r\n`), Buffer.isBuffer(p.value) ? p.value : Buffer.from(p.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), boundary };
}

function meta(over: Record<string, unknown> = {}) {
  const start = new Date(Date.now() - 20 * 60_000);
  return { callId: `chaos-${randomUUID()}`, startedAt: start.toISOString(), endedAt: new Date(start.getTime() + 180_000).toISOString(), caller: '+46701234567', queue: 'bygglov', agentId: 'agent-17', optOut: false, ...over };
}

function signed(body: Buffer, secret = SECRET, ts = Math.floor(Date.now() / 1000)) {
  const id = `msg_${randomUUID()}`;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const sig = createHmac('sha256', key).update(`${id}.${ts}.`).update(body).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${sig}` };
}

function upload(kind: string, body: Buffer, boundary: string, sign: 'valid' | 'forged' | 'stale' | 'none' | 'malformed' = 'valid', contentType?: string): Req {
  const headers: Record<string, string> = { 'content-type': contentType ?? `multipart/form-data; boundary=${boundary}` };
  if (sign === 'valid') Object.assign(headers, signed(body));
  if (sign === 'forged') Object.assign(headers, signed(body, FORGED));
  if (sign === 'stale') Object.assign(headers, signed(body, SECRET, Math.floor(Date.now() / 1000) - 3600));
  if (sign === 'malformed') Object.assign(headers, { ...signed(body), 'webhook-signature': 'v0,abc' });
  return { kind, method: 'POST', path: '/v1/recordings', headers, body };
}

const standard = (m = meta(), audio: Buffer = MP3) => multipart([{ name: 'metadata', value: JSON.stringify(m) }, { name: 'audio', value: audio, filename: 'a' }]);

function lyingWav(): Buffer {
  const wav = Buffer.from(WAV);
  wav.writeUInt32LE(1, 28);
  return wav;
}

const json = (token: string | undefined, value: unknown) => ({
  headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  body: Buffer.from(JSON.stringify(value)),
});

/** The kinds of request the fuzz sends, round robin. */
function kinds(tokens: { phone: string; admin: string }): ((i: number) => Req)[] {
  return [
    // Unauthenticated.
    () => { const m = standard(); return upload('forged signature', m.body, m.boundary, 'forged'); },
    () => { const m = standard(); return upload('no webhook headers', m.body, m.boundary, 'none'); },
    () => { const m = standard(); return upload('stale timestamp', m.body, m.boundary, 'stale'); },
    () => { const m = standard(); return upload('malformed signature', m.body, m.boundary, 'malformed'); },
    () => { const m = standard(); return upload('forged, cut off in the audio', m.body.subarray(0, 20_000), m.boundary, 'forged'); },
    () => { const b = Buffer.from(Array.from({ length: 3000 }, () => Math.floor(Math.random() * 256))); return upload('forged garbage', b, 'x', 'forged'); },
    () => ({ ...upload('huge declared length', Buffer.alloc(100), 'x', 'forged'), headers: { ...signed(Buffer.alloc(0), FORGED), 'content-type': 'multipart/form-data; boundary=x', 'content-length': String(50 * 1024 * 1024 * 1024) } }),
    () => ({ kind: 'unknown bearer: check', method: 'POST', path: '/v1/opt-outs/check', ...json(`glr_${randomUUID()}`, { number: '070-123 45 67' }) }),
    () => ({ kind: 'unknown bearer: list', method: 'GET', path: '/v1/recordings', headers: { authorization: `Bearer glr_${randomUUID()}` } }),
    () => ({ kind: 'malformed authorization', method: 'GET', path: '/v1/recordings', headers: { authorization: 'Basic Zm9vOmJhcg==' } }),
    () => ({ kind: 'sign-in with a wrong token', method: 'POST', path: '/v1/session', ...json(undefined, { token: `glr_${randomUUID()}` }) }),
    () => ({ kind: 'number in a path, no token', method: 'POST', path: '/v1/calls/0701234567/opt-out', ...json(undefined, {}) }),
    // Authentic.
    () => { const m = standard(); return upload('valid upload', m.body, m.boundary); },
    (i) => { const m = standard(meta({ callId: `chaos-retry-${i % 40}` })); return upload('retry of one call', m.body, m.boundary); },
    () => { const m = standard(meta(), WAV); return upload('valid, cut off in the audio', m.body.subarray(0, Math.floor(m.body.length * 0.6)), m.boundary); },
    () => { const m = standard(); return upload('wrong boundary', m.body, 'not-the-boundary'); },
    () => { const m = multipart([{ name: 'metadata', value: JSON.stringify(meta()) }, { name: 'audio', value: MP3, filename: 'a' }, { name: 'audio', value: WAV, filename: 'b' }]); return upload('second audio part', m.body, m.boundary); },
    (i) => { const m = standard(meta({ callId: '.'.repeat(1 + (i % 3)) })); return upload('callId of dots', m.body, m.boundary); },
    () => { const m = standard(meta({ startedAt: '2096-11-11T09:00:00Z', endedAt: '2096-11-11T09:05:00Z' })); return upload('call in 2096', m.body, m.boundary); },
    () => { const s = new Date(Date.now() - 40 * 3_600_000); const m = standard(meta({ startedAt: s.toISOString(), endedAt: new Date(s.getTime() + 25 * 3_600_000).toISOString() })); return upload('call of 25 hours', m.body, m.boundary); },
    () => { const m = standard(meta({ queue: '046-35 50 00' })); return upload('number in queue', m.body, m.boundary); },
    () => { const m = standard(meta({ agentId: '+4646355000' })); return upload('number in agentId', m.body, m.boundary); },
    () => { const m = standard(meta(), lyingWav()); return upload('lying WAV header', m.body, m.boundary); },
    () => { const m = standard(meta(), Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(6000, 7)])); return upload('not audio', m.body, m.boundary); },
    () => { const m = multipart([{ name: 'audio', value: MP3, filename: 'a' }, { name: 'metadata', value: JSON.stringify(meta()) }]); return upload('metadata after audio', m.body, m.boundary); },
    () => { const m = multipart([{ name: 'metadata', value: '{nope' }, { name: 'audio', value: MP3, filename: 'a' }]); return upload('metadata not JSON', m.body, m.boundary); },
    () => { const m = multipart([{ name: 'metadata', value: JSON.stringify(meta()) }]); return upload('no audio part', m.body, m.boundary); },
    () => { const b = Buffer.from(JSON.stringify(meta())); return upload('signed JSON, not multipart', b, 'x', 'valid', 'application/json'); },
    () => { const m = standard(); return upload('multipart without boundary', m.body, m.boundary, 'valid', 'multipart/form-data'); },
    () => { const m = standard(meta({ caller: 'kalle anka' })); return upload('caller not a number', m.body, m.boundary); },
    () => { const m = multipart([{ name: 'metadata', value: JSON.stringify(meta()) }, { name: 'extra', value: MP3, filename: 'x' }, { name: 'audio', value: MP3, filename: 'a' }]); return upload('unexpected file part', m.body, m.boundary); },
    () => { const m = multipart([{ name: 'metadata', value: 'x'.repeat(70_000) }, { name: 'audio', value: MP3, filename: 'a' }]); return upload('metadata over 64 KiB', m.body, m.boundary); },
    () => upload('empty signed body', Buffer.alloc(0), 'x'),
    () => ({ kind: 'check', method: 'POST', path: '/v1/opt-outs/check', ...json(tokens.phone, { number: '070-123 45 67' }) }),
    () => ({ kind: 'check of a non-number', method: 'POST', path: '/v1/opt-outs/check', ...json(tokens.phone, { number: 'kalle' }) }),
    () => ({ kind: 'hold reason with a number', method: 'POST', path: `/v1/recordings/${randomUUID()}/hold`, ...json(tokens.admin, { reason: 'ring tillbaka 046/355000' }) }),
    () => ({ kind: 'HEAD audio of an unknown id', method: 'HEAD', path: `/v1/recordings/${randomUUID()}/audio`, headers: { authorization: `Bearer ${tokens.admin}` } }),
    () => ({ kind: 'metrics without a token', method: 'GET', path: '/metrics', headers: {} }),
  ];
}

function send(port: number, agent: http.Agent, r: Req): Promise<{ status: number; contentType: string } | 'unanswered'> {
  return new Promise((resolve) => {
    const headers = { ...r.headers };
    if (r.body && !headers['content-length']) headers['content-length'] = String(r.body.length);
    const req = http.request({ host: HOST, port, method: r.method, path: r.path, headers, agent });
    const timer = setTimeout(() => {
      req.destroy();
      resolve('unanswered');
    }, ANSWER_WITHIN_MS);
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode!, contentType: String(res.headers['content-type'] ?? '') });
      });
      res.on('error', () => undefined);
    });
    req.on('error', () => {
      // The server may close after answering early (413, 429): an answer already seen counts.
      clearTimeout(timer);
      resolve('unanswered');
    });
    if (r.body && !r.headers['content-length']) req.end(r.body);
    else if (r.body) {
      req.write(r.body);
      // A declared length far over what is sent: the server answers without waiting for the rest.
    } else req.end();
  });
}

async function runRequests(port: number, row: Row, reqs: Req[], concurrency: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < reqs.length) {
        const r = reqs[next++]!;
        row.requests++;
        const answer = await send(port, agent, r);
        if (answer === 'unanswered') {
          row.unanswered++;
          count(row, 'none');
          continue;
        }
        count(row, String(answer.status));
        if (answer.status >= 500) row.fiveHundreds++;
        if (answer.status >= 400 && r.method !== 'HEAD' && !answer.contentType.startsWith('application/problem+json')) row.notProblem++;
      }
    }),
  );
  agent.destroy();
}

// ---------------------------------------------------------------- stalled uploads and slowloris

/** Opens `n` connections that each send `first` and then stop (or trickle `more` every second); resolves with how each ended within `withinMs`. */
async function stalled(port: number, n: number, first: () => Buffer, more: Buffer | undefined, withinMs: number) {
  const results: { status?: string; closedByServer: boolean }[] = [];
  const sockets: net.Socket[] = [];
  await Promise.all(
    Array.from({ length: n }, () =>
      new Promise<void>((resolve) => {
        const s = net.connect(port, HOST);
        sockets.push(s);
        const r: { status?: string; closedByServer: boolean } = { closedByServer: false };
        results.push(r);
        let text = '';
        let drip: NodeJS.Timeout | undefined;
        s.on('data', (d) => {
          text += d.toString('latin1');
          r.status ??= /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
        });
        s.on('error', () => undefined);
        s.on('close', () => {
          clearInterval(drip);
          r.closedByServer = !s.destroyedByClient;
        });
        s.on('connect', () => {
          s.write(first());
          if (more) drip = setInterval(() => s.writable && s.write(more), 1_000);
          resolve();
        });
      }),
    ),
  );
  await new Promise((r) => setTimeout(r, withinMs));
  for (const s of sockets) {
    s.destroyedByClient = true;
    s.destroy();
  }
  return results;
}

declare module 'node:net' {
  interface Socket {
    destroyedByClient?: boolean;
  }
}

async function healthP99(port: number, samples: number): Promise<number> {
  const times: number[] = [];
  const agent = new http.Agent({ keepAlive: false });
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    const r = await send(port, agent, { kind: 'healthz', method: 'GET', path: '/healthz', headers: {} });
    times.push(r === 'unanswered' ? ANSWER_WITHIN_MS : performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.min(times.length - 1, Math.ceil(times.length * 0.99) - 1)]!;
}

// ---------------------------------------------------------------- the run

async function main() {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gallra-chaos-'));
  const tokens = { phone: tokenFor(dataDir, 'phone-system'), admin: tokenFor(dataDir, 'admin') };
  const { child, port } = await startService(dataDir);
  const db = createDatabase(`sqlite:${path.join(dataDir, 'gallra.sqlite')}`);
  const objects = path.join(dataDir, 'objects');
  const anonymousEntries = async () => Number((await db('audit_entries').where('actor', 'like', 'anonymous:%').count({ n: '*' }))[0]!.n);
  const allEntries = async () => Number((await db('audit_entries').count({ n: '*' }))[0]!.n);
  const settle = (ms = 1_500) => new Promise((r) => setTimeout(r, ms));
  const rows: Row[] = [];
  const started = Date.now();
  try {
    await settle(500);
    const fdBaseline = descriptorsOf(child.pid!);

    // 1. The fuzz.
    const fuzz = newRow(`webhook/API fuzz (${kinds(tokens).length} kinds)`);
    const makers = kinds(tokens);
    const anonBefore = await anonymousEntries();
    await runRequests(port, fuzz, Array.from({ length: FUZZ }, (_, i) => makers[i % makers.length]!(i)), CONCURRENCY);
    await settle();
    fuzz.anonymousAudit = (await anonymousEntries()) - anonBefore;
    fuzz.tempFiles = tempFilesUnder(objects);
    fuzz.descriptors = Math.max(0, descriptorsOf(child.pid!) - fdBaseline);
    rows.push(fuzz);
    process.stderr.write(`fuzz done in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);

    // 2. The audit-growth burst: every one of these is unauthenticated, so the log must not grow at all.
    const burst = newRow('audit-growth burst');
    const burstReqs: Req[] = [
      ...Array.from({ length: 500 }, () => { const m = standard(); return upload('forged', m.body, m.boundary, 'forged'); }),
      ...Array.from({ length: 50 }, () => { const m = standard(); return upload('no headers', m.body, m.boundary, 'none'); }),
      ...Array.from({ length: 500 }, () => ({ kind: 'unknown bearer', method: 'POST', path: '/v1/opt-outs/check', ...json(`glr_${randomUUID()}`, { number: '070-123 45 67' }) })),
    ];
    const entriesBefore = await allEntries();
    await runRequests(port, burst, burstReqs, 50);
    await settle();
    burst.anonymousAudit = (await allEntries()) - entriesBefore;
    burst.tempFiles = tempFilesUnder(objects);
    burst.descriptors = Math.max(0, descriptorsOf(child.pid!) - fdBaseline);
    rows.push(burst);

    // 3. Stalled forged uploads: half a body, then silence.
    const stalledRow = newRow('stalled forged uploads');
    const m = standard(meta(), Buffer.concat(Array.from({ length: 12 }, () => WAV)));
    const forgedHead = () => {
      const h = { ...signed(m.body, FORGED), 'content-type': `multipart/form-data; boundary=${m.boundary}`, 'content-length': String(m.body.length), host: 'x' };
      return Buffer.concat([Buffer.from(`POST /v1/recordings HTTP/1.1\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`), m.body.subarray(0, 64 * 1024)]);
    };
    const anonBeforeStalled = await anonymousEntries();
    const stalledResults = await stalled(port, 300, forgedHead, undefined, ANSWER_WITHIN_MS);
    for (const r of stalledResults) {
      stalledRow.requests++;
      count(stalledRow, r.status ?? (r.closedByServer ? 'closed' : 'none'));
      if (!r.status && !r.closedByServer) stalledRow.unanswered++;
      if (Number(r.status) >= 500) stalledRow.fiveHundreds++;
    }
    await settle();
    stalledRow.anonymousAudit = (await anonymousEntries()) - anonBeforeStalled;
    stalledRow.tempFiles = tempFilesUnder(objects);
    stalledRow.descriptors = Math.max(0, descriptorsOf(child.pid!) - fdBaseline);
    rows.push(stalledRow);

    // 4. Slowloris: headers a line a second, never finished; /healthz must stay quick meanwhile.
    const slow = newRow('slowloris connections');
    const during = (async () => {
      await settle(1_000);
      return healthP99(port, 50);
    })();
    const slowResults = await stalled(port, 1_000, () => Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\n'), Buffer.from('X-a: b\r\n'), ANSWER_WITHIN_MS);
    const p99 = await during;
    for (const r of slowResults) {
      slow.requests++;
      count(slow, r.status ?? (r.closedByServer ? 'closed' : 'none'));
      if (!r.status && !r.closedByServer) slow.unanswered++;
    }
    await settle();
    slow.tempFiles = tempFilesUnder(objects);
    slow.descriptors = Math.max(0, descriptorsOf(child.pid!) - fdBaseline);
    rows.push(slow);

    printTable(rows);
    process.stdout.write(`\n/healthz p99 during slowloris: ${p99.toFixed(0)} ms; run took ${((Date.now() - started) / 1000).toFixed(0)} s; limits: ${JSON.stringify(EDGE_ENV)}\n`);
    const bad = rows.some((r) => r.unanswered || r.fiveHundreds || r.notProblem || r.anonymousAudit || r.tempFiles || r.descriptors);
    process.exitCode = bad ? 1 : 0;
  } finally {
    await db.destroy();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function printTable(rows: Row[]) {
  const head = ['', 'requests', 'answers by status', 'unanswered after 10 s', '5xx', 'non-problem+json errors', 'audit entries (unauth.)', 'temp files left', 'descriptors left'];
  const body = rows.map((r) => [
    r.name,
    String(r.requests),
    [...r.statuses].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s}×${n}`).join(' '),
    String(r.unanswered),
    String(r.fiveHundreds),
    String(r.notProblem),
    String(r.anonymousAudit),
    String(r.tempFiles),
    String(r.descriptors),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  process.stdout.write([line(head), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...body.map(line)].join('\n') + '\n');
}

main().catch((err) => {
  process.stderr.write(`chaos:edge failed: ${(err as Error).stack ?? err}\n`);
  process.exit(2);
});
