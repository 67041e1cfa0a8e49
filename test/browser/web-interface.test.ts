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
import { callMeta, fixture, recordingBody, signedHeaders, silentWav } from '../helpers/webhook.js';
import { englishOnlyStrings, englishShown, focusRing, sidewaysOverflow } from '../helpers/page-checks.js';

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
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (npm test does it as root: scripts/test-setup.sh)`);
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
    // Functions passed to page.evaluate are compiled by tsx, which names them with a `__name` helper.
    await context.addInitScript('globalThis.__name = (f) => f');
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

    await row.getByRole('button', { name: /Lyssna/ }).click();
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
    await row.getByRole('button', { name: /Lyssna/ }).click();
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

  it('keeps the trainer filter in the address through a reload and a language switch, and plays in a sticky player with ±10 s and speed', async () => {
    const page = await signIn('trainer');
    await page.locator('#recordings-list table').waitFor();
    await page.getByLabel('Kö').fill('lång');
    await page.getByRole('button', { name: 'Filtrera' }).click();
    await page.waitForFunction(() => decodeURIComponent(location.hash) === '#/recordings?queue=lång');
    const rows = page.locator('#recordings-list tbody tr');
    await page.waitForFunction(() => {
      const trs = [...document.querySelectorAll('#recordings-list tbody tr')];
      return trs.length > 0 && trs.every((r) => r.textContent!.includes('lång'));
    });
    expect(await rows.count()).to.equal(1);
    await page.reload();
    await page.locator(`#recordings-list tr[data-id="${longId}"]`).waitFor();
    expect(await page.getByLabel('Kö').inputValue()).to.equal('lång');
    expect(await rows.count()).to.equal(1);
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByLabel('Queue').waitFor();
    expect(await page.getByLabel('Queue').inputValue()).to.equal('lång');
    await page.getByRole('button', { name: 'Svenska' }).click();
    await page.locator(`#recordings-list tr[data-id="${longId}"]`).waitFor();

    await page.locator(`#recordings-list tr[data-id="${longId}"]`).getByRole('button', { name: /Lyssna/ }).click();
    await page.waitForFunction(() => (document.querySelector<HTMLAudioElement>('#player')?.currentTime ?? 0) > 0.2, undefined, { timeout: 30_000 });
    expect(await page.locator(`#recordings-list tr[data-id="${longId}"]`).getAttribute('aria-current')).to.equal('true');
    expect(await page.locator('#player-section').evaluate((el) => getComputedStyle(el).position)).to.equal('sticky');
    const before = await page.evaluate(() => document.querySelector<HTMLAudioElement>('#player')!.currentTime);
    await page.getByRole('button', { name: 'Spola fram 10 sekunder' }).click();
    await page.waitForFunction((b) => document.querySelector<HTMLAudioElement>('#player')!.currentTime >= b + 10, before, { timeout: 30_000 });
    await page.getByRole('button', { name: 'Spola tillbaka 10 sekunder' }).click();
    const back = await page.evaluate(() => document.querySelector<HTMLAudioElement>('#player')!.currentTime);
    expect(back).to.be.below(before + 10);
    await page.getByLabel('Hastighet').selectOption('2');
    expect(await page.evaluate(() => document.querySelector<HTMLAudioElement>('#player')!.playbackRate)).to.equal(2);
    await page.getByLabel('Hastighet').selectOption('0.75');
    expect(await page.evaluate(() => document.querySelector<HTMLAudioElement>('#player')!.playbackRate)).to.equal(0.75);
    await shot(page, 'trainer-sticky-player');
    await page.context().close();
  });

  it('stays usable at 200 % zoom and from the keyboard', async () => {
    // 200 % zoom of a 1280 px window: a 640 px wide layout viewport at twice the pixel density.
    const page = await signIn('trainer', { width: 640, height: 900, deviceScaleFactor: 2 });
    await page.locator(`#recordings-list tr[data-id="${recordingId}"]`).waitFor();
    const overflow = await page.evaluate(sidewaysOverflow);
    expect(overflow, 'no sideways scrolling of the page').to.be.at.most(0);
    await shot(page, 'trainer-recordings-200-percent');
    await page.locator('input[name="queue"]').focus();
    await page.keyboard.type('bygglov');
    await page.keyboard.press('Enter');
    await page.locator(`#recordings-list tr[data-id="${recordingId}"]`).waitFor();
    await page.context().close();
  });

  it('shows a trainer who opens an auditor view by URL a Swedish refusal page, and the server refuses too', async () => {
    const page = await signIn('trainer');
    expect(await page.getByRole('link', { name: 'Granskningslogg' }).count(), 'not in the menu').to.equal(0);
    const auditCalls: string[] = [];
    page.on('request', (r) => { if (new URL(r.url()).pathname === '/v1/audit') auditCalls.push(r.url()); });
    await page.goto(base + '/#/audit');
    const refusal = page.locator('#refused');
    await refusal.waitFor();
    expect(await refusal.getByRole('heading', { level: 1 }).textContent()).to.equal('Du har inte behörighet');
    expect(await page.locator('#audit-list').count()).to.equal(0);
    expect(auditCalls, 'the page does not even ask').to.deep.equal([]);
    await refusal.getByRole('link', { name: 'Till startsidan' }).click();
    await page.locator('#recordings-list').waitFor();
    const direct = await page.evaluate(async () => (await fetch('/v1/audit', { headers: { Accept: 'application/json' } })).status);
    expect(direct, 'the server decides, not the menu').to.equal(403);
    await shot(page, 'trainer-refused-audit');
    await page.context().close();
  });

  it('sends an expired session back to sign-in with a Swedish message, and back to the same view afterwards', async () => {
    const page = await signIn('auditor');
    await page.getByRole('link', { name: 'Gallringsrapport' }).click();
    await page.locator('#report dl').waitFor();
    // The session expires under the user (absolute expiry), as it would after a working day.
    await t.db('sessions').whereNull('closed_at').update({ expires_at: new Date(t.clock.now().getTime() - 1000).toISOString() });
    await page.getByRole('button', { name: 'Visa' }).click();
    await page.getByRole('heading', { name: 'Logga in' }).waitFor();
    expect(await page.locator('.note').textContent()).to.contain('Du har blivit utloggad');
    expect(await page.locator('#who').textContent()).to.equal('');
    expect(await page.locator('main').textContent()).not.to.match(/Authentication required|Bearer/);
    await page.getByLabel('Åtkomsttoken').fill(tokens.auditor);
    await page.getByRole('button', { name: 'Logga in' }).click();
    await page.locator('#report dl').waitFor();
    expect(new URL(page.url()).hash).to.equal('#/report');
    await page.context().close();
  });

  it('draws a focus ring of at least 3:1 against the background behind every focusable element', async () => {
    const page = await signIn('admin');
    const seen = new Set<string>();
    for (const view of ['holds', 'optOuts', 'recordings']) {
      await page.goto(`${base}/#/${view}`);
      await page.locator('main h1').waitFor();
      await page.locator('body').focus();
      for (let i = 0; i < 25; i++) {
        await page.keyboard.press('Tab');
        const ring = await page.evaluate(focusRing);
        if (!ring) continue;
        seen.add(ring.background);
        expect(ring.width, `${ring.what}: ring width`).to.be.at.least(2);
        expect(ring.ratio, `${ring.what}: ${ring.outline} on ${ring.background}`).to.be.at.least(3);
      }
    }
    expect(seen.size, [...seen].join(' ')).to.be.at.least(2);
    await page.context().close();
  });

  it('shows no text from the English catalogue in the Swedish interface, on every page each role visits', async () => {
    for (const [role, views] of [['trainer', ['recordings']], ['auditor', ['recordings', 'audit', 'verification', 'report', 'overdue']], ['admin', ['recordings', 'holds', 'optOuts', 'overdue', 'subjectRequests']]] as const) {
      const page = await signIn(role);
      const english = await page.evaluate(englishOnlyStrings);
      expect(english.length).to.be.greaterThan(50);
      for (const view of views) {
        await page.goto(`${base}/#/${view}`);
        await page.locator('main h1').waitFor();
        await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'));
        const found = await page.evaluate(englishShown, english);
        expect(found, `${role} #/${view}`).to.deep.equal([]);
      }
      await page.goto(`${base}/#/holds`);
      await page.locator('main h1').waitFor();
      await page.context().close();
    }
    // A server problem shows in Swedish too, with the English detail only as a secondary line.
    const page = await signIn('admin');
    await page.goto(`${base}/#/holds`);
    await page.getByLabel('Inspelnings-id').first().fill('mc-2026-0024');
    await page.getByLabel('Skäl').fill('Begäran om utlämnande');
    await page.getByRole('button', { name: 'Lägg gallringsstopp' }).click();
    const problem = page.locator('#holds-result .problem');
    await problem.waitFor();
    expect(await problem.locator('.message').textContent()).to.match(/^(Inspelningen finns inte\.|Uppgifterna är felaktigt ifyllda\.)$/);
    const english = await page.evaluate(englishOnlyStrings);
    expect(await page.evaluate(englishShown, english)).to.deep.equal([]);
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
    expect(await page.locator('#audit-list').textContent()).to.contain('inspelning sparad').and.not.contain('recording.ingested');
    await shot(page, 'auditor-audit-log');

    await page.getByRole('link', { name: 'Gallringsrapport' }).click();
    await page.locator('#report dl').waitFor();
    await shot(page, 'auditor-retention-report');
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#report-csv').click()]);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(download.suggestedFilename()).to.match(/\.csv$/);
    expect(csv.split('\n')[0]).to.contain(';');
    withoutCaller(csv);
    await page.context().close();
  });

  it('pages the auditor through the whole retention report, with totals, outcomes in Swedish and a CSV for Swedish Excel', async () => {
    // Enough calls for several pages, older than the fixture calls so that the trainer's first page stays the same.
    for (let i = 0; i < 110; i++) {
      const wav = recordingBody(callMeta(t.clock.now(), { queue: i % 2 ? 'Bygglov' : 'skola', agentId: `agent-${i % 7}` }, 180 + i * 30), silentWav(1));
      const res = await request(t.app).post('/v1/recordings').set(signedHeaders(wav.body, t.clock.now())).set('Content-Type', wav.contentType).send(wav.body);
      expect(res.status).to.equal(201);
    }
    const page = await signIn('auditor');
    await page.getByRole('link', { name: 'Gallringsrapport' }).click();
    const totals = page.locator('#report-totals');
    await totals.waitFor();
    const all = Number(await totals.locator('dd[data-outcome="all"]').textContent());
    expect(all).to.be.at.least(112);
    expect(Number(await totals.locator('dd[data-outcome="stored-not-yet-due"]').textContent())).to.equal(all);
    expect(await totals.textContent()).to.contain('sparad, inte förfallen').and.contain('raderad för sent');
    const heads = await page.locator('#report thead th').count();
    const ids = new Set<string>();
    for (let p = 0; p < 10; p++) {
      const rows = page.locator('#report tbody tr');
      for (const row of await rows.all()) {
        expect(await row.locator('td').count(), 'every row has one cell per heading').to.equal(heads);
        ids.add((await row.getAttribute('data-id'))!);
      }
      expect(await rows.first().locator('td').nth(5).textContent()).to.equal('sparad, inte förfallen');
      const next = page.getByRole('button', { name: 'Nästa sida' });
      if (await next.isDisabled()) break;
      const before = await page.locator('#report-page').textContent();
      await next.click();
      await page.locator('#report-page').filter({ hasNotText: before! }).waitFor();
    }
    expect(ids.size, 'every recording of the period, each once').to.equal(all);
    expect(await page.locator('#report-page').textContent()).to.equal(`Sida ${Math.ceil(all / 50)} av ${Math.ceil(all / 50)}`);

    await page.getByLabel('Utfall').selectOption('overdue');
    expect(await page.locator('#report-rows').textContent()).to.equal('Inga träffar.');
    await page.getByLabel('Utfall').selectOption('');

    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#report-csv').click()]);
    const bytes = readFileSync((await download.path())!);
    expect([...bytes.subarray(0, 3)], 'UTF-8 byte-order mark').to.deep.equal([0xef, 0xbb, 0xbf]);
    expect(download.suggestedFilename()).to.equal('gallringsrapport.csv');
    const lines = bytes.toString('utf8').slice(1).trimEnd().split('\r\n');
    const header = lines[0].split(';');
    expect(header).to.include.members(['Samtals-id', 'Inspelnings-id', 'Utfall']);
    const data = lines.slice(1);
    expect(data.map((l) => l.split(';')[1]).sort(), 'the whole period, not one page, and nothing else').to.deep.equal([...ids].sort());
    for (const l of data) expect(l.split(';')).to.have.length(header.length);
    const [totalsFile] = await Promise.all([page.waitForEvent('download'), page.locator('#report-totals-csv').click()]);
    expect(totalsFile.suggestedFilename()).to.equal('gallringsrapport-summering.csv');
    expect(readFileSync((await totalsFile.path())!, 'utf8').split('\r\n')).to.include(`Antal samtal;${all};`);

    // Lateness in words, as the report shows it.
    const words = await page.evaluate(async () => {
      const { durationWords } = await import('/text.js' as string);
      return [durationWords('sv', 27 * 3_600_000), durationWords('en', 2 * 86_400_000 + 5 * 60_000)];
    });
    expect(words).to.deep.equal(['1 dag 3 tim', '2 days']);
    await page.context().close();
  });

  it('lets an admin place and release a hold and see the overdue list and the opt-out forms', async () => {
    const page = await signIn('admin');
    await page.getByRole('link', { name: 'Gallringsstopp' }).click();
    await page.getByLabel('Inspelnings-id').first().fill(recordingId);
    await page.getByLabel('Skäl').fill('Begäran om utlämnande');
    await page.getByRole('button', { name: 'Lägg gallringsstopp' }).click();
    await page.locator('#holds-result .ok').waitFor();
    expect(await page.locator('#holds-result').textContent()).to.equal(`Gallringsstopp lagt på inspelning ${recordingId}, tills vidare. Den raderas inte förrän stoppet hävs eller löper ut.`);
    await shot(page, 'admin-holds');
    const held = page.locator(`#holds-list tr[data-id="${recordingId}"]`);
    expect(await held.textContent()).to.contain('Begäran om utlämnande').and.contain('tills vidare');
    // The placement's answer is still shown: clear it, so the wait below is for the release's own answer.
    await page.locator('#holds-result').evaluate((el) => el.replaceChildren());
    await held.getByRole('button', { name: /^Häv/ }).click();
    await page.locator('#holds-result .ok').waitFor();
    expect(await page.locator('#holds-result').textContent()).to.contain('är hävt').and.not.contain('{');
    expect(await t.db('audit_entries').whereIn('action', ['hold.placed', 'hold.released']).count({ n: '*' }).first()).to.deep.include({ n: 2 });

    await page.getByRole('link', { name: 'Försenad gallring' }).click();
    await page.locator('#overdue-count').waitFor();
    expect(await page.locator('#overdue .problem').count()).to.equal(0);
    await shot(page, 'admin-overdue');
    await page.getByRole('link', { name: 'Nej till inspelning' }).click();
    await page.getByRole('button', { name: 'Registrera' }).waitFor();
    await page.locator('input[name="removeNumber"]').fill('+46 70 000 00 00');
    await page.getByRole('button', { name: 'Ta bort' }).click();
    await page.locator('#opt-outs-result .ok').waitFor();
    expect(await page.locator('#opt-outs-result').textContent()).to.equal('Numret fanns inte registrerat. Inget ändrades.');
    await shot(page, 'admin-opt-outs');

    await page.getByRole('button', { name: 'Logga ut' }).click();
    await page.getByRole('heading', { name: 'Logga in' }).waitFor();
    const cookies = await page.context().cookies();
    expect(cookies.filter((c) => c.name === 'gallra_session')).to.have.length(0);
    await page.context().close();
  });
});
