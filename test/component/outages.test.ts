import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import sinon from 'sinon';
import sqlite3 from 'sqlite3';
import request from 'supertest';
import { DAY_MS } from '../../src/shared/clock.js';
import { createDatabase } from '../../src/shared/database.js';
import { Unavailable } from '../../src/shared/errors.js';
import type { Role } from '../../src/shared/principal.js';
import { createS3Client, createS3ObjectStore } from '../../src/storage/index.js';
import { FaultyPort } from '../helpers/faulty-port.js';
import { createPostgresDatabase } from '../helpers/postgres.js';
import { startS3Server, s3ConfigFor, type S3TestServer } from '../helpers/s3-server.js';
import { itOn, startTestApp, TEST_DATABASE, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';

const CALLER = '+46701234567';
const MiB = 1024 * 1024;
const ROLES: Role[] = ['trainer', 'auditor', 'admin', 'phone-system'];

/** An outage answered as one: 503 problem+json with Retry-After, never HTML or a stack trace. */
function expectOutage(res: request.Response, what: string): void {
  expect(res.status, `${what}: ${res.text}`).to.equal(503);
  expect(res.headers['content-type'], what).to.match(/^application\/problem\+json/);
  expect(res.headers['retry-after'], what).to.match(/^\d+$/);
  expect(res.body.status, what).to.equal(503);
  expect(res.text, what).not.to.match(/<html|<pre|\bat .+\.(ts|js):\d+|node_modules/i);
}

/** The problem's text without its request id: a random id may hold any digits ("404" once did). */
function withoutRequestId(res: request.Response): string {
  expect(res.body, res.text).to.have.property('type');
  const { request_id: _id, ...rest } = res.body as Record<string, unknown>;
  return JSON.stringify(rest);
}

/** No stack trace and no file path in the log: an outage is not a crash. */
function expectNoStacks(t: TestApp): void {
  const stack = /\\n\s+at |node_modules/.exec(t.logs());
  expect(stack, t.logs().slice(Math.max(0, (stack?.index ?? 0) - 600), (stack?.index ?? 0) + 200)).to.equal(null);
}

async function upload(t: TestApp, caller = CALLER) {
  const { body, contentType } = recordingBody(callMeta(t.clock.now(), { caller }), fixture('call-pcm16-8k.wav'));
  return request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body);
}

async function tokensFor(t: TestApp): Promise<Record<Role, { Authorization: string }>> {
  const out = {} as Record<Role, { Authorization: string }>;
  for (const r of ROLES) out[r] = { Authorization: `Bearer ${await t.token(r)}` };
  // Each token once while the database answers: the access-token cache then knows it, so that what
  // follows reaches the routes rather than failing at authentication.
  for (const r of ROLES) await request(t.app).get('/v1/session').set(out[r]);
  return out;
}

describe('outages are answered as outages: 503 problem+json with Retry-After', function () {
  this.timeout(60_000);
  afterEach(() => sinon.restore());

  describe('the S3 store', () => {
    let s3: S3TestServer | undefined;
    let t: TestApp | undefined;
    afterEach(async () => {
      await t?.close();
      await s3?.close().catch(() => undefined);
      t = s3 = undefined;
    });

    it('stopped (connection refused): upload, playback, audit verification and checkpoints answer 503, listing still works', async () => {
      s3 = await startS3Server();
      const store = createS3ObjectStore({ client: createS3Client(s3ConfigFor(s3)), bucket: s3.bucket, sse: 'none', versioned: false });
      t = await startTestApp({ store });
      const as = await tokensFor(t);
      const stored = await upload(t);
      expect(stored.status, stored.text).to.equal(201);
      await request(t.app).post('/v1/audit/checkpoints').set(as.admin).expect(201);

      await s3.close();
      s3 = undefined;

      expectOutage(await upload(t), 'upload');
      expectOutage(await request(t.app).get(`/v1/recordings/${stored.body.id}/audio`).set(as.trainer), 'playback');
      const head = await request(t.app).head(`/v1/recordings/${stored.body.id}/audio`).set(as.trainer);
      expect(head.status).to.equal(503);
      expect(head.headers['retry-after']).to.match(/^\d+$/);
      expectOutage(await request(t.app).get('/v1/audit/verify').set(as.auditor), 'GET /v1/audit/verify');
      expectOutage(await request(t.app).get('/v1/audit/checkpoints').set(as.auditor), 'GET /v1/audit/checkpoints');
      const list = await request(t.app).get('/v1/recordings').set(as.trainer);
      expect(list.status).to.equal(200);
      expectNoStacks(t);
    });

    it("maps the store's own 403 and 404 to a neutral 503, never passing them through", async () => {
      s3 = await startS3Server();
      const wrongKey = createS3ObjectStore({
        client: createS3Client({ ...s3ConfigFor(s3), credentials: { accessKeyId: 'NOT-A-KEY', secretAccessKey: 'S3RVER' } }),
        bucket: s3.bucket, sse: 'none', versioned: false,
      });
      t = await startTestApp({ store: wrongKey });
      const refused = await upload(t);
      expectOutage(refused, 'upload refused by the store (403)');
      expect(withoutRequestId(refused)).not.to.match(/403|SignatureDoesNotMatch|AccessDenied/);
      await t.close();

      const noBucket = createS3ObjectStore({ client: createS3Client(s3ConfigFor(s3)), bucket: 'no-such-bucket', sse: 'none', versioned: false });
      t = await startTestApp({ store: noBucket });
      const missing = await upload(t);
      expectOutage(missing, 'upload to a missing bucket (404)');
      expect(withoutRequestId(missing)).not.to.match(/404|NoSuchBucket/);
      expectNoStacks(t);
    });

    describe('black-holed (accepts connections, never answers)', () => {
      // Each request attempt may be silent for REQUEST_MS; the SDK makes three. The operation deadline
      // (OPERATION_MS) must end the wait long before three attempts would, for the store part of every
      // path: an upload and the removal of what it may have left, playback, a manual deletion, and a
      // retention run, which stops at its first batch in which nothing could be deleted.
      const REQUEST_MS = 4_000;
      const OPERATION_MS = 500;
      let port: FaultyPort | undefined;
      afterEach(async () => {
        await port?.close();
        port = undefined;
      });

      async function timed<T>(fn: () => PromiseLike<T>): Promise<[T, number]> {
        const started = performance.now();
        const out = await fn();
        return [out, performance.now() - started];
      }

      it('upload, playback and manual deletion answer 503 within the operation deadline, not after three silent attempts; a retention run stops early', async () => {
        s3 = await startS3Server();
        port = await FaultyPort.open(Number(new URL(s3.endpoint).port));
        const client = createS3Client({ ...s3ConfigFor({ endpoint: `http://127.0.0.1:${port.port}`, bucket: s3.bucket }), requestTimeoutMs: REQUEST_MS });
        const store = createS3ObjectStore({ client, bucket: s3.bucket, sse: 'none', versioned: false, operationTimeoutMs: OPERATION_MS });
        t = await startTestApp({ store });
        const as = await tokensFor(t);
        const ids: string[] = [];
        for (const caller of ['+46701234561', '+46701234562', '+46701234563']) {
          const res = await upload(t, caller);
          expect(res.status, res.text).to.equal(201);
          ids.push(res.body.id);
        }

        await port.set('blackhole');
        const [up, upMs] = await timed(() => upload(t!, '+46701234564'));
        expectOutage(up, 'upload');
        // The put and its clean-up, each one deadline; without it, 3 × REQUEST_MS for each.
        expect(upMs, 'upload answered within the put and clean-up deadlines').to.be.below(REQUEST_MS);
        const [play, playMs] = await timed(() => request(t!.app).get(`/v1/recordings/${ids[0]}/audio`).set(as.trainer));
        expectOutage(play, 'playback');
        expect(playMs, 'playback answered within one deadline').to.be.below(REQUEST_MS);
        const [del, delMs] = await timed(() => request(t!.app).delete(`/v1/recordings/${ids[1]}`).set(as.admin).send({ reason: 'asked to by the caller' }));
        expectOutage(del, 'manual deletion');
        expect(delMs, 'manual deletion answered within one deadline').to.be.below(REQUEST_MS);

        t.clock.advance(31 * DAY_MS);
        const [report, runMs] = await timed(() => t!.services.retention.run());
        expect(report.deleted).to.deep.equal([]);
        expect(report.stoppedEarly).to.be.a('string');
        expect(report.failed.map((f) => f.id)).to.have.members(ids);
        expect(runMs, 'the retention run ends after its first failed batch, without the orphan sweep').to.be.below(REQUEST_MS);

        // Back again: everything due is deleted by the next run, and nothing was acknowledged that is not stored.
        await port.set('pass');
        const again = await t.services.retention.run();
        expect(again.stoppedEarly).to.equal(undefined);
        expect(again.deleted).to.have.members(ids);
        expect(again.overdue).to.equal(0);
        expectNoStacks(t);
      });

      it('ends a one-part upload it gave up at the deadline, so that no retry can store it after the 503', async () => {
        s3 = await startS3Server();
        port = await FaultyPort.open(Number(new URL(s3.endpoint).port));
        const client = createS3Client({ ...s3ConfigFor({ endpoint: `http://127.0.0.1:${port.port}`, bucket: s3.bucket }), requestTimeoutMs: REQUEST_MS });
        const store = createS3ObjectStore({ client, bucket: s3.bucket, sse: 'none', versioned: false, operationTimeoutMs: OPERATION_MS });
        await port.set('blackhole');
        // No digest of the body (as from the encrypting store): lib-storage's one-part PutObject.
        const [err, ms] = await timed(() => store.put('recordings/given-up', Readable.from([Buffer.alloc(64 * 1024, 3)]), { contentType: 'audio/wav' }).then(() => undefined, (e: unknown) => e));
        expect(err).to.be.instanceOf(Unavailable);
        expect(ms, 'given up within the deadline').to.be.below(REQUEST_MS);
        // A PUT still in flight would hold its connection until the SDK's request timeout, then be
        // retried: once the store answers again, the object the caller was told failed would appear.
        const [, closedMs] = await timed(() => port!.idle());
        expect(closedMs, 'the PUT was ended with the upload, not left to the request timeout').to.be.below(REQUEST_MS / 2);
        await port.set('pass');
        expect(await store.exists('recordings/given-up')).to.equal(false);
      });

      it('gives up a streamed multipart upload once the store has taken nothing for the deadline, and not a slow sender', async () => {
        s3 = await startS3Server();
        port = await FaultyPort.open(Number(new URL(s3.endpoint).port));
        const client = createS3Client({ ...s3ConfigFor({ endpoint: `http://127.0.0.1:${port.port}`, bucket: s3.bucket }), requestTimeoutMs: REQUEST_MS });
        // s3rver takes each 5 MiB part from the disk-writing side in real time: on two loaded cores that
        // took over 500 ms now and then, which the watchdog rightly called a stall. This test's deadline
        // leaves the answering store room; the sender still pauses twice as long as it.
        const deadlineMs = 3 * OPERATION_MS;
        const store = createS3ObjectStore({ client, bucket: s3.bucket, sse: 'none', versioned: false, operationTimeoutMs: deadlineMs, partSize: 5 * MiB });

        // A sender pausing longer than the deadline between parts, the store answering: stored.
        async function* slowly() {
          for (let i = 0; i < 3; i++) {
            if (i) await new Promise((r) => setTimeout(r, deadlineMs * 2));
            yield Buffer.alloc(4 * MiB, i + 1);
          }
        }
        expect(await store.put('recordings/slow-sender', Readable.from(slowly()), { contentType: 'audio/wav' })).to.deep.equal({ bytes: 12 * MiB });

        await port.set('blackhole');
        const [err, ms] = await timed(() => store.put('recordings/black-holed', Readable.from([Buffer.alloc(12 * MiB, 7)]), { contentType: 'audio/wav' }).then(() => undefined, (e: unknown) => e));
        expect(err).to.be.instanceOf(Unavailable);
        expect(ms, 'given up within the deadline, not after three silent attempts').to.be.below(REQUEST_MS);
      });
    });
  });

  describe('PostgreSQL refusing connections', () => {
    let proxy: net.Server | undefined;
    const sockets = new Set<net.Socket>();
    let t: TestApp | undefined;
    let drop: (() => Promise<void>) | undefined;
    afterEach(async () => {
      for (const s of sockets) s.destroy();
      proxy?.close();
      await t?.close().catch(() => undefined);
      await drop?.();
      t = proxy = drop = undefined;
    });

    itOn('postgres')('answers 503 on PostgreSQL for upload, the pre-call check, registration, playback, listing, verification and checkpoints', async () => {
      const pg = await createPostgresDatabase({ migrated: true });
      drop = pg.drop;
      // The service reaches PostgreSQL through a port this test controls; closing it is PostgreSQL gone.
      proxy = net.createServer((client) => {
        const server = net.connect(5432, '127.0.0.1');
        for (const s of [client, server]) {
          sockets.add(s);
          s.on('error', () => undefined);
          s.on('close', () => sockets.delete(s));
        }
        client.pipe(server).pipe(client);
      });
      await new Promise<void>((r) => proxy!.listen(0, '127.0.0.1', r));
      const port = (proxy.address() as net.AddressInfo).port;
      const db = createDatabase(pg.url.replace(':5432/', `:${port}/`));
      t = await startTestApp({ db });
      const as = await tokensFor(t);
      const stored = await upload(t);
      expect(stored.status, stored.text).to.equal(201);

      await new Promise<void>((r) => {
        proxy!.close(() => r());
        for (const s of sockets) s.destroy();
      });
      proxy = undefined;

      expectOutage(await upload(t, '+46701234568'), 'upload');
      expectOutage(await request(t.app).post('/v1/opt-outs/check').set(as['phone-system']).send({ number: CALLER }), 'pre-call check');
      expectOutage(await request(t.app).post('/v1/opt-outs').set(as['phone-system']).send({ number: '+46701234569', source: 'ivr' }), 'registration');
      expectOutage(await request(t.app).get(`/v1/recordings/${stored.body.id}/audio`).set(as.trainer), 'playback');
      expectOutage(await request(t.app).get('/v1/recordings').set(as.trainer), 'listing');
      expectOutage(await request(t.app).get('/v1/audit/verify').set(as.auditor), 'GET /v1/audit/verify');
      expectOutage(await request(t.app).get('/v1/audit/checkpoints').set(as.auditor), 'GET /v1/audit/checkpoints');
      const ready = await request(t.app).get('/readyz');
      expect(ready.status).to.equal(503);
      expectNoStacks(t);
    });
  });

  describe('a database kept locked by another process past its lock timeout', () => {
    const BUSY_MS = 1_500;
    let t: TestApp | undefined;
    let cleanup: (() => Promise<void>) | undefined;
    afterEach(async () => {
      await t?.close();
      await cleanup?.();
      t = cleanup = undefined;
    });

    /**
     * The service on a database of the run's kind whose lock wait is BUSY_MS, and a lock another
     * process could hold: SQLite's write lock (BEGIN IMMEDIATE, as `npm run retention` takes it), or
     * on PostgreSQL the tables every route uses, locked exclusively (as an admin's psql session could).
     */
    async function lockedDatabase(): Promise<{ lock(): Promise<() => Promise<void>> }> {
      if (TEST_DATABASE === 'sqlite') {
        const dir = mkdtempSync(path.join(tmpdir(), 'gallra-busy-'));
        const file = path.join(dir, 'gallra.sqlite');
        t = await startTestApp({ db: createDatabase(`sqlite:${file}`, { busyTimeoutMs: BUSY_MS }) });
        let holder: sqlite3.Database | undefined;
        cleanup = async () => {
          await new Promise((r) => (holder ? holder.close(r) : r(undefined)));
          rmSync(dir, { recursive: true, force: true });
        };
        return {
          async lock() {
            holder = new sqlite3.Database(file);
            const exec = (sql: string) => new Promise<void>((res, rej) => holder!.exec(sql, (err) => (err ? rej(err) : res())));
            await exec('PRAGMA busy_timeout = 5000; BEGIN IMMEDIATE; CREATE TABLE outage_probe (x integer); INSERT INTO outage_probe VALUES (1);');
            return () => exec('COMMIT');
          },
        };
      }
      const pg = await createPostgresDatabase({ migrated: true });
      t = await startTestApp({ db: createDatabase(pg.url, { lockTimeoutMs: BUSY_MS }) });
      const holder = createDatabase(pg.url);
      cleanup = async () => {
        await holder.destroy();
        await pg.drop();
      };
      return {
        async lock() {
          const trx = await holder.transaction();
          await trx.raw('lock table recordings, opt_outs, audit_entries, heartbeats in access exclusive mode');
          return async () => {
            await trx.commit();
          };
        },
      };
    }

    it(`answers every route within the lock timeout, reads included, writes 503 (${TEST_DATABASE})`, async () => {
      const db = await lockedDatabase();
      const as = await tokensFor(t!);
      const stored = await upload(t!);
      expect(stored.status, stored.text).to.equal(201);
      const unlock = await db.lock();
      // Everything at once while the lock is held three lock timeouts long, as a phone system and staff would.
      const released = new Promise((r) => setTimeout(r, 3 * BUSY_MS)).then(() => unlock());
      const timedReq = async (what: string, send: () => PromiseLike<request.Response>) => {
        const started = performance.now();
        const res = await send();
        return { what, res, ms: performance.now() - started };
      };
      const answers = await Promise.all([
        timedReq('upload', () => upload(t!, '+46701234568')),
        timedReq('second upload', () => upload(t!, '+46701234566')),
        timedReq('registration', () => request(t!.app).post('/v1/opt-outs').set(as['phone-system']).send({ number: '+46701234569', source: 'ivr' })),
        timedReq('pre-call check', () => request(t!.app).post('/v1/opt-outs/check').set(as['phone-system']).send({ number: CALLER })),
        timedReq('listing', () => request(t!.app).get('/v1/recordings').set(as.trainer)),
        timedReq('playback', () => request(t!.app).get(`/v1/recordings/${stored.body.id}/audio`).set(as.trainer)),
        timedReq('hold list', () => request(t!.app).get('/v1/holds').set(as.admin)),
        timedReq('readiness', () => request(t!.app).get('/readyz')),
      ]);
      const times = answers.map((a) => `${a.what} ${a.res.status} in ${Math.round(a.ms)} ms`).join(', ');
      for (const { what, res, ms } of answers) {
        expect(ms, `${what} answered within the lock timeout: ${times}`).to.be.below(BUSY_MS + 750);
        if (res.status >= 500 && what !== 'readiness') expectOutage(res, what);
      }
      const status = Object.fromEntries(answers.map((a) => [a.what, a.res.status]));
      expect(status, times).to.deep.include({ upload: 503, 'second upload': 503, registration: 503, readiness: 503 });
      await released;
      // The lock gone, the same requests succeed.
      expect((await upload(t!, '+46701234568')).status).to.equal(201);
      expect((await request(t!.app).get('/v1/recordings').set(as.trainer)).status).to.equal(200);
      expectNoStacks(t!);
    });
  });

  describe('SQLite', () => {
    let t: TestApp | undefined;
    let holder: sqlite3.Database | undefined;
    afterEach(async () => {
      await new Promise((r) => (holder ? holder.close(r) : r(undefined)));
      await t?.close();
      t = holder = undefined;
    });

    /** A second connection (as `npm run retention` in another process would be) holding the write lock. */
    async function holdWriteLock(file: string): Promise<{ release(): Promise<void> }> {
      holder = new sqlite3.Database(file);
      const exec = (sql: string) => new Promise<void>((res, rej) => holder!.exec(sql, (err) => (err ? rej(err) : res())));
      await exec('PRAGMA busy_timeout = 5000; BEGIN IMMEDIATE; CREATE TABLE outage_probe (x integer); INSERT INTO outage_probe VALUES (1);');
      return { release: () => exec('COMMIT') };
    }

    /**
     * Resolves once the requests are at the database: one transaction has asked for the write lock (its
     * BEGIN IMMEDIATE sent, no answer yet) and another request waits for the one SQLite connection.
     */
    function waitingAtTheDatabase(db: TestApp['db']): Promise<void> {
      const pool = (db.client as { pool: { numPendingAcquires(): number; on(e: 'acquireRequest', f: () => void): void; removeListener(e: 'acquireRequest', f: () => void): void } }).pool;
      const begun = new Set<string>();
      return new Promise((resolve) => {
        const check = () => {
          if (begun.size === 0 || pool.numPendingAcquires() === 0) return;
          db.removeListener('query', onQuery).removeListener('query-response', onAnswer);
          pool.removeListener('acquireRequest', onAcquire);
          resolve();
        };
        const onQuery = (q: { sql: string; __knexQueryUid: string }) => {
          if (/^BEGIN IMMEDIATE/i.test(q.sql)) begun.add(q.__knexQueryUid);
          check();
        };
        const onAnswer = (_r: unknown, q: { __knexQueryUid: string }) => begun.delete(q.__knexQueryUid);
        const onAcquire = () => setImmediate(check); // tarn queues the acquire after announcing it
        db.on('query', onQuery).on('query-response', onAnswer);
        pool.on('acquireRequest', onAcquire);
      });
    }

    itOn('sqlite')('a write lock held by another connection makes uploads and registrations wait, not fail with SQLITE_BUSY (SQLite)', async () => {
      t = await startTestApp();
      const as = await tokensFor(t);
      expect((await upload(t)).status).to.equal(201);
      const lock = await holdWriteLock(path.join(t.dir, 'gallra.sqlite'));
      const atTheDatabase = waitingAtTheDatabase(t.db);
      const pending = [upload(t, '+46701234568'), request(t.app).post('/v1/opt-outs').set(as['phone-system']).send({ number: '+46701234569', source: 'ivr' })].map((p) => Promise.resolve(p));
      await atTheDatabase;
      await lock.release();
      const [up, reg] = await Promise.all(pending);
      expect(up!.status, up!.text).to.equal(201);
      expect(reg!.status, reg!.text).to.equal(201);
    });

    itOn('sqlite')('a write lock held past the busy timeout answers 503 with Retry-After (SQLite)', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'gallra-busy-'));
      try {
        const file = path.join(dir, 'gallra.sqlite');
        t = await startTestApp({ db: createDatabase(`sqlite:${file}`, { busyTimeoutMs: 200 }) });
        const lock = await holdWriteLock(file);
        expectOutage(await upload(t), 'upload');
        await lock.release();
        expectNoStacks(t);
      } finally {
        await t?.close();
        t = undefined;
        rmSync(dir, { recursive: true, force: true });
      }
    });

    itOn('sqlite')('a full disk answers 503 for uploads and registrations and makes /readyz not ready, logging no caller key (SQLite)', async () => {
      t = await startTestApp();
      const as = await tokensFor(t);
      expect((await request(t.app).get('/readyz')).status).to.equal(200);
      // The connection's writes fail the way sqlite3 reports a full disk; reads still work.
      const conn = (await t.db.client.acquireConnection()) as Record<'run' | 'all', (sql: string, ...rest: unknown[]) => unknown>;
      await t.db.client.releaseConnection(conn);
      for (const method of ['run', 'all'] as const) {
        const real = conn[method].bind(conn);
        sinon.stub(conn, method).callsFake((sql: string, ...rest: unknown[]) => {
          if (!/^\s*(insert|update|delete|replace)\b/i.test(sql)) return real(sql, ...rest);
          const cb = rest.find((r) => typeof r === 'function') as (err: Error) => void;
          setImmediate(() => cb(Object.assign(new Error('SQLITE_FULL: database or disk is full'), { errno: 13, code: 'SQLITE_FULL' })));
          return conn;
        });
      }
      expectOutage(await upload(t, '+46701234568'), 'upload');
      const number = '+46701234569';
      expectOutage(await request(t.app).post('/v1/opt-outs').set(as['phone-system']).send({ number, source: 'ivr' }), 'registration');
      const ready = await request(t.app).get('/readyz');
      expect(ready.status).to.equal(503);
      expect(ready.body.checks.database.ok).to.equal(false);
      expect(t.logs()).not.to.contain(t.services.callerKeys.of(number));
      expect(t.logs()).not.to.contain('46701234569');
      expectNoStacks(t);
    });
  });

  it('logs a failed query by code and name, never with its bound values (the caller key)', async () => {
    const t = await startTestApp();
    try {
      const as = await tokensFor(t);
      // A real failure of the insert that binds the caller key: a constraint (PostgreSQL) or trigger (SQLite) refusing it.
      if (t.kind === 'postgres') await t.db.raw('alter table opt_outs add constraint refuse_all check (false) not valid');
      else await t.db.raw("create trigger refuse_all before insert on opt_outs begin select raise(abort, 'refused'); end");
      const number = '+46701234560';
      const res = await request(t.app).post('/v1/opt-outs').set(as['phone-system']).send({ number, source: 'ivr' });
      expect(res.status).to.equal(500);
      expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
      const key = t.services.callerKeys.of(number);
      expect(t.logs()).to.match(/"code":"(23514|SQLITE_CONSTRAINT)"/);
      expect(t.logs()).not.to.contain(key);
      expect(t.logs()).not.to.contain('46701234560');
    } finally {
      await t.close();
    }
  });

  it('answers what fails before or outside the routes as problem+json, never HTML: bad percent-encoding, bad JSON, an unknown path', async () => {
    const t = await startTestApp();
    try {
      const as = await tokensFor(t);
      const cases = [
        [await request(t.app).get('/v1/recordings/%E0%A4%A').set(as.trainer), 400],
        [await request(t.app).post('/v1/opt-outs').set(as['phone-system']).set('Content-Type', 'application/json').send('{"number": +4670'), 400],
        [await request(t.app).get('/%').set(as.trainer), 404],
      ] as const;
      for (const [res, status] of cases) {
        expect(res.status, res.text).to.equal(status);
        expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
        expect(res.text).not.to.match(/<html|<pre/i);
        expect(withoutRequestId(res)).not.to.contain('4670');
      }
    } finally {
      await t.close();
    }
  });
});
