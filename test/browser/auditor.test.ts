import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { expect } from 'chai';
import { chromium, type Browser, type Page } from 'playwright-core';
import { axeViolations, englishOnlyStrings, englishShown, sidewaysOverflow } from '../helpers/page-checks.js';
import { seedMonth, type SeededMonth } from '../helpers/seed-month.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const CHROMIUM = '/usr/bin/chromium';

/** A CSV line split on `;`, with RFC 4180 quotes. */
function cells(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (ch === '"') quoted = false; else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ';') { out.push(cur); cur = ''; } else cur += ch;
  }
  out.push(cur);
  return out;
}

/**
 * The auditor's job in Chromium on a seeded month of 400+ calls: the overview's figures against the
 * report's, the whole report paged through, one deletion found by its call id with its reason and the
 * admin's name, both CSVs for Swedish Excel, and axe-core on every page visited in both languages.
 */
describe("The auditor's views in a real browser", function () {
  this.timeout(240_000);
  let t: TestApp;
  let month: SeededMonth;
  let server: Server;
  let base: string;
  let browser: Browser;

  before(async function () {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (npm test does it as root: scripts/test-setup.sh)`);
    t = await startTestApp();
    month = await seedMonth(t);
    server = t.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });

  after(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
    await t?.close();
  });

  async function signIn(width = 1280): Promise<Page> {
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width, height: 900 }, locale: 'sv-SE', timezoneId: 'Europe/Stockholm' });
    await context.addInitScript('globalThis.__name = (f) => f');
    const page = await context.newPage();
    await page.goto(base + '/');
    await page.getByLabel('Åtkomsttoken').fill(month.people.auditor.token);
    await page.getByRole('button', { name: 'Logga in' }).click();
    await page.locator('#who').filter({ hasText: 'Inloggad som Maja Granskare' }).waitFor();
    return page;
  }

  /** axe-core's violations on the page, one line each (the rule and where). */
  const axeFound = async (page: Page) => (await axeViolations(page)).map((v) => `${v.id}: ${v.targets.join(', ')}`);

  /** English catalogue strings (those that differ from the Swedish) that show as visible text in the page. */
  const englishFound = async (page: Page) => page.evaluate(englishShown, await page.evaluate(englishOnlyStrings));

  const settled = (page: Page) => page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'));

  it("lands on the overview, whose figures equal the retention report's totals for the same period, with both charts and their tables", async () => {
    const page = await signIn();
    expect(new URL(page.url()).hash).to.match(/^#\/overview/);
    const totals = page.locator('#overview-totals');
    await totals.waitFor();
    const overview: Record<string, number> = {};
    for (const row of await totals.locator('tbody tr').all()) overview[(await row.getAttribute('data-outcome'))!] = Number(await row.locator('td').first().textContent());
    expect(Object.keys(overview)).to.have.length(9);
    expect(overview.all).to.be.greaterThan(0);
    // The headline: the oldest stored call without a hold, in days, as the service computes it.
    const api = await page.evaluate(async () => {
      const q = new URLSearchParams(location.hash.split('?')[1]);
      const { stockholmDayStart } = await import('/text.js' as string);
      const r = await fetch(`/v1/reports/overview?from=${stockholmDayStart(q.get('from'))}&to=${stockholmDayStart(q.get('to'), 1)}`);
      return r.json();
    });
    expect(await page.locator('#headline').getAttribute('data-days')).to.equal(String(api.stored.oldestUnheldDays));
    expect(await page.locator('#headline .big').textContent()).to.contain(`${api.stored.oldestUnheldDays} dagar`);
    // The charts are drawn, and each has its numbers as a table.
    for (const chart of ['#deletions-chart', '#age-chart']) expect(await page.locator(`${chart} canvas`).count(), chart).to.be.greaterThan(0);
    expect(await page.locator('#deletions-chart-table tbody tr').count()).to.equal(api.deletionsPerDay.length);
    expect(await page.locator('#age-chart-table tbody tr').count()).to.equal(31);
    const lateInTable = await page.locator('#deletions-chart-table tbody tr').evaluateAll((trs) => trs.reduce((a, tr) => a + Number(tr.children[3]!.textContent), 0));
    expect(lateInTable).to.equal(api.deletionsPerDay.reduce((a: number, d: { late: number }) => a + d.late, 0));
    expect(await page.locator('#overview-chain [data-ok]').getAttribute('data-ok')).to.equal('true');
    expect(await page.locator('#overview-checkpoint').textContent()).to.match(/^#\d+ · /);
    expect(await axeFound(page), 'axe on the overview (sv)').to.deep.equal([]);
    expect(await englishFound(page), 'English text on the Swedish overview').to.deep.equal([]);

    await page.getByRole('link', { name: 'Öppna rapporten för samma period' }).click();
    const reportTotals = page.locator('#report-totals');
    await reportTotals.waitFor();
    const report: Record<string, number> = {};
    for (const dd of await reportTotals.locator('dd').all()) report[(await dd.getAttribute('data-outcome'))!] = Number(await dd.textContent());
    expect(report).to.deep.equal(overview);
    await page.context().close();
  });

  it('pages through the whole retention report of the month, every row once, with reasons in Swedish', async () => {
    const page = await signIn();
    const from = new Date(month.from).toLocaleDateString('sv-SE', { timeZone: 'Europe/Stockholm' });
    await page.goto(`${base}/#/report?from=${from}`);
    const all = Number(await page.locator('#report-totals dd[data-outcome="all"]').textContent());
    expect(all).to.equal(month.calls);
    const ids = new Set<string>();
    for (let p = 0; p < 20; p++) {
      for (const row of await page.locator('#report tbody tr').all()) ids.add((await row.getAttribute('data-id'))!);
      const next = page.getByRole('button', { name: 'Nästa sida' });
      if (await next.isDisabled()) break;
      const before = await page.locator('#report-page').textContent();
      await next.click();
      await page.locator('#report-page').filter({ hasNotText: before! }).waitFor();
    }
    expect(ids.size).to.equal(all);
    expect([...ids].sort()).to.deep.equal(month.recordings.map((r) => r.id).sort());
    await page.getByLabel('Utfall').selectOption({ label: 'raderad i tid' });
    expect(await page.locator('#report tbody').textContent()).to.contain('gallringsdagen nådd').and.not.contain('retention');
    expect(await axeFound(page), 'axe on the report (sv)').to.deep.equal([]);
    await page.context().close();
  });

  it("finds one deletion by its call id: the timeline, the reason, the note and the admin's name; then by an action picked by its Swedish name", async () => {
    const page = await signIn();
    await page.getByRole('link', { name: 'Granskningslogg' }).click();
    await page.locator('#audit-list [role="status"]').waitFor();
    await settled(page);
    const exported = async () => Number((await t.db('audit_entries').where({ action: 'audit.exported' }).count({ n: '*' }))[0]!.n);
    const readsBefore = await exported();
    await page.getByLabel('Samtals-id eller inspelnings-id').fill(month.manualDeletion.callId);
    await page.getByRole('button', { name: 'Sök' }).click();
    const timeline = page.locator('#audit-timeline li');
    await page.locator('#audit-timeline h2').filter({ hasText: month.manualDeletion.callId }).waitFor();
    await settled(page);
    expect(await exported(), 'one search by id is one read of the log, audited once').to.equal(readsBefore + 1);
    expect(await timeline.evaluateAll((lis) => lis.map((li) => li.getAttribute('data-action')))).to.deep.equal(['recording.ingested', 'recording.deleted']);
    const deletion = timeline.nth(1);
    expect(await deletion.textContent()).to.contain('Inspelningen raderades').and.contain('av Eva Registrator').and.contain('raderad för hand').and.contain(month.manualDeletion.note);
    const row = page.locator('#audit-list tr[data-action="recording.deleted"]');
    expect(await row.locator('td.actor').textContent()).to.equal('Eva Registrator');
    expect(await row.textContent()).to.contain('inspelning raderad').and.contain('Skäl').and.contain(month.manualDeletion.note).and.not.contain(month.people.admin.tokenId);
    expect(new URL(page.url()).hash).to.contain(`id=${month.manualDeletion.callId}`);
    expect(await axeFound(page), 'axe on the audit search with a timeline (sv)').to.deep.equal([]);
    expect(await englishFound(page), 'English text on the Swedish audit search').to.deep.equal([]);

    // The timeline of a call that was played, held, released and deleted.
    await page.getByLabel('Samtals-id eller inspelnings-id').fill(month.timeline.recordingId);
    await page.getByRole('button', { name: 'Sök' }).click();
    await page.locator('#audit-timeline h2').filter({ hasText: month.timeline.callId }).waitFor();
    await settled(page);
    expect(await timeline.evaluateAll((lis) => lis.map((li) => li.getAttribute('data-action')))).to.deep.equal(['recording.ingested', 'recording.played', 'hold.placed', 'hold.released', 'recording.deleted']);
    expect(await timeline.nth(1).textContent()).to.contain('Avlyssnad').and.contain('av Lars Utbildare');
    expect(await timeline.nth(4).textContent()).to.contain('av Gallringsjobbet').and.contain('gallringsdagen nådd');

    // By action, picked from a list of Swedish names, and by person.
    await page.getByLabel('Samtals-id eller inspelnings-id').fill('');
    await page.getByLabel('Händelse').selectOption({ label: 'gallringsstopp lagt' });
    await page.getByLabel('Utförare').selectOption({ label: 'Eva Registrator' });
    await page.getByRole('button', { name: 'Sök' }).click();
    await page.waitForFunction(() => decodeURIComponent(location.hash).includes('action=hold.placed'));
    await settled(page);
    const actions = await page.locator('#audit-list tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-action')));
    expect(actions.length).to.be.greaterThan(5);
    expect(new Set(actions)).to.deep.equal(new Set(['hold.placed']));
    expect(await page.locator('#audit-timeline').textContent()).to.equal('');
    await page.context().close();
  });

  it('downloads the audit log and the report as CSV for Swedish Excel: a BOM, then lines that split on ";"', async () => {
    const page = await signIn();
    await page.goto(`${base}/#/audit?id=${month.manualDeletion.callId}`);
    await page.locator('#audit-list tbody tr').first().waitFor();
    const [audit] = await Promise.all([page.waitForEvent('download'), page.locator('#audit-export').click()]);
    const bytes = readFileSync((await audit.path())!);
    expect([...bytes.subarray(0, 3)], 'UTF-8 byte-order mark').to.deep.equal([0xef, 0xbb, 0xbf]);
    const lines = bytes.toString('utf8').slice(1).trimEnd().split('\r\n');
    expect(cells(lines[0]!)).to.deep.equal(['seq', 'at', 'actor', 'action', 'subject', 'details', 'prevHash', 'hash']);
    const rows = lines.slice(1).map(cells);
    for (const r of rows) expect(r).to.have.length(8);
    const deleted = rows.find((r) => r[3] === 'recording.deleted')!;
    expect(JSON.parse(deleted[5]!)).to.deep.include({ reason: 'manual', note: month.manualDeletion.note });

    await page.getByRole('link', { name: 'Gallringsrapport' }).click();
    await page.locator('#report-totals').waitFor();
    const [report] = await Promise.all([page.waitForEvent('download'), page.locator('#report-csv').click()]);
    const r = readFileSync((await report.path())!);
    expect([...r.subarray(0, 3)]).to.deep.equal([0xef, 0xbb, 0xbf]);
    const header = cells(r.toString('utf8').slice(1).split('\r\n')[0]!);
    expect(report.suggestedFilename()).to.equal('gallringsrapport.csv');
    expect(header).to.include.members(['Samtals-id', 'Inspelnings-id', 'Utfall', 'Försening']);
    await page.context().close();
  });

  it('has no axe-core violations on the overview and the audit search in English either, nor at 390 px', async () => {
    const page = await signIn();
    await page.getByRole('button', { name: 'English' }).click();
    await page.locator('#overview-totals').waitFor();
    await settled(page);
    expect(await page.locator('main h1').textContent()).to.equal('Overview');
    expect(await axeFound(page), 'axe on the overview (en)').to.deep.equal([]);
    await page.goto(`${base}/#/audit?id=${month.timeline.callId}`);
    await page.locator('#audit-timeline h2').waitFor();
    await settled(page);
    expect(await page.locator('#audit-timeline').textContent()).to.contain('by Lars Utbildare');
    expect(await axeFound(page), 'axe on the audit search (en)').to.deep.equal([]);
    await page.context().close();

    const phone = await signIn(390);
    await phone.locator('#overview-totals').waitFor();
    await settled(phone);
    const overflow = await phone.evaluate(sidewaysOverflow);
    expect(overflow, 'no sideways scrolling of the page at 390 px').to.be.at.most(0);
    expect(await axeFound(phone), 'axe on the overview at 390 px').to.deep.equal([]);
    await phone.context().close();
  });
});
