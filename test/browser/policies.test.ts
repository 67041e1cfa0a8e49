import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ManualClock } from '../../src/shared/clock.js';
import { axeViolations, englishOnlyStrings, englishShown } from '../helpers/page-checks.js';
import { auditEntries, seedRecordings } from '../helpers/retention.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const CHROMIUM = '/usr/bin/chromium';
const DAY = 86_400_000;

/** The Gallringsregler page in Debian's Chromium against the real app on loopback. */
describe('Gallringsregler (retention rules) in a real browser', function () {
  this.timeout(120_000);
  let t: TestApp;
  let server: Server;
  let base: string;
  let browser: Browser;

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
    t = await startTestApp({ clock: new ManualClock('2026-11-23T10:00:00Z') });
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

  async function signIn(role: 'admin' | 'auditor'): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, locale: 'sv-SE' });
    await context.addInitScript('globalThis.__name = (f) => f');
    const page = await context.newPage();
    await page.goto(base + '/');
    await page.getByLabel('Åtkomsttoken').fill(await t.token(role));
    await page.getByRole('button', { name: 'Logga in' }).click();
    await page.locator('#who').filter({ hasText: 'Inloggad som' }).waitFor();
    await page.getByRole('link', { name: 'Gallringsregler' }).click();
    await page.getByRole('heading', { name: 'Gallringsregler', level: 1 }).waitFor();
    return page;
  }

  it("an admin shortens a queue's rule, sees the preview count, saves; the auditor sees the new version in the history", async () => {
    // Version 1: bygglov 20 days. Three stored bygglov calls, started 2, 10 and 15 days ago.
    await t.services.retentionPolicy.set({ rules: [{ match: { queue: 'bygglov' }, retainDays: 20 }] }, 'admin:setup');
    const now = t.clock.now().getTime();
    await seedRecordings(t, [2, 10, 15].map((d) => ({ deadline: new Date(now - d * DAY + 20 * DAY), retentionDays: 20, at: new Date(now - d * DAY) })));

    const admin = await signIn('admin');
    const rule = admin.locator('tr.rule');
    expect(await rule.count()).to.equal(1);
    await rule.getByRole('spinbutton', { name: 'Dagar' }).fill('7');
    await admin.getByRole('button', { name: 'Förhandsgranska ändringen' }).click();
    const preview = admin.locator('p.preview');
    await preview.waitFor();
    // All three get an earlier deadline; those started 10 and 15 days ago are past 7 days.
    expect(await preview.textContent()).to.equal('Ändringen tidigarelägger gallringsdagen för 3 sparade inspelningar; 2 av dem raderas vid nästa gallring.');
    expect(await axeViolations(admin)).to.deep.equal([]);
    expect(await admin.evaluate(englishShown, await admin.evaluate(englishOnlyStrings))).to.deep.equal([]);
    await admin.getByRole('button', { name: 'Spara reglerna' }).click();
    await admin.locator('p.saved').waitFor();
    expect(await admin.locator('p.saved').textContent()).to.contain('version 2');
    const saved = await auditEntries(t.db, 'policy.changed');
    expect(saved.at(-1)!.details).to.deep.include({ version: 2, rules: [{ match: { queue: 'bygglov' }, retainDays: 7 }] });
    expect(saved.at(-1)!.actor).to.match(/^admin:/);
    await admin.context().close();

    const auditor = await signIn('auditor');
    const latest = auditor.locator('tr[data-version="2"]');
    await latest.waitFor();
    expect(await latest.textContent()).to.contain('bygglov: 7 dagar');
    expect(await auditor.locator('tr[data-version="1"]').textContent()).to.contain('bygglov: 20 dagar');
    // Auditors read the rules; there is nothing to edit.
    expect(await auditor.locator('tr.rule').count()).to.equal(0);
    expect(await auditor.getByRole('button', { name: 'Spara reglerna' }).count()).to.equal(0);
    expect(await axeViolations(auditor)).to.deep.equal([]);
    // The compliance overview lists the history and the period's calls per queue too.
    await auditor.getByRole('link', { name: 'Översikt' }).click();
    const inOverview = auditor.locator('#overview-policy-history tr[data-version="2"]');
    await inOverview.waitFor();
    expect(await inOverview.textContent()).to.contain('bygglov: 7 dagar');
    expect(await auditor.locator('#overview-queues tr[data-queue="bygglov"]').textContent()).to.match(/^bygglov3/);
    expect(await axeViolations(auditor)).to.deep.equal([]);
    await auditor.context().close();
  });
});
