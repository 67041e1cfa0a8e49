import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { EdgeConfig } from '../../src/config.js';
import { createHttpServer } from '../../src/http/server.js';
import { createFsObjectStore, createS3Client, createS3ObjectStore, type ObjectStore } from '../../src/storage/index.js';
import { FaultyPort } from '../helpers/faulty-port.js';
import { startS3Server, s3ConfigFor, type S3TestServer } from '../helpers/s3-server.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { callMeta, pcm16Wav, recordingBody, signedHeaders } from '../helpers/webhook.js';

const MiB = 1024 * 1024;
/** The body-idle limit of the edge: a store failure must be answered well before it would fire. */
const BODY_IDLE_MS = 6_000;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** ms from the moment the store failed (or the upload began, when it failed before) to the answer. */
  ms: number;
}

/**
 * Sends a signed upload over a real socket in 256 KiB chunks, with back-pressure, as a phone system
 * streams a long call; `after(bytes)` runs once that many bytes are out (to stop the store mid-upload).
 * Resolves with the answer, whenever it comes (the server may answer before the body is out).
 */
function streamUpload(port: number, body: Buffer, headers: Record<string, string>, at?: { bytes: number; run: () => Promise<void> }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let from = performance.now();
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/recordings', headers: { ...headers, 'content-length': String(body.length) } });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text, ms: performance.now() - from }));
      res.on('error', reject);
    });
    // Once answered, the server may close the connection while the rest is being written.
    req.on('error', (err) => (answered ? undefined : reject(err)));
    void (async () => {
      const CHUNK = 256 * 1024;
      for (let off = 0; off < body.length && !answered && !req.destroyed; off += CHUNK) {
        if (at && off >= at.bytes && off - CHUNK < at.bytes) {
          await at.run();
          from = performance.now();
        }
        if (!req.write(body.subarray(off, off + CHUNK))) await new Promise<void>((r) => {
          const done = () => {
            req.off('drain', done);
            req.off('close', done);
            r();
          };
          req.on('drain', done);
          req.on('close', done);
        });
      }
      if (!answered && !req.destroyed) req.end();
    })().catch(reject);
  });
}

function wavOf(bytes: number): Buffer {
  return pcm16Wav(Buffer.alloc(bytes - 44, 3));
}

/** 503 problem+json with Retry-After, naming the store; never the edge's 408. */
function expectStoreOutage(a: Answer, what: string): void {
  expect(a.status, `${what}: ${a.body}`).to.equal(503);
  expect(a.headers['content-type'], what).to.match(/^application\/problem\+json/);
  expect(a.headers['retry-after'], what).to.match(/^\d+$/);
  expect(JSON.parse(a.body).type, what).to.match(/(store|storage)-unavailable$/);
}

/** The log names the store failure and neither blames the client (408, "unauthenticated") nor writes after the answer. */
function expectLogsNameTheStore(t: TestApp): void {
  const logs = t.logs();
  expect(logs).to.match(/storing a recording failed|(store|storage)-unavailable/);
  expect(logs).not.to.match(/request-timeout|ERR_HTTP_HEADERS_SENT|refused an unauthenticated request/);
}

describe('a store failure during a streamed upload is an outage at any size: 503 at once, never 408', function () {
  this.timeout(120_000);
  let t: TestApp | undefined;
  let server: http.Server | undefined;
  let s3: S3TestServer | undefined;
  let faulty: FaultyPort | undefined;
  const cleanups: (() => void)[] = [];
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    await t?.close();
    await faulty?.close();
    await s3?.close().catch(() => undefined);
    for (const c of cleanups.splice(0)) c();
    t = server = s3 = faulty = undefined;
  });

  async function start(store: ObjectStore, maxRecordingBytes = 32 * MiB): Promise<number> {
    const { loadConfig } = await import('../../src/config.js');
    const edge: EdgeConfig = { ...loadConfig({}).edge, bodyIdleTimeoutMs: BODY_IDLE_MS };
    t = await startTestApp({ store, config: { edge, maxRecordingBytes } });
    server = createHttpServer(t.app, t.config.edge);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  }

  async function s3Behind(): Promise<ObjectStore> {
    s3 = await startS3Server();
    faulty = await FaultyPort.open(Number(new URL(s3.endpoint).port));
    const client = createS3Client({ ...s3ConfigFor({ endpoint: `http://127.0.0.1:${faulty.port}`, bucket: s3.bucket }) });
    return createS3ObjectStore({ client, bucket: s3.bucket, sse: 'none', versioned: false, partSize: 5 * MiB, operationTimeoutMs: 5_000 });
  }

  function upload(port: number, bytes: number, at?: { bytes: number; run: () => Promise<void> }): Promise<Answer> {
    // A long call: its audio (8 kHz, 16-bit) must fit between start and end.
    const { body, contentType } = recordingBody(callMeta(t!.clock.now(), {}, 120), wavOf(bytes));
    return streamUpload(port, body, { ...signedHeaders(body, t!.clock.now()), 'content-type': contentType }, at);
  }

  /** Nothing of the upload kept: no row, no object, no incomplete multipart upload once the store is back. */
  async function expectNothingLeft(): Promise<void> {
    expect(await t!.db('recordings').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
    if (faulty) await faulty.set('pass');
    const keys: string[] = [];
    for await (const o of t!.store.list('')) keys.push(o.key);
    expect(keys.filter((k) => !k.startsWith('audit-checkpoints/'))).to.deep.equal([]);
    // Any age: the latest date there is.
    const leftovers = [];
    for await (const l of t!.store.leftovers('', new Date(8.64e15))) leftovers.push(l);
    expect(leftovers).to.deep.equal([]);
  }

  it('12 MB with S3 stopped: 503 problem+json with Retry-After, long before the body-idle limit', async () => {
    const port = await start(await s3Behind());
    await faulty!.set('refuse');
    const a = await upload(port, 12 * MiB);
    expectStoreOutage(a, '12 MB, S3 stopped');
    expect(a.ms, 'answered as soon as the store failure is known').to.be.below(BODY_IDLE_MS);
    expectLogsNameTheStore(t!);
    await expectNothingLeft();
  });

  it('S3 stopped in the middle of a 20 MB upload: 503 at once, nothing left behind once it is back', async () => {
    const port = await start(await s3Behind());
    const a = await upload(port, 20 * MiB, { bytes: 8 * MiB, run: () => faulty!.set('refuse') });
    expectStoreOutage(a, '20 MB, S3 stopped at 8 MB');
    expect(a.ms, 'answered as soon as the store failure is known').to.be.below(BODY_IDLE_MS);
    expectLogsNameTheStore(t!);
    await expectNothingLeft();
  });

  it('ENOSPC on the filesystem store (an 8 MB tmpfs): 503 at once, no temp file left', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gallra-enospc-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'tmpfs', dir], { stdio: 'pipe' });
    cleanups.push(() => {
      execFileSync('umount', [dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    });
    const port = await start(createFsObjectStore({ root: dir }));
    const a = await upload(port, 12 * MiB);
    expectStoreOutage(a, '12 MB onto 8 MB');
    expect(a.ms, 'answered as soon as the disk is full').to.be.below(BODY_IDLE_MS);
    expectLogsNameTheStore(t!);
    await expectNothingLeft();
    expect(readdirSync(dir, { recursive: true }).filter((f) => String(f).includes('.tmp-'))).to.deep.equal([]);
  });
});
