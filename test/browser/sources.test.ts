import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { chromium, type Browser } from 'playwright-core';
import sinon from 'sinon';
import { ManualClock } from '../../src/shared/clock.js';
import { createFolderSource, SourceUnreachable } from '../../src/sources/index.js';
import { axeViolations, englishOnlyStrings, englishShown } from '../helpers/page-checks.js';
import { auditOf, folderSource } from '../helpers/sources.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture } from '../helpers/webhook.js';

const CHROMIUM = '/usr/bin/chromium';
const REJECTED_NAME = 'q-600-0701234567-201-20261123-091500-1795421700.9.wav';

/** The administrator's Inleverans page in Debian's Chromium against the real app on loopback. */
describe('Inleverans (sources) in a real browser', function () {
  this.timeout(120_000);
  let t: TestApp;
  let server: Server;
  let base: string;
  let browser: Browser;
  let dir: string;
  let admin: string;

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
    dir = mkdtempSync(path.join(tmpdir(), 'gallra-source-'));
    const adapter = createFolderSource({ root: dir });
    t = await startTestApp({ clock: new ManualClock('2026-11-23T10:00:00Z'), sources: [{ config: folderSource('freepbx', dir, { metadata: { preset: 'freepbx' } }), adapter }] });
    server = t.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    admin = await t.token('admin');
    // One file that is not audio (rejected, left), one call whose copy cannot be deleted yet (pending).
    writeFileSync(path.join(dir, REJECTED_NAME), 'not audio\n'.repeat(50));
    writeFileSync(path.join(dir, 'q-600-0707654321-201-20261123-091000-1795421400.3.wav'), fixture('call-pcm16-8k.wav'));
    const remove = sinon.stub(adapter, 'remove').rejects(new SourceUnreachable('folder-unwritable', 'a file cannot be removed (EACCES)'));
    const p = t.services.sources.pollers[0]!;
    await p.poll();
    t.clock.advance(10_000);
    expect(await p.poll()).to.include({ taken: 1, rejected: 1, pending: 1 });
    remove.restore();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });

  after(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows a source with a pending copy and a rejected file (digits masked), in Swedish, accessible; Hämta nu polls and is audited', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, locale: 'sv-SE' });
    // tsx names the helpers evaluated in the page (esbuild's keepNames): give the page the same helper.
    await context.addInitScript('globalThis.__name = (f) => f');
    const page = await context.newPage();
    await page.goto(base + '/');
    await page.getByLabel('Åtkomsttoken').fill(admin);
    await page.getByRole('button', { name: 'Logga in' }).click();
    await page.locator('#who').filter({ hasText: 'Inloggad som' }).waitFor();
    await page.getByRole('link', { name: 'Inleverans' }).click();
    await page.getByRole('heading', { name: 'Inleverans', level: 1 }).waitFor();
    const section = page.locator('section[data-source="freepbx"]');
    await section.waitFor();
    const text = (await section.textContent()) ?? '';
    expect(text).to.include('Kopior kvar vid källan');
    expect(text).to.match(/Kopior kvar vid källan1 \(äldsta sedan/);
    const row = section.locator('tr[data-item]');
    expect(await row.count()).to.equal(1);
    expect(await row.locator('code').textContent()).to.equal(REJECTED_NAME.replace(/\d/g, '#'));
    expect(await row.textContent()).to.include('inte ljud');
    const html = await page.content();
    for (const n of ['0701234567', '701234567', '0707654321', '707654321']) expect(html).not.to.include(n);
    expect(await page.evaluate(englishShown, await page.evaluate(englishOnlyStrings))).to.deep.equal([]);
    expect(await axeViolations(page)).to.deep.equal([]);

    await section.getByRole('button', { name: 'Hämta nu' }).click();
    await page.locator('section[data-source="freepbx"]').filter({ hasText: 'Kopior kvar vid källan0' }).waitFor();
    expect(readdirSync(dir)).to.deep.equal([REJECTED_NAME]);
    const requested = (await auditOf(t)).filter((e) => e.action === 'source.poll-requested');
    expect(requested).to.have.length(1);
    expect(requested[0]!.details).to.deep.equal({ source: 'freepbx' });
    await context.close();
  });
});
