import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import request from 'supertest';
import { startOidcTestApp, type OidcTestApp } from '../helpers/oidc-app.js';
import { expectCleanState, LANGS_AND_WIDTHS } from '../helpers/page-checks.js';
import { CookieJar, signInAtProvider } from '../helpers/oidc-provider.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.resolve(import.meta.dirname, '../../test-output/screenshots');

/**
 * Staff sign in with the municipality's identity provider, in Debian's Chromium: gallra and a real
 * OpenID Connect provider (oidc-provider, in this process) on loopback ports, nothing else reachable.
 */
describe('Staff sign-in with OpenID Connect in a real browser', function () {
  this.timeout(120_000);
  let o: OidcTestApp;
  let browser: Browser;
  let recordingId: string;
  let evil: http.Server;
  let evilPort: number;

  before(async function () {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (npm test does it as root: scripts/test-setup.sh)`);
    mkdirSync(SHOTS, { recursive: true });
    o = await startOidcTestApp();
    const meta = callMeta(o.t.clock.now(), { queue: 'bygglov', agentId: 'agent-17' });
    const { body, contentType } = recordingBody(meta, fixture('call-pcm16-8k.wav'));
    const res = await request(o.t.app).post('/v1/recordings').set(signedHeaders(body, o.t.clock.now())).set('Content-Type', contentType).send(body);
    expect(res.status).to.equal(201);
    recordingId = res.body.id;
    // Another origin, whose page posts a form to gallra: the browser adds gallra's cookie where SameSite allows.
    evil = http.createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<!doctype html><form id="f" method="post" action="${o.base}/v1/recordings/${recordingId}/hold"><input name="reason" value="forged"></form><script>document.getElementById('f').submit()</script>`);
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    evilPort = (evil.address() as AddressInfo).port;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });

  after(async () => {
    await browser?.close();
    await new Promise((r) => evil?.close(r));
    await o?.close();
  });

  async function newContext(view?: { lang: string; width: number }): Promise<BrowserContext> {
    const context = await browser.newContext({ locale: 'sv-SE', viewport: { width: view?.width ?? 1200, height: 800 } });
    if (view) await context.addInitScript(`localStorage.setItem('gallra.lang', '${view.lang}');`);
    // Loopback only: the provider's development pages would otherwise reach for a web font.
    await context.route('**/*', (route) => {
      const host = new URL(route.request().url()).hostname;
      return host === '127.0.0.1' || host === 'localhost' ? route.continue() : route.abort();
    });
    return context;
  }

  /** From gallra's sign-in page through the provider's, as `login`; stops wherever gallra lands. */
  async function throughProvider(page: Page, login: string): Promise<void> {
    await page.goto(o.base + '/');
    await page.getByRole('link', { name: 'Logga in med kommunens konto' }).click();
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill('valfritt');
    await page.locator('button[type="submit"]').click();
    await page.waitForURL((u) => u.origin === o.base, { waitUntil: 'domcontentloaded' });
  }

  async function signIn(login: string): Promise<Page> {
    const page = await (await newContext()).newPage();
    await throughProvider(page, login);
    await page.locator('#who').filter({ hasText: 'Inloggad som' }).waitFor();
    return page;
  }

  const menu = (page: Page) => page.locator('#menu a').allTextContents();
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

  it('offers only the municipality sign-in when OIDC is configured (no token field)', async () => {
    const page = await (await newContext()).newPage();
    await page.goto(o.base + '/');
    await page.getByRole('link', { name: 'Logga in med kommunens konto' }).waitFor();
    expect(await page.getByLabel('Åtkomsttoken').count()).to.equal(0);
    await shot(page, 'oidc-sign-in');
    await page.context().close();
  });

  it('signs in each role, shows that role\'s menu, acts, and the audit log names the person', async () => {
    const trainer = await signIn('tove.trainer');
    expect(await trainer.locator('#who').textContent()).to.contain('Tove Utbildare').and.contain('utbildare');
    expect(await menu(trainer)).to.deep.equal(['Inspelningar']);
    const row = trainer.locator(`#recordings-list tr[data-id="${recordingId}"]`);
    await row.getByRole('button', { name: /Lyssna/ }).click();
    await trainer.waitForFunction(() => (document.querySelector<HTMLAudioElement>('#player')?.currentTime ?? 0) > 0.2, undefined, { timeout: 30_000 });
    await shot(trainer, 'oidc-trainer');
    await trainer.context().close();

    const admin = await signIn('adam.admin');
    expect(await menu(admin)).to.deep.equal(['Översikt', 'Inspelningar', 'Gallringsstopp', 'Nej till inspelning', 'Försenad gallring', 'Begäran från registrerad', 'Inleverans', 'Gallringsregler']);
    await admin.getByRole('link', { name: 'Gallringsstopp' }).click();
    await admin.getByLabel('Inspelnings-id').first().fill(recordingId);
    await admin.getByLabel('Skäl').fill('Begäran om utlämnande');
    await admin.getByRole('button', { name: 'Lägg gallringsstopp' }).click();
    await admin.locator('#holds-result .ok').waitFor();
    await admin.context().close();

    const auditor = await signIn('agnes.auditor');
    expect(await menu(auditor)).to.deep.equal(['Översikt', 'Inspelningar', 'Granskningslogg', 'Kedjeverifiering', 'Gallringsrapport', 'Försenad gallring', 'Gallringsregler']);
    await auditor.getByRole('link', { name: 'Granskningslogg' }).click();
    // The audit view names the action in words and the actor by name only; the rows of these two people are found by their names.
    await auditor.locator('#audit-list td.actor', { hasText: /^Tove Utbildare$/ }).first().waitFor();
    await auditor.locator('#audit-list td.actor', { hasText: /^Adam Administratör$/ }).first().waitFor();
    expect(await auditor.locator('#audit-list').textContent()).not.to.contain('user:tove.trainer');
    await shot(auditor, 'oidc-auditor-audit-log');
    await auditor.context().close();

    const entries = await o.t.db('audit_entries').whereIn('action', ['recording.played', 'hold.placed']).orderBy('seq');
    expect(entries.map((e) => [e.action, e.actor])).to.deep.equal([
      ['recording.played', 'user:tove.trainer'],
      ['hold.placed', 'user:adam.admin'],
    ]);
  });

  it('brings a person who opened a view by its address back to it after signing in with the provider, as token sign-in does', async () => {
    for (const [lang, width] of LANGS_AND_WIDTHS) {
      const sv = lang === 'sv';
      const page = await (await newContext({ lang, width })).newPage();
      await page.goto(o.base + '/#/holds');
      const link = page.getByRole('link', { name: sv ? 'Logga in med kommunens konto' : "Sign in with the municipality's account" });
      await link.waitFor();
      await expectCleanState(page, `signed out at #/holds ${lang} ${width}`);
      await link.click();
      await page.locator('input[name="login"]').fill('adam.admin');
      await page.locator('input[name="password"]').fill('valfritt');
      await page.locator('button[type="submit"]').click();
      await page.waitForURL((u) => u.origin === o.base, { waitUntil: 'domcontentloaded' });
      await page.locator('#who').filter({ hasText: sv ? 'Inloggad som' : 'Signed in as' }).waitFor();
      await page.getByRole('heading', { name: sv ? 'Gallringsstopp' : 'Holds', level: 1 }).waitFor();
      expect(new URL(page.url()).hash).to.equal('#/holds');
      // Once: the view asked for is not kept for later.
      expect(await page.evaluate(() => sessionStorage.getItem('gallra.returnTo'))).to.equal(null);
      await expectCleanState(page, `back at #/holds ${lang} ${width}`);
      await page.context().close();
    }
  });

  it('gives a person in two mapped groups both menus', async () => {
    const page = await signIn('tilda.two-roles');
    expect(await menu(page)).to.deep.equal(['Översikt', 'Inspelningar', 'Granskningslogg', 'Kedjeverifiering', 'Gallringsrapport', 'Försenad gallring', 'Gallringsregler']);
    await page.getByRole('link', { name: 'Inspelningar' }).click();
    await page.locator(`#recordings-list tr[data-id="${recordingId}"]`).waitFor();
    expect(await page.locator(`#recordings-list tr[data-id="${recordingId}"] button`).count(), 'the trainer role lets her play').to.equal(1);
    await page.context().close();
  });

  it('shows the Swedish refusal page to a person in no mapped group', async () => {
    const page = await (await newContext()).newPage();
    await throughProvider(page, 'kalle.canteen');
    await page.getByRole('heading', { name: 'Du har inte behörighet till Gallra' }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).to.equal('sv');
    expect(await page.textContent('body')).to.contain('Kalle Kök').and.contain('ingen av de grupper');
    await shot(page, 'oidc-no-role');
    expect((await page.context().cookies()).map((c) => c.name)).not.to.include('gallra_session');
    await page.context().close();
  });

  it('signs out of gallra and the provider, and Back shows nothing of what was there', async () => {
    const page = await signIn('adam.admin');
    await page.getByRole('link', { name: 'Inspelningar' }).click();
    await page.locator(`#recordings-list tr[data-id="${recordingId}"]`).waitFor();
    await page.getByRole('button', { name: 'Logga ut' }).click();
    // The provider asks (it has a session of its own), then sends the browser back to gallra.
    const confirm = page.getByRole('button', { name: 'Yes, sign me out' });
    await confirm.waitFor();
    await confirm.click();
    await page.waitForURL(`${o.base}/`);
    await page.getByRole('link', { name: 'Logga in med kommunens konto' }).waitFor();
    expect((await page.context().cookies(o.base)).map((c) => c.name)).not.to.include('gallra_session');
    for (let i = 0; i < 3; i++) {
      await page.goBack({ waitUntil: 'domcontentloaded' }).catch(() => undefined);
      await page.waitForLoadState('networkidle');
      if (new URL(page.url()).origin === o.base) await page.getByRole('link', { name: 'Logga in med kommunens konto' }).waitFor();
      const text = await page.textContent('body');
      expect(text, `after ${i + 1} × Back at ${page.url()}`).not.to.contain('bygglov').and.not.to.contain('Inloggad som');
      expect(await page.locator('#recordings-list').count()).to.equal(0);
    }
    expect((await page.context().request.get(`${o.base}/v1/session`)).status(), 'with whatever cookies the browser still has').to.equal(401);
    await page.context().close();
  });

  /**
   * Starts a sign-in and signs in at the provider, stopping just before the return to gallra: the
   * callback URL, with the sign-in's transaction cookie put into the browser `context`. (Over HTTP:
   * Chromium follows the provider's redirects to the callback by itself, and a route cannot stop a
   * redirect.)
   */
  async function stopAtCallback(context: BrowserContext, login: string): Promise<string> {
    const jar = new CookieJar();
    const callback = await signInAtProvider(jar, o.base, login);
    await context.addCookies([{ name: 'gallra_sign_in', value: jar.get(o.base, 'gallra_sign_in')!, domain: '127.0.0.1', path: '/auth', httpOnly: true, sameSite: 'Lax' }]);
    return callback;
  }

  it('refuses a forged state, a replayed code and a wrong nonce at the callback', async () => {
    const refusal = (page: Page) => page.getByRole('heading', { name: 'Inloggningen kunde inte slutföras' }).waitFor();

    // Forged state: the browser comes back with a state gallra never sent.
    const forged = await (await newContext()).newPage();
    const forgedUrl = new URL(await stopAtCallback(forged.context(), 'adam.admin'));
    forgedUrl.searchParams.set('state', 'forged');
    await forged.goto(forgedUrl.href);
    await refusal(forged);
    await forged.context().close();

    // Replayed code: the callback and the browser's transaction cookie, used once and sent again elsewhere.
    const victim = await (await newContext()).newPage();
    const callback = await stopAtCallback(victim.context(), 'adam.admin');
    const transaction = (await victim.context().cookies(`${o.base}/auth/callback`)).find((c) => c.name === 'gallra_sign_in')!;
    await victim.goto(callback);
    await victim.locator('#who').filter({ hasText: 'Adam' }).waitFor();
    await victim.context().close();
    const thiefContext = await newContext();
    await thiefContext.addCookies([transaction]);
    const thief = await thiefContext.newPage();
    await thief.goto(callback);
    await refusal(thief);
    expect((await thiefContext.cookies()).map((c) => c.name)).not.to.include('gallra_session');
    await thiefContext.close();

    // Wrong nonce: the ID token answers another sign-in than the one this browser started.
    const nonceContext = await newContext();
    const nonce = await nonceContext.newPage();
    const nonceUrl = await stopAtCallback(nonceContext, 'adam.admin');
    const started = (await nonceContext.cookies(`${o.base}/auth/callback`)).find((c) => c.name === 'gallra_sign_in')!;
    const t = JSON.parse(Buffer.from(started.value, 'base64url').toString());
    await nonceContext.addCookies([{ ...started, value: Buffer.from(JSON.stringify({ ...t, nonce: 'another-sign-in' })).toString('base64url') }]);
    await nonce.goto(nonceUrl);
    await refusal(nonce);
    await nonceContext.close();

    const metrics = await o.t.services.metrics.metrics();
    for (const reason of ['OAUTH_INVALID_RESPONSE', 'invalid_grant', 'OAUTH_JWT_CLAIM_COMPARISON_FAILED']) {
      expect(metrics).to.match(new RegExp(`gallra_unauthenticated_refusals_total\\{route="oidc-callback",problem="${reason}"\\} 1`));
    }
  });

  it('refuses a form posted from another origin with only the cookie (same site and cross site)', async () => {
    const page = await signIn('adam.admin');
    const before = await o.t.db('holds').count({ n: '*' });
    for (const host of ['127.0.0.1', 'localhost']) {
      const answer = page.waitForResponse((r) => r.url().endsWith(`/v1/recordings/${recordingId}/hold`));
      await page.goto(`http://${host}:${evilPort}/`);
      const res = await answer;
      // Same site (another port): the Lax cookie goes along, the Origin check refuses. Cross site: no cookie at all.
      expect(res.status(), host).to.equal(host === '127.0.0.1' ? 403 : 401);
      if (host === '127.0.0.1') expect((await res.json()).type).to.match(/csrf-check-failed$/);
    }
    expect(await o.t.db('holds').count({ n: '*' })).to.deep.equal(before);
    await page.context().close();
  });
});
