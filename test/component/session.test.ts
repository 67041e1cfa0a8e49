import { expect } from 'chai';
import sinon from 'sinon';
import request from 'supertest';
import { readAll as readAuditEntries } from '../../src/audit-log/audit-repository.js';
import { startTestApp, TEST_CONTROLLER, type TestApp } from '../helpers/test-app.js';

async function entries(t: TestApp, action: string) {
  const out = [];
  for await (const e of readAuditEntries(t.db)) if (e.action === action) out.push(e);
  return out;
}

const cookieOf = (res: request.Response, name = 'gallra_session') => ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith(`${name}=`));

describe('Browser sessions and failed sign-ins', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp({ config: { sessionTtlMs: 3_600_000 } });
  });
  afterEach(async () => {
    sinon.restore();
    await t.close();
  });

  it('exchanges a token for an HttpOnly, SameSite=Lax cookie that expires, and audits the sign-in', async () => {
    const token = await t.token('trainer');
    const res = await request(t.app).post('/v1/session').send({ token });
    expect(res.status).to.equal(201);
    expect(res.body).to.include({ role: 'trainer' });
    const cookie = cookieOf(res)!;
    expect(cookie).to.match(/HttpOnly/i).and.match(/SameSite=Lax/i).and.match(/Max-Age=3600/).and.match(/Path=\//);
    expect(cookie, 'no Secure over plain HTTP').not.to.match(/Secure/);
    expect(cookie).not.to.contain(token);
    const me = await request(t.app).get('/v1/session').set('Cookie', cookie.split(';')[0]!);
    expect(me.body).to.deep.include({ role: 'trainer', roles: ['trainer'], name: 'test trainer', via: 'session', csrfToken: res.body.csrfToken });
    expect(res.body.csrfToken).to.be.a('string').with.length.greaterThan(20);
    const opened = await entries(t, 'session.opened');
    expect(opened).to.have.length(1);
    expect(JSON.stringify(opened[0])).not.to.contain(token);
  });

  it('marks the cookie Secure and __Host- when the request came over TLS through a trusted proxy', async () => {
    const tls = await startTestApp({ config: { trustProxy: ['loopback'] } });
    try {
      const res = await request(tls.app).post('/v1/session').set('X-Forwarded-Proto', 'https').send({ token: await tls.token('auditor') });
      const cookie = cookieOf(res, '__Host-gallra_session')!;
      expect(cookie).to.match(/; Secure/).and.match(/Path=\//).and.not.match(/Domain=/i);
      const me = await request(tls.app).get('/v1/session').set('X-Forwarded-Proto', 'https').set('Cookie', cookie.split(';')[0]!);
      expect(me.status).to.equal(200);
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
    const csrf = (await request(t.app).get('/v1/session').set('Cookie', c1)).body.csrfToken;
    const del = await request(t.app).delete('/v1/session').set('Cookie', c1).set('X-CSRF-Token', csrf);
    expect(del.status).to.equal(204);
    expect(cookieOf(del)).to.match(/Expires=Thu, 01 Jan 1970/);
    expect((await request(t.app).get('/v1/session').set('Cookie', c1)).status).to.equal(401);
    expect(await entries(t, 'session.closed')).to.have.length(1);

    const { token, accessToken } = await t.services.tokens.create({ role: 'trainer', name: 'soon revoked' }, 'system:test');
    const c2 = cookieOf(await request(t.app).post('/v1/session').send({ token }))!.split(';')[0]!;
    await t.services.tokens.revoke(accessToken.id, 'system:test');
    expect((await request(t.app).get('/v1/session').set('Cookie', c2)).status).to.equal(401);
  });

  it('refuses a state-changing request made with the cookie unless it carries the CSRF token or a same-origin Origin', async () => {
    const c = cookieOf(await request(t.app).post('/v1/session').send({ token: await t.token('admin') }))!.split(';')[0]!;
    for (const headers of [{}, { 'X-Requested-With': 'gallra' }, { 'Content-Type': 'application/json' }, { 'X-CSRF-Token': 'forged' }, { Origin: 'http://evil.example' }, { Origin: 'null' }]) {
      const res = await request(t.app).delete('/v1/session').set('Cookie', c).set(headers);
      expect(res.status, JSON.stringify(headers)).to.equal(403);
      expect(res.body.type).to.match(/csrf-check-failed$/);
    }
    expect(await entries(t, 'session.closed')).to.have.length(0);
    const sameOrigin = await request(t.app).delete('/v1/session').set('Cookie', c).set('Host', 'gallra.test').set('Origin', 'http://gallra.test');
    expect(sameOrigin.status).to.equal(204);
    expect(await entries(t, 'session.closed')).to.have.length(1);
  });

  it('rotates the session at sign-in: the cookie the browser had is closed', async () => {
    const first = cookieOf(await request(t.app).post('/v1/session').send({ token: await t.token('trainer') }))!.split(';')[0]!;
    const again = await request(t.app).post('/v1/session').set('Cookie', first).set('Host', 'gallra.test').set('Origin', 'http://gallra.test').send({ token: await t.token('auditor') });
    const second = cookieOf(again)!.split(';')[0]!;
    expect(second).not.to.equal(first);
    expect((await request(t.app).get('/v1/session').set('Cookie', first)).status).to.equal(401);
    expect((await request(t.app).get('/v1/session').set('Cookie', second)).body.role).to.equal('auditor');
    const closed = await entries(t, 'session.closed');
    expect(closed.map((e) => e.details.reason)).to.deep.equal(['replaced']);
  });

  it('ends a session that was not used for the idle lifetime, and keeps one in use alive until its absolute end', async () => {
    const idle = await startTestApp({ config: { sessionTtlMs: 3_600_000, sessionIdleMs: 10 * 60_000 } });
    try {
      const token = await idle.token('trainer');
      const used = cookieOf(await request(idle.app).post('/v1/session').send({ token }))!.split(';')[0]!;
      const left = cookieOf(await request(idle.app).post('/v1/session').send({ token }))!.split(';')[0]!;
      for (let i = 0; i < 5; i++) {
        idle.clock.advance(9 * 60_000);
        expect((await request(idle.app).get('/v1/session').set('Cookie', used)).status, `after ${(i + 1) * 9} minutes`).to.equal(200);
      }
      expect((await request(idle.app).get('/v1/session').set('Cookie', left)).status).to.equal(401);
      idle.clock.advance(9 * 60_000); // 54 minutes in: still within both lifetimes
      expect((await request(idle.app).get('/v1/session').set('Cookie', used)).status).to.equal(200);
      idle.clock.advance(7 * 60_000);
      expect((await request(idle.app).get('/v1/session').set('Cookie', used)).status, 'past the absolute lifetime').to.equal(401);
    } finally {
      await idle.close();
    }
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

  it('limits failed sign-ins per token prefix in the database, never refusing a valid token', async () => {
    const mistyped = (i: number) => `glr_AbCdEf${'x'.repeat(30)}${i}`;
    for (let i = 0; i < 9; i++) expect((await request(t.app).post('/v1/session').send({ token: mistyped(i) })).status).to.equal(401);
    const limited = await request(t.app).post('/v1/session').send({ token: mistyped(9) });
    expect(limited.status).to.equal(429);
    expect(limited.headers['content-type']).to.match(/problem\+json/);
    const f = t.services.signInFailures;
    expect(await f.blocked(f.keyForToken(mistyped(0)))).to.equal(true);
    // Another colleague's typo is another prefix: its count is its own.
    expect(await f.blocked(f.keyForToken('glr_ZyXwVu-other-typo'))).to.equal(false);
    // A valid token is never refused.
    expect((await request(t.app).post('/v1/session').send({ token: await t.token('admin') })).status).to.equal(201);
    const rows = await t.db('sign_in_failures').select('key');
    expect(JSON.stringify(rows)).not.to.contain('AbCdEf');
    // The window passes on the injected clock: the prefix is free again, and the next new key sweeps the old rows.
    t.clock.advance(15 * 60_000 + 1);
    expect(await f.blocked(f.keyForToken(mistyped(0)))).to.equal(false);
    await f.record(f.keyForToken('glr_Fresh-after-the-window'));
    expect(await t.db('sign_in_failures').count({ n: '*' })).to.deep.equal([{ n: 1 }]);
  });

  it('turns token sign-in off in the web interface once OIDC is configured, unless ALLOW_TOKEN_SIGNIN', async () => {
    const oidc = { issuer: 'http://127.0.0.1:9/unreachable', clientId: 'gallra', clientSecret: undefined, redirectUrl: 'http://127.0.0.1/auth/callback', postLogoutRedirectUrl: 'http://127.0.0.1/', scopes: 'openid', roleClaim: 'groups', roles: [{ role: 'admin' as const, value: 'g-admin' }] };
    const off = await startTestApp({ config: { oidc } });
    const on = await startTestApp({ config: { oidc, allowTokenSignIn: true } });
    try {
      expect((await request(off.app).get('/v1/sign-in')).body).to.deep.equal({ oidc: true, token: false, controller: TEST_CONTROLLER });
      const refused = await request(off.app).post('/v1/session').send({ token: await off.token('admin') });
      expect(refused.status).to.equal(403);
      expect(refused.body.type).to.match(/token-sign-in-disabled$/);
      // Machine clients keep their bearer tokens.
      expect((await request(off.app).get('/v1/recordings').set('Authorization', `Bearer ${await off.token('trainer')}`)).status).to.equal(200);
      expect((await request(on.app).get('/v1/sign-in')).body).to.deep.equal({ oidc: true, token: true, controller: TEST_CONTROLLER });
      expect((await request(on.app).post('/v1/session').send({ token: await on.token('admin') })).status).to.equal(201);
      expect((await request(t.app).get('/v1/sign-in')).body).to.deep.equal({ oidc: false, token: true, controller: TEST_CONTROLLER });
    } finally {
      await off.close();
      await on.close();
    }
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
