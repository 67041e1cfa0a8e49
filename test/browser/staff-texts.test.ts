import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { expect } from 'chai';
import { chromium, type Browser, type Page } from 'playwright-core';
import request from 'supertest';
import { DAY_MS } from '../../src/shared/clock.js';
import { addDays, localDateOf } from '../../src/subject-requests/index.js';
import { expectCleanState, LANGS_AND_WIDTHS as VIEWS, type Lang } from '../helpers/page-checks.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';

const CHROMIUM = '/usr/bin/chromium';

/** What staff read, page by page: words and local times, not codes; counts that match their rows. */
describe('What staff read, in a real browser: the overdue list, the chain verification, holds and cases', function () {
  this.timeout(180_000);
  let t: TestApp;
  let server: Server;
  let base: string;
  let browser: Browser;
  let admin: string;
  const ids: Record<string, string> = {};
  const cases: Record<string, string> = {};

  async function ingest(name: string, caller: string) {
    const meta = callMeta(t.clock.now(), { caller, queue: 'bygglov' });
    const { body, contentType } = recordingBody(meta, fixture('call-8k.mp3'));
    const res = await request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body);
    expect(res.status).to.equal(201);
    ids[name] = res.body.id;
  }
  const api = (method: 'post' | 'get', path: string, body?: object) => request(t.app)[method](path).set('Authorization', `Bearer ${admin}`).send(body);

  before(async function () {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing`);
    t = await startTestApp();
    admin = await t.token('admin');
    // Two calls 31 days old, past their deadline (retention has not run): one unheld, one held.
    t.clock.advance(-31 * DAY_MS);
    await ingest('late', '+46701110001');
    await ingest('lateHeld', '+46701110001');
    t.clock.advance(31 * DAY_MS);
    expect((await api('post', `/v1/recordings/${ids.lateHeld}/hold`, { reason: 'Begäran om allmän handling' })).status).to.equal(201);
    // A call of a caller with an open access case (its preservation hold), an overdue case, and an answered one.
    await ingest('preserved', '+46702220002');
    // One call per language and width to place a hold on with the holds form.
    for (const [lang, width] of VIEWS) await ingest(`hold ${lang} ${width}`, '+46706660006');
    const today = localDateOf(t.clock.now());
    const open = async (name: string, kind: string, number: string, receivedAt: string) => {
      const res = await api('post', '/v1/subject-requests', { kind, number, receivedAt, reference: `KS ${name}` });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      cases[name] = res.body.id;
    };
    await open('access', 'access', '070-222 00 02', today);
    await open('overdue', 'erasure', '070-333 00 03', addDays(today, -40));
    await open('answered', 'restriction', '070-444 00 04', addDays(today, -10));
    expect((await api('post', `/v1/subject-requests/${cases.answered}/answer`)).status).to.equal(200);
    // A tombstone nobody audited: the retention report's discrepancy.
    await ingest('planted', '+46705550005');
    await t.db('recordings').where({ id: ids.planted }).update({ status: 'deleted', deleted_at: t.clock.now().toISOString(), reason: 'retention-expired' });
    server = t.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });

  after(async () => {
    await browser?.close();
    if (server) await new Promise((r) => server.close(r));
    await t?.close();
  });

  async function signIn(lang: Lang, width: number): Promise<Page> {
    const context = await browser.newContext({ viewport: { width, height: 900 }, locale: 'sv-SE' });
    await context.addInitScript(`globalThis.__name = (f) => f; localStorage.setItem('gallra.lang', '${lang}');`);
    const page = await context.newPage();
    await page.goto(base + '/');
    await page.locator('#token').fill(admin);
    await page.locator('#sign-in button[type="submit"]').click();
    await page.locator('#who').filter({ hasText: lang === 'sv' ? 'Inloggad som' : 'Signed in as' }).waitFor();
    return page;
  }

  it('counts as overdue only the calls without a hold, and lists the held ones apart as kept on purpose', async () => {
    for (const [lang, width] of VIEWS) {
      const page = await signIn(lang, width);
      await page.goto(`${base}/#/overdue`);
      await page.locator('#overdue-count').waitFor();
      const sv = lang === 'sv';
      expect(await page.locator('#overdue-count').textContent()).to.equal(sv ? 'Försenade: 1' : 'Overdue: 1');
      expect(await page.locator('#overdue-held').textContent()).to.equal(sv ? 'Sparas efter gallringsdagen på grund av gallringsstopp: 1' : 'Kept past the deadline because of a hold: 1');
      const heldRow = page.locator(`#overdue-held-list tr[data-id="${ids.lateHeld}"]`);
      expect(await heldRow.textContent()).to.include(sv ? 'efter gallringsdagen' : 'past the deadline').and.not.include(sv ? 'över tiden' : 'overdue');
      expect(await page.locator(`#overdue tr[data-id="${ids.late}"]`).textContent()).to.include(sv ? 'över tiden' : 'overdue');
      await expectCleanState(page, `overdue ${lang} ${width}`);
      await page.context().close();
    }
  });

  it('shows the chain verification in words and Stockholm time, not as field names', async () => {
    expect((await api('post', '/v1/audit/checkpoints')).status).to.be.oneOf([200, 201]);
    for (const [lang, width] of VIEWS) {
      const page = await signIn(lang, width);
      await page.goto(`${base}/#/verification`);
      await page.locator('#latest-checkpoint').waitFor();
      const labels = await page.locator('#verification dt').allTextContents();
      for (const raw of ['seq', 'hash', 'at', 'signature', 'keyId']) expect(labels, lang).not.to.include(raw);
      expect(labels).to.include.members(lang === 'sv' ? ['Verifierade poster', 'Signerad', 'Signatur (Ed25519)'] : ['Entries verified', 'Signed', 'Signature (Ed25519)']);
      const text = await page.locator('#latest-checkpoint').textContent();
      expect(text).not.to.match(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
      expect(text).to.match(lang === 'sv' ? /\d{4}-\d{2}-\d{2} \d{2}:\d{2} CES?T/ : /\d{2}\/\d{2}\/\d{4}, \d{2}:\d{2} CES?T/);
      await expectCleanState(page, `verification ${lang} ${width}`);
      await page.context().close();
    }
  });

  it('lists a hold "till och med" a day as ending that day, and links a request\'s hold to its case', async () => {
    for (const [lang, width] of VIEWS) {
      const sv = lang === 'sv';
      const target = ids[`hold ${lang} ${width}`]!;
      const page = await signIn(lang, width);
      await page.goto(`${base}/#/holds`);
      await page.locator('#holds-list').waitFor();
      // Twenty days on by the service's clock, which the test controls, not the browser's own.
      const until = addDays(localDateOf(t.clock.now()), 20);
      await page.locator('input[name="recordingId"]').fill(target);
      await page.locator('input[name="reason"]').fill('Tillsyn');
      await page.locator('input[name="until"]').fill(until);
      await page.locator('input[name="reason"]').press('Enter');
      await page.locator('#holds-result .ok').waitFor();
      expect(await page.locator('#holds-result').textContent()).to.include(sv ? `till och med ${until}.` : `up to and including ${until}.`);
      const row = page.locator(`#holds-list tr[data-id="${target}"]`);
      await row.waitFor();
      expect(await row.locator('td').nth(5).textContent()).to.equal(until);
      const link = page.locator(`#holds-list tr[data-id="${ids.preserved}"] a`);
      expect(await link.getAttribute('href')).to.equal(`#/subjectRequests/${cases.access}`);
      await expectCleanState(page, `holds ${lang} ${width}`);
      await page.context().close();
    }
  });

  it('says on the case page which case holds a call, how late a case is, durations in minutes, with its buttons on a phone; answered cases below open ones', async () => {
    for (const [lang, width] of VIEWS) {
      const sv = lang === 'sv';
      const page = await signIn(lang, width);
      await page.goto(`${base}/#/subjectRequests/${cases.access}`);
      await page.locator('#subject-request-facts').waitFor();
      const row = page.locator(`tr[data-recording="${ids.preserved}"]`);
      expect(await row.locator('td.holds').textContent()).to.equal(sv ? 'detta ärende' : 'this case');
      expect(await row.textContent()).not.to.include('subject-request:');
      expect(await row.locator('td').nth(2).textContent()).to.match(/^\d+ min \d+ s$/);
      for (const button of await page.locator('#subject-request-actions > *').all()) {
        const box = (await button.boundingBox())!;
        expect(box.x + box.width, `${await button.textContent()} within ${width} px`).to.be.at.most(width);
      }
      await expectCleanState(page, `case ${lang} ${width}`);

      await page.goto(`${base}/#/subjectRequests/${cases.overdue}`);
      await page.locator('#subject-request-days-left').filter({ hasText: sv ? 'försenad' : 'overdue' }).waitFor();
      expect(await page.locator('#subject-request-days-left').textContent()).to.match(sv ? /^försenad \d+ dagar$/ : /^overdue by \d+ days$/);
      await expectCleanState(page, `overdue case ${lang} ${width}`);

      await page.goto(`${base}/#/subjectRequests`);
      await page.locator(`#subject-requests-list tr[data-id="${cases.answered}"]`).waitFor();
      const order = await page.locator('#subject-requests-list tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')));
      expect(order.indexOf(cases.overdue!)).to.be.below(order.indexOf(cases.access!));
      expect(order.indexOf(cases.access!), 'open before answered').to.be.below(order.indexOf(cases.answered!));
      await expectCleanState(page, `cases ${lang} ${width}`);
      await page.context().close();
    }
  });

  it('finds one call by its call id in the recordings list, and keeps each date on one line at 1280 px', async () => {
    const callId = (await t.db('recordings').where({ id: ids.late }).first()).call_id as string;
    for (const [lang, width] of VIEWS) {
      const page = await signIn(lang, width);
      await page.goto(`${base}/#/recordings`);
      await page.locator('#recordings-list tbody tr').first().waitFor();
      expect(await page.locator('#recordings-list tbody tr').count()).to.be.greaterThan(1);
      await page.getByLabel(lang === 'sv' ? 'Samtals-id' : 'Call id', { exact: true }).fill(callId);
      await page.getByRole('button', { name: lang === 'sv' ? 'Filtrera' : 'Filter' }).click();
      await page.waitForFunction(() => document.querySelectorAll('#recordings-list tbody tr').length === 1);
      expect(await page.locator('#recordings-list tbody tr').getAttribute('data-id')).to.equal(ids.late);
      expect(new URL(page.url()).hash).to.include(`callId=${encodeURIComponent(callId)}`);
      if (width === 1280) {
        // One line box per line of the cell's text.
        const lines = await page.locator('#recordings-list tbody tr td.when').evaluate((td) => {
          const range = document.createRange();
          range.selectNodeContents(td);
          return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
        });
        expect(lines, 'the date and time on one line').to.equal(1);
      }
      await expectCleanState(page, `recordings by call id ${lang} ${width}`);
      await page.context().close();
    }
  });

  it('keeps the player with its shortcuts open to at most 40 % of a phone screen, and explains the overview\'s two ways of counting', async () => {
    for (const [lang, width] of VIEWS) {
      const sv = lang === 'sv';
      const page = await signIn(lang, width);
      await page.goto(`${base}/#/recordings`);
      await page.locator('#recordings-list tbody tr button.play').first().click();
      await page.locator('#player').waitFor();
      await page.locator('details.shortcuts summary').click();
      await page.locator('#player-shortcuts').waitFor();
      const box = (await page.locator('#player-section').boundingBox())!;
      if (width === 390) expect(box.height, 'the player on a phone').to.be.at.most(0.4 * 900 + 1);
      await expectCleanState(page, `player with shortcuts ${lang} ${width}`);

      await page.goto(`${base}/#/overview`);
      await page.locator('#overview-totals').waitFor();
      const text = await page.locator('main').textContent();
      expect(text).to.include(sv ? 'efter den dag de började' : 'by the day they started').and.include(sv ? 'efter den dag de gjordes' : 'by the day they were made');
      expect(text).to.include(sv ? 'linjen med ringar' : 'line with circles').and.not.include(sv ? 'fyrkanter' : 'squares');
      await expectCleanState(page, `overview ${lang} ${width}`);
      await page.context().close();
    }
  });

  it('names a discrepancy of the retention report in words, without the server\'s English detail, and offers the rows and the totals as two files', async () => {
    for (const [lang, width] of VIEWS) {
      const page = await signIn(lang, width);
      await page.goto(`${base}/#/report`);
      const item = page.locator(`#report-discrepancies li[data-kind="deleted-without-audit"]`);
      await item.waitFor();
      expect(await item.textContent()).to.equal(`${lang === 'sv' ? 'raderad utan loggpost' : 'deleted without an audit entry'} · ${ids.planted}`);
      expect(await page.locator('#report-discrepancies').textContent()).not.to.include('the recording is deleted but the audit log');
      // The rows and the totals as two files, each offered under the name the service sends it by.
      const files = await page.locator('#report-csv, #report-totals-csv').evaluateAll((as) => as.map((a) => [a.textContent, a.getAttribute('download'), new URL((a as HTMLAnchorElement).href).searchParams.get('format')]));
      expect(files).to.deep.equal([
        [lang === 'sv' ? 'Ladda ner samtalen (CSV)' : 'Download the calls (CSV)', 'gallringsrapport.csv', 'csv'],
        [lang === 'sv' ? 'Ladda ner summeringen (CSV)' : 'Download the totals (CSV)', 'gallringsrapport-summering.csv', 'csv-totals'],
      ]);
      await expectCleanState(page, `report discrepancies ${lang} ${width}`);
      await page.context().close();
    }
  });
});
