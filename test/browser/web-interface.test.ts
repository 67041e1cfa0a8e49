import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import path from 'node:path';
import { expect } from 'chai';
import { chromium, type Browser, type Page } from 'playwright-core';
import sinon from 'sinon';
import request from 'supertest';
import type { Role } from '../../src/shared/principal.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.resolve(import.meta.dirname, '../../test-output/screenshots');
/** The caller of the posted calls, and every way it may be spelled: none may appear in a page or a download. */
const CALLER = '+46701234567';
const CALLER_SPELLINGS = [CALLER, '0046701234567', '46701234567', '0701234567', '070-123 45 67', '070-1234567', '70 123 45 67', '701234567'];
const withoutCaller = (text: string) => expect(CALLER_SPELLINGS.filter((n) => text.includes(n)), 'caller number found').to.deep.equal([]);

/**
 * The web interface in Debian's Chromium (never a downloaded browser), against the real app on a
 * loopback port: each role signs in with a token, and the server's refusals show in the page.
 */
describe('Web interface in a real browser', function () {
  this.timeout(120_000);
  let t: TestApp;
  let server: Server;
  let base: string;
  let browser: Browser;
  let recordingId: string;
  let longId: string;
  const tokens = {} as Record<Role, string>;

  before(async function () {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
    mkdirSync(SHOTS, { recursive: true });
    // The audit checkpoints sign with Ed25519; the shared test config leaves the key empty.
    const auditSigningKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    t = await startTestApp({ config: { auditSigningKey, maxRecordingBytes: 64 * 1024 * 1024 } });
    server = t.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const r of ['trainer', 'auditor', 'admin'] as const) tokens[r] = await t.token(r);
    const meta = callMeta(t.clock.now(), { queue: 'bygglov', agentId: 'agent-17', caller: CALLER });
    const { body, contentType } = recordingBody(meta, fixture('call-pcm16-8k.wav'));
    const res = await request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body);
    expect(res.status).to.equal(201);
    recordingId = res.body.id;
    // A long call, so that seeking far ahead needs bytes the browser has not fetched yet.
    const longMeta = callMeta(t.clock.now(), { queue: 'lång', agentId: 'agent-99', caller: CALLER }, 60);
    const long = recordingBody(longMeta, silentWav(40 * 60));
    const longRes = await request(t.app).post('/v1/recordings').set(signedHeaders(long.body, t.clock.now())).set('Content-Type', long.contentType).send(long.body);
    expect(longRes.status).to.equal(201);
    longId = longRes.body.id;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--autoplay-policy=no-user-gesture-required'],
    });
  });

  after(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
    await t?.close();
  });

  afterEach(() => sinon.restore());

  async function signIn(role: Role, view: { width: number; height: number; deviceScaleFactor?: number } = { width: 1200, height: 800 }): Promise<Page> {
    const { deviceScaleFactor, ...viewport } = view;
    const context = await browser.newContext({ acceptDownloads: true, viewport, deviceScaleFactor, locale: 'sv-SE' });
    const page = await context.newPage();
    await page.goto(base + '/');
    await page.getByLabel('Åtkomsttoken').fill(tokens[role]);
    await page.getByRole('button', { name: 'Logga in' }).click();
    await page.locator('#who').filter({ hasText: 'Inloggad som' }).waitFor();
    return page;
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

  it('shows the sign-in page in Swedish, with an English toggle, and keeps the token out of the page', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(base + '/');
    expect(await page.locator('html').getAttribute('lang')).to.equal('sv');
    await page.getByRole('heading', { name: 'Logga in' }).waitFor();
    await shot(page, 'sign-in');
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).to.equal('en');
    await page.getByRole('button', { name: 'Svenska' }).click();
    await page.getByLabel('Åtkomsttoken').fill('glr_not-a-real-token');
    await page.getByRole('button', { name: 'Logga in' }).click();
    await page.locator('.problem[data-status="401"]').waitFor();
    await page.context().close();
  });

  it("lists the trainer's fixture call, plays it and seeks within it over Range requests", async () => {
    const page = await signIn('trainer');
    const audioResponses: { status: number; range?: string; contentRange?: string }[] = [];
    page.on('response', (res) => {
      if (res.url().endsWith(`/v1/recordings/${recordingId}/audio`)) {
        audioResponses.push({ status: res.status(), range: res.request().headers()['range'], contentRange: res.headers()['content-range'] });
      }
    });
    const row = page.locator(`#recordings-list tr[data-id="${recordingId}"]`);
    await row.waitFor();
    expect(await row.textContent()).to.contain('bygglov').and.contain('agent-17').and.contain('0:11').and.contain('30');
    withoutCaller(await page.content());
    await shot(page, 'trainer-recordings');

    await row.getByRole('button', { name: /Spela/ }).click();
    await page.waitForFunction(() => {
      const a = document.querySelector<HTMLAudioElement>('#player');
      return !!a && a.currentTime > 0.5;
    }, undefined, { timeout: 30_000 });
    const started = await page.evaluate(() => document.querySelector<HTMLAudioElement>('#player')!.currentTime);
    expect(started).to.be.greaterThan(0.5);

    await page.evaluate(() => {
      document.querySelector<HTMLAudioElement>('#player')!.currentTime = 8;
    });
    await page.waitForFunction(() => document.querySelector<HTMLAudioElement>('#player')!.currentTime > 8.3, undefined, { timeout: 30_000 });
    await shot(page, 'trainer-player');

    const ranged = audioResponses.filter((r) => r.range);
    expect(ranged.length, JSON.stringify(audioResponses)).to.be.greaterThan(0);
    for (const r of ranged) {
      expect(r.status).to.equal(206);
      expect(r.contentRange).to.match(/^bytes \d+-\d+\/183828$/);
    }
    const played = await t.db('audit_entries').where({ action: 'recording.played' });
    expect(played.length, 'one listening, one entry, however many range requests').to.equal(1);
    await page.context().close();
  });

  it('seeks far into a long call with a Range request that the server answers 206', async () => {
    const page = await signIn('trainer');
    const audio: { status: number; range?: string; contentRange?: string }[] = [];
    page.on('response', (res) => {
      if (res.url().endsWith(`/v1/recordings/${longId}/audio`)) audio.push({ status: res.status(), range: res.request().headers()['range'], contentRange: res.headers()['content-range'] });
    });
    const row = page.locator(`#recordings-list tr[data-id="${longId}"]`);
    await row.waitFor();
    await row.getByRole('button', { name: /Spela/ }).click();
    await page.waitForFunction(() => (document.querySelector<HTMLAudioElement>('#player')?.currentTime ?? 0) > 0.2, undefined, { timeout: 30_000 });
    await page.evaluate(() => {
      document.querySelector<HTMLAudioElement>('#player')!.currentTime = 35 * 60;
    });
    await page.waitForFunction(() => document.querySelector<HTMLAudioElement>('#player')!.currentTime > 35 * 60 + 0.3, undefined, { timeout: 30_000 });
    const seeks = audio.filter((r) => r.range && !/^bytes=0-/.test(r.range));
    expect(seeks.length, JSON.stringify(audio)).to.be.greaterThan(0);
    for (const r of seeks) {
      expect(r.status).to.equal(206);
      expect(r.contentRange).to.match(/^bytes [1-9]\d*-\d+\/\d+$/);
    }
    const played = await t.db('audit_entries').where({ action: 'recording.played', subject: `recording:${longId}` });
    expect(played, 'the seek is part of the same listening').to.have.length(1);
    await page.context().close();
  });

  it('stays usable at 200 % zoom and from the keyboard', async () => {
    // 200 % zoom of a 1280 px window: a 640 px wide layout viewport at twice the pixel density.
    const page = await signIn('trainer', { width: 640, height: 900, deviceScaleFactor: 2 });
    await page.locator(`#recordings-list tr[data-id="${recordingId}"]`).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, 'no sideways scrolling of the page').to.be.at.most(0);
    await shot(page, 'trainer-recordings-200-percent');
    await page.locator('input[name="queue"]').focus();
    await page.keyboard.type('bygglov');
    await page.keyboard.press('Enter');
    await page.locator(`#recordings-list tr[data-id="${recordingId}"]`).waitFor();
    await page.context().close();
  });

  it('refuses a trainer who navigates to an auditor page, from the server', async () => {
    const page = await signIn('trainer');
    expect(await page.getByRole('link', { name: 'Granskningslogg' }).count(), 'not in the menu').to.equal(0);
    await page.goto(base + '/#/audit');
    const refusal = page.locator('.problem[data-status="403"]');
    await refusal.waitFor();
    expect(await refusal.textContent()).to.contain('Åtkomst nekad');
    expect(await page.locator('#audit-list table').count()).to.equal(0);
    await shot(page, 'trainer-refused-audit');
    await page.context().close();
  });

  it('shows the auditor the chain verification with the latest checkpoint, the audit log, and downloads the retention CSV', async () => {
    const checkpoint = await t.services.auditCheckpoints.create();
    expect(checkpoint).not.to.equal(null);
    const page = await signIn('auditor');
    await page.getByRole('link', { name: 'Kedjeverifiering' }).click();
    const status = page.locator('#chain-status');
    await status.waitFor();
    expect(await status.getAttribute('data-ok')).to.equal('true');
    expect(await status.textContent()).to.equal('Kedjan är obruten');
    await page.locator('#latest-checkpoint').waitFor();
    await shot(page, 'auditor-verification');

    await page.getByRole('link', { name: 'Granskningslogg' }).click();
    await page.locator('#audit-list table').waitFor();
    expect(await page.locator('#audit-list').textContent()).to.contain('recording.ingested');
    await shot(page, 'auditor-audit-log');

    await page.getByRole('link', { name: 'Gallringsrapport' }).click();
    await page.locator('#report dl').waitFor();
    await shot(page, 'auditor-retention-report');
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#report-csv').click()]);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(download.suggestedFilename()).to.match(/\.csv$/);
    expect(csv.split('\n')[0]).to.contain(',');
    withoutCaller(csv);
    await page.context().close();
  });

  it('lets an admin place and release a hold and see the overdue list and the opt-out forms', async () => {
    const page = await signIn('admin');
    await page.getByRole('link', { name: 'Spärrar' }).click();
    await page.getByLabel('Inspelnings-id').first().fill(recordingId);
    await page.getByLabel('Anledning').fill('Begäran om utlämnande');
    await page.getByRole('button', { name: 'Lägg spärr' }).click();
    await page.locator('#holds-result .ok').waitFor();
    await shot(page, 'admin-holds');
    await page.locator('input[name="releaseId"]').fill(recordingId);
    // The placement's answer is still shown: clear it, so the wait below is for the release's own answer.
    await page.locator('#holds-result').evaluate((el) => el.replaceChildren());
    await page.getByRole('button', { name: 'Släpp spärr' }).click();
    await page.locator('#holds-result .ok').waitFor();
    expect(await t.db('audit_entries').whereIn('action', ['hold.placed', 'hold.released']).count({ n: '*' }).first()).to.deep.include({ n: 2 });

    await page.getByRole('link', { name: 'Försenad gallring' }).click();
    await page.locator('#overdue p').first().waitFor();
    expect(await page.locator('#overdue .problem').count()).to.equal(0);
    await shot(page, 'admin-overdue');
    await page.getByRole('link', { name: 'Avregistreringar' }).click();
    await page.getByRole('button', { name: 'Registrera' }).waitFor();
    await shot(page, 'admin-opt-outs');

    await page.getByRole('button', { name: 'Logga ut' }).click();
    await page.getByRole('heading', { name: 'Logga in' }).waitFor();
    const cookies = await page.context().cookies();
    expect(cookies.filter((c) => c.name === 'gallra_session')).to.have.length(0);
    await page.context().close();
  });
});

/** A PCM WAV of silence (8 kHz, 16-bit, mono). */
function silentWav(seconds: number): Buffer {
  const data = 8000 * 2 * seconds;
  const head = Buffer.alloc(44);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(36 + data, 4);
  head.write('WAVEfmt ', 8, 'latin1');
  head.writeUInt32LE(16, 16);
  head.writeUInt16LE(1, 20);
  head.writeUInt16LE(1, 22);
  head.writeUInt32LE(8000, 24);
  head.writeUInt32LE(16000, 28);
  head.writeUInt16LE(2, 32);
  head.writeUInt16LE(16, 34);
  head.write('data', 36, 'latin1');
  head.writeUInt32LE(data, 40);
  return Buffer.concat([head, Buffer.alloc(data)]);
}
