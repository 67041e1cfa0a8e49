import { readdirSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import { createMetricsApp } from '../../src/app.js';
import type { EdgeConfig } from '../../src/config.js';
import { createHttpServer, stopServer } from '../../src/http/server.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';

/** Short limits, so the tests see each one act (these are socket timeouts, not business deadlines). */
const EDGE: Partial<EdgeConfig> = { headersTimeoutMs: 600, requestTimeoutMs: 1_500, uploadTimeoutMs: 20_000, bodyIdleTimeoutMs: 400, shutdownTimeoutMs: 300 };

/** Raw bytes over a socket; resolves with what came back once the server closes the connection (or after `maxMs`). */
function rawExchange(port: number, write: (s: net.Socket) => void, maxMs = 5_000): Promise<{ text: string; closedByServer: boolean; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    let done = false;
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ text, closedByServer, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), maxMs);
    s.on('data', (d) => (text += d.toString('latin1')));
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
    s.on('connect', () => write(s));
  });
}

function filesUnder(dir: string): string[] {
  try {
    return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => /[0-9a-f-]{36}$/.test(f) || f.includes('.tmp-'));
  } catch {
    return [];
  }
}

describe('the HTTP edge under abuse', () => {
  let t: TestApp;
  let server: http.Server;
  let port: number;
  async function start(edge: Partial<EdgeConfig> = {}) {
    t = await startTestApp({ config: { edge: { ...(await import('../../src/config.js')).loadConfig({}).edge, ...EDGE, ...edge } } });
    server = createHttpServer(t.app, t.config.edge);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  }
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await t.close();
  });

  it('closes a connection whose headers never finish (slowloris) within the headers timeout', async () => {
    await start();
    const r = await rawExchange(port, (s) => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-a: 1\r\n'));
    expect(r.closedByServer).to.equal(true);
    expect(r.ms).to.be.below(3_000);
  });

  it('answers 408 and closes when a body stops arriving (the pre-call check)', async () => {
    await start();
    const token = await t.token('phone-system');
    const r = await rawExchange(port, (s) =>
      s.write(`POST /v1/opt-outs/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"numb`),
    );
    expect(r.closedByServer).to.equal(true);
    expect(r.text).to.match(/^HTTP\/1\.1 408/);
    expect(r.text).to.include('application/problem+json');
  });

  it('answers 408 to a body that trickles in slower than the request timeout allows', async () => {
    await start();
    const r = await rawExchange(port, (s) => {
      s.write('POST /v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n');
      const drip = setInterval(() => (s.destroyed ? clearInterval(drip) : s.write(' ')), 150);
      s.on('close', () => clearInterval(drip));
    });
    expect(r.closedByServer).to.equal(true);
    expect(r.text).to.match(/^HTTP\/1\.1 408/);
    expect(r.ms).to.be.within(1_400, 4_000);
  });

  it('lets an upload take longer than the request timeout while its bytes keep coming', async () => {
    await start();
    const { body, contentType } = recordingBody(callMeta(t.clock.now()), fixture('call-8k.mp3'));
    const headers = { ...signedHeaders(body, t.clock.now()), 'content-type': contentType, 'content-length': String(body.length) };
    const started = Date.now();
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/recordings', headers }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      let at = 0;
      const step = Math.ceil(body.length / 10);
      const drip = setInterval(() => {
        req.write(body.subarray(at, at + step));
        at += step;
        if (at >= body.length) {
          clearInterval(drip);
          req.end();
        }
      }, 200);
    });
    expect(Date.now() - started).to.be.above(t.config.edge.requestTimeoutMs);
    expect(status).to.equal(201);
  });

  it('cuts a stalled upload, answers it, and leaves no temp file, row or quarantine use behind', async () => {
    await start();
    const { body, contentType } = recordingBody(callMeta(t.clock.now()), fixture('call-pcm16-8k.wav'));
    const head = `POST /v1/recordings HTTP/1.1\r\nHost: x\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n` +
      Object.entries(signedHeaders(body, t.clock.now())).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
    const r = await rawExchange(port, (s) => s.write(Buffer.concat([Buffer.from(head), body.subarray(0, Math.floor(body.length / 2))])));
    expect(r.closedByServer).to.equal(true);
    expect(r.text).to.match(/^HTTP\/1\.1 408/);
    // The answer goes out first; the unfinished write is removed right after.
    for (let i = 0; i < 100 && (filesUnder(path.join(t.dir, 'objects')).length || t.services.quarantine.usage().uploads); i++) await new Promise((res) => setTimeout(res, 20));
    expect(filesUnder(path.join(t.dir, 'objects'))).to.deep.equal([]);
    expect(await t.db('recordings').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
    expect(t.services.quarantine.usage()).to.deep.equal({ bytes: 0, uploads: 0, clients: 0 });
  });

  it('caps unverified uploads per client: the next one is refused with 429 while they stall', async () => {
    await start({ unverifiedUploadsPerClient: 2, bodyIdleTimeoutMs: 5_000, requestTimeoutMs: 10_000 });
    const { body, contentType } = recordingBody(callMeta(t.clock.now()), fixture('call-pcm16-8k.wav'));
    const forged = { 'webhook-id': 'msg_x', 'webhook-timestamp': String(Math.floor(t.clock.now().getTime() / 1000)), 'webhook-signature': 'v1,' + Buffer.alloc(32).toString('base64') };
    const sockets: net.Socket[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const s = net.connect(port, '127.0.0.1');
        sockets.push(s);
        s.on('error', () => undefined);
        const head = `POST /v1/recordings HTTP/1.1\r\nHost: x\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n` +
          Object.entries(forged).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
        s.write(Buffer.concat([Buffer.from(head), body.subarray(0, 1000)]));
      }
      for (let i = 0; i < 100 && t.services.quarantine.usage().uploads < 2; i++) await new Promise((r) => setTimeout(r, 10));
      expect(t.services.quarantine.usage().uploads).to.equal(2);
      const res = await request(server).post('/v1/recordings').set(forged).set('Content-Type', contentType).send(body);
      expect(res.status).to.equal(429);
      expect(res.type).to.equal('application/problem+json');
    } finally {
      for (const s of sockets) s.destroy();
    }
    for (let i = 0; i < 100 && t.services.quarantine.usage().uploads > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(t.services.quarantine.usage()).to.deep.equal({ bytes: 0, uploads: 0, clients: 0 });
    expect(filesUnder(path.join(t.dir, 'objects'))).to.deep.equal([]);
  });

  it('refuses an unverified upload with 503 when the quarantine quota is used up', async () => {
    await start({ quarantineBytes: 64 * 1024 });
    const { body, contentType } = recordingBody(callMeta(t.clock.now()), fixture('call-pcm16-8k.wav'));
    const res = await request(server).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body);
    expect(res.status).to.equal(503);
    expect(res.body.type).to.match(/quarantine-full$/);
    expect(await t.db('recordings').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
  });

  it('stops within SHUTDOWN_TIMEOUT even with requests hanging, closing their connections', async () => {
    await start();
    const hanging = await Promise.all(
      Array.from({ length: 20 }, () => {
        const s = net.connect(port, '127.0.0.1');
        s.on('error', () => undefined);
        return new Promise<net.Socket>((r) => s.on('connect', () => (s.write('POST /v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{'), r(s))));
      }),
    );
    const closed = Promise.all(hanging.map((s) => new Promise((r) => s.on('close', r))));
    const started = Date.now();
    const how = await stopServer(server, t.config.edge.shutdownTimeoutMs);
    await closed;
    expect(Date.now() - started).to.be.below(2_000);
    expect(['forced', 'drained']).to.include(how);
  });
});

describe('/metrics', () => {
  let t: TestApp;
  afterEach(async () => t.close());

  it('is not served on the main listener without METRICS_TOKEN', async () => {
    t = await startTestApp({ config: { edge: { ...(await import('../../src/config.js')).loadConfig({}).edge, metricsToken: undefined } } });
    const res = await request(t.app).get('/metrics');
    expect(res.status).to.equal(404);
    expect(res.text).to.not.include('nodejs_version_info');
  });

  it('needs the metrics token on the main listener', async () => {
    const token = 'm'.repeat(40);
    t = await startTestApp({ config: { edge: { ...(await import('../../src/config.js')).loadConfig({}).edge, metricsToken: token } } });
    expect((await request(t.app).get('/metrics')).status).to.equal(401);
    expect((await request(t.app).get('/metrics').set('Authorization', 'Bearer ' + 'x'.repeat(40))).status).to.equal(401);
    const ok = await request(t.app).get('/metrics').set('Authorization', `Bearer ${token}`);
    expect(ok.status).to.equal(200);
    expect(ok.text).to.include('gallra_unauthenticated_refusals_total');
  });

  it('limits wrong metrics tokens like other failed credentials: 429 after ten, the right token still served', async () => {
    const token = 'm'.repeat(40);
    t = await startTestApp({ config: { edge: { ...(await import('../../src/config.js')).loadConfig({}).edge, metricsToken: token } } });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await request(t.app).get('/metrics').set('Authorization', `Bearer guess-${i}-${'x'.repeat(30)}`)).status);
    expect(statuses).to.deep.equal([...Array(10).fill(401), 429, 429]);
    // A token for the API is limited by the same count from this address.
    expect((await request(t.app).get('/v1/recordings').set('Authorization', 'Bearer glr_not-a-token')).status).to.equal(429);
    expect((await request(t.app).get('/metrics').set('Authorization', `Bearer ${token}`)).status).to.equal(200);
  });

  it('is served without a token on its own listener (METRICS_LISTEN), which serves nothing else', async () => {
    t = await startTestApp();
    const metricsApp = createMetricsApp(t.services);
    expect((await request(metricsApp).get('/metrics')).status).to.equal(200);
    expect((await request(metricsApp).get('/healthz')).status).to.equal(404);
  });
});
