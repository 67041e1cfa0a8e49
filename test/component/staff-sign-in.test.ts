import { expect } from 'chai';
import sinon from 'sinon';
import request from 'supertest';
import { readAll as readAuditEntries } from '../../src/audit-log/audit-repository.js';
import { startOidcTestApp, type OidcTestApp } from '../helpers/oidc-app.js';
import { CookieJar, signInAtProvider, step } from '../helpers/oidc-provider.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';

async function entries(o: OidcTestApp, action: string) {
  const out = [];
  for await (const e of readAuditEntries(o.t.db)) if (e.action === action) out.push(e);
  return out;
}

/** How many bad callbacks were refused (and logged at a bounded rate, never audited), by reason. */
async function refusedCallbacks(o: OidcTestApp): Promise<Record<string, number>> {
  const text = await o.t.services.metrics.metrics();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/gallra_unauthenticated_refusals_total\{route="oidc-callback",problem="([^"]+)"\} (\d+)/g)) out[m[1]!] = Number(m[2]);
  return out;
}

async function upload(o: OidcTestApp): Promise<string> {
  const meta = callMeta(o.t.clock.now(), { queue: 'bygglov' });
  const { body, contentType } = recordingBody(meta, fixture('call-pcm16-8k.wav'));
  const res = await request(o.t.app).post('/v1/recordings').set(signedHeaders(body, o.t.clock.now())).set('Content-Type', contentType).send(body);
  expect(res.status).to.equal(201);
  return res.body.id;
}

/** Signs in as `login` through the provider and returns the jar holding gallra's session cookie. */
async function signIn(o: OidcTestApp, login: string): Promise<{ jar: CookieJar; res: Response }> {
  const jar = new CookieJar();
  const callback = await signInAtProvider(jar, o.base, login);
  const res = await step(jar, callback);
  return { jar, res };
}

async function api(o: OidcTestApp, jar: CookieJar, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await step(jar, `${o.base}${path}`, {
    method,
    headers: { accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text && /json/.test(res.headers.get('content-type') ?? '') ? JSON.parse(text) : text, headers: res.headers };
}

describe('Staff sign-in with an OpenID Connect provider (in-process oidc-provider, over HTTP)', function () {
  this.timeout(30_000);
  let o: OidcTestApp;
  beforeEach(async () => {
    o = await startOidcTestApp();
  });
  afterEach(async () => {
    sinon.restore();
    await o.close();
  });

  it('signs a trainer in with PKCE, state and nonce, rotates to a fresh Lax cookie and names the person in the audit log', async () => {
    const jar = new CookieJar();
    const start = await step(jar, `${o.base}/auth/sign-in`);
    expect(start.status).to.equal(303);
    const authorize = new URL(start.headers.get('location')!);
    expect(authorize.origin).to.equal(o.provider.issuer);
    expect(authorize.searchParams.get('code_challenge_method')).to.equal('S256');
    for (const p of ['state', 'nonce', 'code_challenge', 'redirect_uri']) expect(authorize.searchParams.get(p), p).to.be.a('string').and.not.empty;
    const jar2 = new CookieJar();
    const callback = await signInAtProvider(jar2, o.base, 'tove.trainer');
    const res = await step(jar2, callback);
    expect(res.status).to.equal(303);
    expect(res.headers.get('location')).to.equal('/');
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('gallra_session='))!;
    expect(cookie).to.match(/HttpOnly/i).and.match(/SameSite=Lax/i).and.match(/Path=\//);
    expect(jar2.get(o.base, 'gallra_sign_in'), 'the transaction cookie is gone').to.equal(undefined);

    const me = await api(o, jar2, 'GET', '/v1/session');
    expect(me.body).to.include({ role: 'trainer', name: 'Tove Utbildare', via: 'session' });
    expect(me.body.roles).to.deep.equal(['trainer']);
    const opened = await entries(o, 'session.opened');
    expect(opened).to.have.length(1);
    expect(opened[0]!.actor).to.equal('user:tove.trainer');
    expect(opened[0]!.details).to.include({ via: 'oidc', name: 'Tove Utbildare' });
    const user = await o.t.db('users').where({ id: 'tove.trainer' }).first();
    expect(user).to.include({ name: 'Tove Utbildare', email: 'tove@kommun.test', roles: 'trainer', issuer: o.provider.issuer });
  });

  it('gives a person in several mapped groups the union of their roles', async () => {
    const { jar } = await signIn(o, 'tilda.two-roles');
    const me = await api(o, jar, 'GET', '/v1/session');
    expect(me.body.role).to.equal('auditor');
    expect(me.body.roles).to.deep.equal(['auditor', 'trainer']);
    // Audit log (auditor) and playback (trainer) both open to her.
    expect((await api(o, jar, 'GET', '/v1/audit/verify')).status).to.equal(200);
    const id = await upload(o);
    const audio = await step(jar, `${o.base}/v1/recordings/${id}/audio`);
    expect(audio.status).to.equal(200);
    await audio.arrayBuffer();
    const played = await entries(o, 'recording.played');
    expect(played.map((e) => e.actor)).to.deep.equal(['user:tilda.two-roles']);
    const people = await api(o, jar, 'GET', '/v1/people');
    expect(people.body.items.find((p: { actor: string }) => p.actor === 'user:tilda.two-roles').name).to.equal('Tilda Tvåroll');
  });

  it('refuses a person with no mapped group with a Swedish page, audits it, and opens no session', async () => {
    const { jar, res } = await signIn(o, 'kalle.canteen');
    expect(res.status).to.equal(403);
    const html = await res.text();
    expect(res.headers.get('content-type')).to.match(/text\/html/);
    expect(html).to.contain('lang="sv"').and.contain('Du har inte behörighet till Gallra').and.contain('Kalle Kök');
    expect(jar.get(o.base, 'gallra_session')).to.equal(undefined);
    const failed = await entries(o, 'auth.failed');
    expect(failed.map((e) => [e.actor, e.details.reason])).to.deep.equal([['user:kalle.canteen', 'no-mapped-role']]);
    expect(await o.t.db('sessions').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
  });

  it('refuses a forged state', async () => {
    const jar = new CookieJar();
    const callback = new URL(await signInAtProvider(jar, o.base, 'adam.admin'));
    callback.searchParams.set('state', 'forged-state-value');
    const res = await step(jar, callback.href);
    expect(res.status).to.equal(400);
    expect(await res.text()).to.contain('Inloggningen kunde inte slutföras');
    expect(jar.get(o.base, 'gallra_session')).to.equal(undefined);
    // openid-client compares state before it redeems the code. Nobody is named: logged and counted, not audited.
    expect(await refusedCallbacks(o)).to.deep.equal({ OAUTH_INVALID_RESPONSE: 1 });
    expect(await entries(o, 'auth.failed')).to.deep.equal([]);
  });

  it('refuses a replayed authorization code', async () => {
    const jar = new CookieJar();
    const callback = await signInAtProvider(jar, o.base, 'adam.admin');
    const transaction = jar.get(o.base, 'gallra_sign_in')!;
    expect((await step(jar, callback)).status).to.equal(303);
    // The attacker replays the same callback with the same transaction cookie, in a fresh browser.
    const thief = new CookieJar();
    thief.set(o.base, 'gallra_sign_in', transaction);
    const replay = await step(thief, callback);
    expect(replay.status).to.equal(400);
    expect(thief.get(o.base, 'gallra_session')).to.equal(undefined);
    expect(await refusedCallbacks(o)).to.deep.equal({ invalid_grant: 1 });
  });

  it('refuses an ID token whose nonce is not the one sent', async () => {
    const jar = new CookieJar();
    const callback = await signInAtProvider(jar, o.base, 'adam.admin');
    const t = JSON.parse(Buffer.from(jar.get(o.base, 'gallra_sign_in')!, 'base64url').toString());
    jar.set(o.base, 'gallra_sign_in', Buffer.from(JSON.stringify({ ...t, nonce: 'not-the-nonce-that-was-sent' })).toString('base64url'));
    const res = await step(jar, callback);
    expect(res.status).to.equal(400);
    expect(jar.get(o.base, 'gallra_session')).to.equal(undefined);
    expect(await refusedCallbacks(o)).to.deep.equal({ OAUTH_JWT_CLAIM_COMPARISON_FAILED: 1 });
  });

  it('refuses a callback that was not started in this browser', async () => {
    const jar = new CookieJar();
    const callback = await signInAtProvider(jar, o.base, 'adam.admin');
    const res = await step(new CookieJar(), callback);
    expect(res.status).to.equal(400);
    expect(await res.text()).to.contain('startades inte från Gallra');
    expect(await refusedCallbacks(o)).to.deep.equal({ 'no-sign-in-started': 1 });
  });

  it('keeps whatever a sender writes into the callback\'s error parameter out of metrics and logs', async () => {
    const jar = new CookieJar();
    await step(jar, `${o.base}/auth/sign-in`);
    const state = JSON.parse(Buffer.from(jar.get(o.base, 'gallra_sign_in')!, 'base64url').toString()).state;
    const res = await step(jar, `${o.base}/auth/callback?error=${'x'.repeat(40)}-made-up&state=${state}&iss=${encodeURIComponent(o.provider.issuer)}`);
    expect(res.status).to.equal(400);
    expect(Object.keys(await refusedCallbacks(o))).to.have.length(1).and.not.to.include(`${'x'.repeat(40)}-made-up`);
    expect(o.t.logs()).not.to.contain('made-up');
  });

  it('signs out of gallra and sends the browser to the provider to end its session too', async () => {
    const { jar } = await signIn(o, 'adam.admin');
    const me = await api(o, jar, 'GET', '/v1/session');
    const out = await api(o, jar, 'DELETE', '/v1/session', undefined, { 'x-csrf-token': me.body.csrfToken });
    expect(out.status).to.equal(200);
    const url = new URL(out.body.signOutUrl);
    expect(url.origin).to.equal(o.provider.issuer);
    expect(url.searchParams.get('post_logout_redirect_uri')).to.equal(`${o.base}/`);
    expect(url.searchParams.get('client_id')).to.equal('gallra');
    expect((await api(o, jar, 'GET', '/v1/session')).status).to.equal(401);
    const closed = await entries(o, 'session.closed');
    expect(closed.map((e) => e.actor)).to.deep.equal(['user:adam.admin']);
    const page = await fetch(url);
    expect(page.status).to.equal(200);
    // Without a provider session of its own, the provider confirms the sign-out at once.
    expect(await page.text()).to.contain('/session/end/confirm');
  });

  it('refuses a state-changing request with only the cookie from another site', async () => {
    const { jar } = await signIn(o, 'adam.admin');
    const id = await upload(o);
    const forged = await step(jar, `${o.base}/v1/recordings/${id}/hold`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example' },
      body: 'reason=forged',
    });
    expect(forged.status).to.equal(403);
    expect(await o.t.db('holds').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
  });
});
