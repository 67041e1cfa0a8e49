import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { expect } from 'chai';
import { chromium, type Browser } from 'playwright-core';
import request from 'supertest';
import { ManualClock } from '../../src/shared/clock.js';
import { createNotifyPlatform } from '../../src/sources/index.js';
import { axeViolations, englishOnlyStrings, englishShown } from '../helpers/page-checks.js';
import { elksSource, recordingCallback, sid, startFakePlatform, twilioSignature, twilioSource, type FakePlatform } from '../helpers/notify-platform.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { fixture } from '../helpers/webhook.js';

const CHROMIUM = '/usr/bin/chromium';

/** The Inleverans page for notify sources: the alarm of a media host that is down, and 46elks' nothing-to-delete. */
describe('Inleverans (notify sources) in a real browser', function () {
  this.timeout(120_000);
  let t: TestApp;
  let server: Server;
  let base: string;
  let browser: Browser;
  let media: FakePlatform;
  let admin: string;

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
    media = await startFakePlatform({ audio: fixture('call-pcm16-8k.wav') });
    const tw = twilioSource('twilio', media);
    const elks = elksSource('elks', media);
    t = await startTestApp({
      clock: new ManualClock('2026-11-23T10:00:00Z'),
      sources: [{ config: tw, platform: createNotifyPlatform(tw) }, { config: elks, platform: createNotifyPlatform(elks) }],
    });
    server = t.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    admin = await t.token('admin');
    // Twilio notifies while its media host is down: the fetch fails and is retried later.
    const callSid = sid('CA', 1);
    const recordingSid = sid('RE', 1);
    media.addCall(callSid, { from: '+46701234567', start: '2026-11-23T09:50:00Z', end: '2026-11-23T09:53:00Z' });
    await media.stop();
    const params = recordingCallback({ callSid, recordingSid, recordingUrl: media.recordingUrl(recordingSid) });
    expect((await request(t.app).post('/v1/sources/twilio/notify').type('form').set('X-Twilio-Signature', twilioSignature(params)).send(params)).status).to.equal(202);
    const twilio = t.services.sources.notifySources[0]!;
    await twilio.poll();
    expect(twilio.state().lastError?.code).to.equal('media-unreachable');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });

  after(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
    await t?.close();
    await media?.restart().then(() => media.close()).catch(() => undefined);
  });

  it('shows the unreachable media host as the last error and why nothing is deleted at 46elks, in Swedish, accessible', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, locale: 'sv-SE' });
    await context.addInitScript('globalThis.__name = (f) => f');
    const page = await context.newPage();
    await page.goto(base + '/');
    await page.getByLabel('Åtkomsttoken').fill(admin);
    await page.getByRole('button', { name: 'Logga in' }).click();
    await page.locator('#who').filter({ hasText: 'Inloggad som' }).waitFor();
    await page.getByRole('link', { name: 'Inleverans' }).click();
    await page.locator('section[data-source="elks"]').waitFor();
    const twilio = (await page.locator('section[data-source="twilio"]').textContent()) ?? '';
    expect(twilio).to.include('Plattformen går inte att nå; ljudet hämtas igen.');
    expect(await page.locator('section[data-source="twilio"] dd.problem').count()).to.equal(1);
    const elks = (await page.locator('section[data-source="elks"]').textContent()) ?? '';
    expect(elks).to.include('46elks sparar inspelningen bara i 72 timmar och kan inte radera den');
    expect(await page.evaluate(englishShown, await page.evaluate(englishOnlyStrings))).to.deep.equal([]);
    expect(await axeViolations(page)).to.deep.equal([]);
    await context.close();
  });
});
