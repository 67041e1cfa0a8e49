import { expect } from 'chai';
import net from 'node:net';
import request from 'supertest';
import { DAY_MS } from '../../src/shared/clock.js';
import { createS3Client, createS3ObjectStore } from '../../src/storage/index.js';
import { s3ConfigFor } from '../helpers/s3-server.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';

async function upload(t: TestApp) {
  const { body, contentType } = recordingBody(callMeta(t.clock.now()), fixture('call-pcm16-8k.wav'));
  return request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body);
}

/** How long `fn` took, in ms. */
async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const out = await fn();
  return [out, performance.now() - start];
}

describe('readiness and bounded waits', function () {
  this.timeout(60_000);
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  describe('a black-holed S3 endpoint (accepts connections, never answers)', () => {
    let hole: net.Server;
    const sockets = new Set<net.Socket>();
    beforeEach(async () => {
      hole = net.createServer((s) => {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => sockets.delete(s));
      });
      await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r));
    });
    afterEach(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => hole.close(r));
    });

    it('/readyz answers not ready within its bound, and an upload gets 503 within the store timeouts', async () => {
      const endpoint = `http://127.0.0.1:${(hole.address() as net.AddressInfo).port}`;
      const client = createS3Client({ ...s3ConfigFor({ endpoint, bucket: 'gallra-test' }), connectTimeoutMs: 500, requestTimeoutMs: 500 });
      t = await startTestApp({ store: createS3ObjectStore({ client, bucket: 'gallra-test', sse: 'none', versioned: false }), config: { readinessTimeoutMs: 1_000 } });

      const [ready, readyMs] = await timed(() => request(t!.app).get('/readyz'));
      expect(ready.status).to.equal(503);
      expect(ready.body.status).to.equal('not-ready');
      expect(ready.body.checks.store.ok).to.equal(false);
      expect(ready.body.checks.database.ok).to.equal(true);
      expect(readyMs, 'readiness bounded by READINESS_TIMEOUT').to.be.below(5_000);

      // Three attempts of at most 0.5 s of silence each, with the SDK's backoff in between.
      const [res, uploadMs] = await timed(() => upload(t!));
      expect(res.status, res.text).to.equal(503);
      expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
      expect(res.headers['retry-after']).to.match(/^\d+$/);
      expect(uploadMs, 'upload bounded by S3_REQUEST_TIMEOUT').to.be.below(15_000);
    });
  });

  it('/readyz writes to the database and counts overdue recordings in SQL, without loading them', async () => {
    t = await startTestApp();
    const admin = await t.token('admin');
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await upload(t);
      expect(res.status).to.equal(201);
      ids.push(res.body.id);
    }
    await request(t.app).post(`/v1/recordings/${ids[0]}/hold`).set('Authorization', `Bearer ${admin}`).send({ reason: 'complaint under review' }).expect(201);
    t.clock.advance(31 * DAY_MS);

    const rowsReturned: number[] = [];
    const sql: string[] = [];
    const onResponse = (response: unknown, q: { sql: string }) => {
      sql.push(q.sql);
      if (Array.isArray(response)) rowsReturned.push(response.length);
    };
    t.db.on('query-response', onResponse);
    const ready = await request(t.app).get('/readyz');
    t.db.off('query-response', onResponse);

    expect(ready.status).to.equal(503);
    expect(ready.body.checks.retention).to.deep.include({ ok: false, overdue: 3 });
    expect(ready.body.checks.database).to.deep.include({ ok: true, writable: true });
    expect(sql.some((s) => /^(insert|update)/i.test(s)), 'a write').to.equal(true);
    expect(Math.max(...rowsReturned), 'no query returns the overdue rows themselves').to.be.at.most(1);
  });
});
