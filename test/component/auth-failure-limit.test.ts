import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

function send(port: number, token: string, opts: { hangUp?: boolean } = {}): Promise<number | 'hung-up'> {
  const body = JSON.stringify({ number: '+46701234567' });
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/v1/opt-outs/check',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': String(body.length + (opts.hangUp ? 100 : 0)) },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', (e) => (opts.hangUp ? resolve('hung-up') : reject(e)));
    if (opts.hangUp) {
      // Half a body, then the caller hangs up.
      req.write(body.slice(0, 10));
      setImmediate(() => {
        req.destroy();
        resolve('hung-up');
      });
    } else req.end(body);
  });
}

describe('the failed-authentication limit', () => {
  let t: TestApp;
  let server: http.Server;
  let port: number;
  beforeEach(async () => {
    t = await startTestApp();
    server = t.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    await new Promise((r) => server.close(r));
    await t.close();
  });

  it('never locks out a phone system that hangs up mid-request or simply makes many requests', async () => {
    const token = await t.token('phone-system');
    for (let i = 0; i < 25; i++) await send(port, token, { hangUp: true });
    for (let i = 0; i < 25; i++) expect(await send(port, token)).to.equal(200);
  });

  it('answers 429 to failed credentials from an address after ten, but never refuses a valid one', async () => {
    const good = await t.token('phone-system');
    const admin = await t.token('admin');
    const before = await t.db('audit_entries').count({ n: '*' });
    for (let i = 0; i < 10; i++) expect(await send(port, `glr_not-a-real-token-${i}`)).to.equal(401);
    const limited = await request(t.app).post('/v1/opt-outs/check').set('Authorization', 'Bearer glr_one-more-guess').send({ number: '+46701234567' });
    expect(limited.status).to.equal(429);
    expect(limited.headers['content-type']).to.match(/problem\+json/);
    expect(limited.body.type).to.match(/too-many-failed-sign-ins$/);
    // The address's window (15 minutes) began with the first failure, moments ago.
    expect(Number(limited.headers['retry-after'])).to.be.within(890, 900);
    // The phone system behind the same address keeps checking, and an admin keeps working.
    expect(await send(port, good)).to.equal(200);
    expect((await request(t.app).get('/v1/retention/overdue').set('Authorization', `Bearer ${admin}`)).status).to.equal(200);
    // Nobody was authenticated: not one audit entry for the failures.
    expect(await t.db('audit_entries').count({ n: '*' })).to.deep.equal(before);
  });

  it('believes X-Forwarded-For only from the proxies TRUST_PROXY names: a spoofed first hop buys no more guesses', async () => {
    await new Promise((r) => server.close(r));
    await t.close();
    // The proxy runs on this host: supertest's connections come from loopback.
    t = await startTestApp({ config: { trustProxy: ['loopback'] } });
    const good = await t.token('phone-system');
    const guess = (i: number, token: string) =>
      request(t.app).post('/v1/opt-outs/check').set('Authorization', `Bearer ${token}`).set('X-Forwarded-For', `203.0.113.${i}, 198.51.100.7`).send({ number: '+46701234567' });
    for (let i = 0; i < 10; i++) expect((await guess(i, `glr_guess-${i}`)).status).to.equal(401);
    expect((await guess(99, 'glr_guess-99')).status).to.equal(429);
    expect((await guess(100, good)).status).to.equal(200);
    server = t.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
  });

  it('ignores X-Forwarded-For from any address TRUST_PROXY does not list: a client reaching the port directly cannot rotate its address', async () => {
    await new Promise((r) => server.close(r));
    await t.close();
    // The proxy is elsewhere; these requests come straight from loopback, each naming another address.
    t = await startTestApp({ config: { trustProxy: ['192.0.2.10'] } });
    const guess = (i: number) =>
      request(t.app).post('/v1/opt-outs/check').set('Authorization', `Bearer glr_guess-${i}`).set('X-Forwarded-For', `203.0.113.${i}`).send({ number: '+46701234567' });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await guess(i)).status);
    expect(statuses).to.deep.equal([...Array(10).fill(401), 429, 429]);
    server = t.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
  });
});
