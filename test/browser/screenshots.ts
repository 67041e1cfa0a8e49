// The README's screenshots, on demand (`npm run screenshots`): a throwaway app (SQLite in a temp
// directory) with a seeded month of calls, and Debian's Chromium shooting the auditor's overview, the
// retention report, the trainer's player and the admin's holds page at 1280 and 390 px into docs/screenshots/.
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import request from 'supertest';
import { seedMonth, type SeededMonth } from '../helpers/seed-month.js';
import { startTestApp } from '../helpers/test-app.js';
import { callMeta, recordingBody, signedHeaders, silentWav } from '../helpers/webhook.js';

const OUT = path.resolve(import.meta.dirname, '../../docs/screenshots');
const SIZES = [{ width: 1280, height: 900 }, { width: 390, height: 844 }];

const t = await startTestApp({ config: { auditSigningKey: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() } });
const month: SeededMonth = await seedMonth(t, { end: new Date() });
const long = recordingBody(callMeta(t.clock.now(), { queue: 'Bygglov', agentId: 'agent-3', caller: null }, 20), silentWav(180));
const posted = await request(t.app).post('/v1/recordings').set(signedHeaders(long.body, t.clock.now())).set('Content-Type', long.contentType).send(long.body);
if (posted.status !== 201) throw new Error(`the long call was refused: ${posted.status}`);
const server = t.app.listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const browser: Browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--lang=sv-SE'] });
mkdirSync(OUT, { recursive: true });

async function signedIn(role: 'admin' | 'auditor' | 'trainer', viewport: { width: number; height: number }): Promise<Page> {
  const page = await (await browser.newContext({ viewport, locale: 'sv-SE' })).newPage();
  await page.goto(base + '/');
  await page.getByLabel('Åtkomsttoken').fill(month.people[role].token);
  await page.getByRole('button', { name: 'Logga in' }).click();
  await page.locator('#who').filter({ hasText: 'Inloggad som' }).waitFor();
  await settled(page);
  return page;
}
async function settled(page: Page) {
  await page.locator('main h1').first().waitFor();
  await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'));
}
const shoot = (page: Page, name: string, width: number) => page.screenshot({ path: path.join(OUT, `${name}-${width}.png`), fullPage: width > 1000 && (name === 'overview' || name === 'holds') });

try {
  for (const size of SIZES) {
    // The auditor lands on the overview.
    const auditor = await signedIn('auditor', size);
    await shoot(auditor, 'overview', size.width);
    await auditor.goto(`${base}/#/report`);
    await settled(auditor);
    await auditor.locator('#report table').waitFor();
    await shoot(auditor, 'report', size.width);
    await auditor.context().close();

    const trainer = await signedIn('trainer', size);
    await trainer.goto(`${base}/#/recordings?queue=bygglov`);
    await settled(trainer);
    await trainer.locator(`#recordings-list tr[data-id="${posted.body.id}"] button.play`).click();
    await trainer.locator('#player').waitFor();
    await trainer.locator('details.shortcuts summary').click();
    await shoot(trainer, 'player', size.width);
    await trainer.context().close();

    const admin = await signedIn('admin', size);
    await admin.goto(`${base}/#/holds`);
    await settled(admin);
    await shoot(admin, 'holds', size.width);
    await admin.context().close();
  }
  console.log(`screenshots of ${month.calls} seeded calls in ${path.relative(process.cwd(), OUT)}/`);
} finally {
  await browser.close();
  await new Promise((r) => server.close(r));
  await t.close();
}
