import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
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

  it('answers 429 to credentials from an address after ten refused ones, and audits each refusal', async () => {
    const good = await t.token('phone-system');
    for (let i = 0; i < 10; i++) expect(await send(port, 'glr_not-a-real-token')).to.equal(401);
    expect(await send(port, good)).to.equal(429);
    const failures = await t.db('audit_entries').where({ action: 'auth.failed' }).count({ n: '*' });
    expect(failures).to.deep.equal([{ n: 10 }]);
  });
});
