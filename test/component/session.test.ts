import { expect } from 'chai';
import sinon from 'sinon';
import request from 'supertest';
import { readAuditEntries } from '../../src/audit-log/index.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

async function entries(t: TestApp, action: string) {
  const out = [];
  for await (const e of readAuditEntries(t.db)) if (e.action === action) out.push(e);
  return out;
}

const cookieOf = (res: request.Response) => ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('gallra_session='));

describe('Browser sessions and failed sign-ins', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp({ config: { sessionTtlMs: 3_600_000 } });
  });
  afterEach(async () => {
    sinon.restore();
    await t.close();
  });

  it('exchanges a token for an HttpOnly, SameSite=Strict cookie that expires, and audits the sign-in', async () => {
    const token = await t.token('trainer');
    const res = await request(t.app).post('/v1/session').send({ token });
    expect(res.status).to.equal(201);
    expect(res.body).to.include({ role: 'trainer' });
    const cookie = cookieOf(res)!;
    expect(cookie).to.match(/HttpOnly/i).and.match(/SameSite=Strict/i).and.match(/Max-Age=3600/).and.match(/Path=\//);
    expect(cookie, 'no Secure over plain HTTP').not.to.match(/Secure/);
    expect(cookie).not.to.contain(token);
    const me = await request(t.app).get('/v1/session').set('Cookie', cookie.split(';')[0]!);
    expect(me.body).to.deep.equal({ role: 'trainer', name: 'test trainer', via: 'session' });
    const opened = await entries(t, 'session.opened');
    expect(opened).to.have.length(1);
    expect(JSON.stringify(opened[0])).not.to.contain(token);
  });

  it('marks the cookie Secure when the request came over TLS through a trusted proxy', async () => {
    const tls = await startTestApp({ config: { trustProxy: 1 } });
    try {
      const res = await request(tls.app).post('/v1/session').set('X-Forwarded-Proto', 'https').send({ token: await tls.token('auditor') });
      expect(cookieOf(res)).to.match(/; Secure/);
    } finally {
      await tls.close();
    }
  });

  it('stops honouring the session once it expires on the injected clock', async () => {
    const res = await request(t.app).post('/v1/session').send({ token: await t.token('trainer') });
    const cookie = cookieOf(res)!.split(';')[0]!;
    expect((await request(t.app).get('/v1/recordings').set('Cookie', cookie)).status).to.equal(200);
    t.clock.advance(3_600_001);
    expect((await request(t.app).get('/v1/recordings').set('Cookie', cookie)).status).to.equal(401);
  });

  it('ends the session on sign-out and when its token is revoked', async () => {
    const out = await request(t.app).post('/v1/session').send({ token: await t.token('admin') });
    const c1 = cookieOf(out)!.split(';')[0]!;
    const del = await request(t.app).delete('/v1/session').set('Cookie', c1).set('X-Requested-With', 'gallra');
    expect(del.status).to.equal(204);
    expect(cookieOf(del)).to.match(/Expires=Thu, 01 Jan 1970/);
    expect((await request(t.app).get('/v1/session').set('Cookie', c1)).status).to.equal(401);
    expect(await entries(t, 'session.closed')).to.have.length(1);

    const { token, accessToken } = await t.services.tokens.create({ role: 'trainer', name: 'soon revoked' }, 'system:test');
    const c2 = cookieOf(await request(t.app).post('/v1/session').send({ token }))!.split(';')[0]!;
    await t.services.tokens.revoke(accessToken.id, 'system:test');
    expect((await request(t.app).get('/v1/session').set('Cookie', c2)).status).to.equal(401);
  });

  it('refuses a state-changing request made with the cookie but without JSON or X-Requested-With', async () => {
    const c = cookieOf(await request(t.app).post('/v1/session').send({ token: await t.token('admin') }))!.split(';')[0]!;
    const res = await request(t.app).delete('/v1/session').set('Cookie', c);
    expect(res.status).to.equal(403);
    expect(res.body.type).to.match(/csrf-check-failed$/);
    expect(await entries(t, 'session.closed')).to.have.length(0);
  });

  it('refuses a sign-in without a token, naming the field', async () => {
    const res = await request(t.app).post('/v1/session').send({});
    expect(res.status).to.equal(422);
    expect(res.body.errors[0].pointer).to.equal('/token');
  });

  it('counts failed sign-ins and bad bearer tokens without auditing them or logging token material, and limits them with 429', async () => {
    const res = await request(t.app).post('/v1/session').send({ token: 'glr_wrong-token-value' });
    expect(res.status).to.equal(401);
    const bearer = await request(t.app).get('/v1/recordings').set('Authorization', 'Bearer glr_another-wrong-one');
    expect(bearer.status).to.equal(401);
    expect(await entries(t, 'auth.failed')).to.deep.equal([]);
    expect(t.logs()).not.to.contain('wrong');
    const metrics = await t.services.metrics.metrics();
    expect(metrics).to.match(/gallra_unauthenticated_refusals_total\{route="sign-in",problem="invalid-credentials"\} 1/);
    expect(metrics).to.match(/gallra_unauthenticated_refusals_total\{route="auth",problem="invalid-credentials"\} 1/);
    for (let i = 0; i < 8; i++) await request(t.app).post('/v1/session').send({ token: `glr_guess-${i}` });
    const limited = await request(t.app).post('/v1/session').send({ token: 'glr_guess-9' });
    expect(limited.status).to.equal(429);
    expect(limited.headers['content-type']).to.match(/problem\+json/);
    // A valid token still signs in from the same address.
    expect((await request(t.app).post('/v1/session').send({ token: await t.token('admin') })).status).to.equal(201);
  });

  it('does not count successful or credential-less requests against the limit', async () => {
    const token = await t.token('trainer');
    for (let i = 0; i < 15; i++) expect((await request(t.app).get('/v1/recordings').set('Authorization', `Bearer ${token}`)).status).to.equal(200);
    for (let i = 0; i < 15; i++) expect((await request(t.app).get('/v1/recordings')).status).to.equal(401);
    expect((await request(t.app).post('/v1/session').send({ token })).status).to.equal(201);
  });

  it('serves the web interface at / with a self-only Content-Security-Policy', async () => {
    const res = await request(t.app).get('/');
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.match(/text\/html/);
    const csp = res.headers['content-security-policy'];
    expect(csp).to.contain("default-src 'self'").and.contain("media-src 'self'").and.contain("script-src 'self'");
    expect(csp).not.to.match(/https:|unsafe-inline|\*/);
    expect(res.text).to.contain('lang="sv"');
    expect(res.text).not.to.match(/https?:\/\/(?!gallra\.example)/);
  });
});
