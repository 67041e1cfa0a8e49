import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { chromium, type Browser } from 'playwright-core';
import { ManualClock } from '../../src/shared/clock.js';
import { createBucketSource, type BucketSourceConfig } from '../../src/sources/index.js';
import { createS3Client } from '../../src/storage/index.js';
import { axeViolations } from '../helpers/page-checks.js';
import { s3ConfigFor, startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { sourceSettings } from '../helpers/sources.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { fixture } from '../helpers/webhook.js';

const CHROMIUM = '/usr/bin/chromium';
const ORG = '9b5a2c1e-1111-4222-8333-444455556666';

/** The Inleverans page with a Genesys Cloud export bucket as a source, in Debian's Chromium. */
describe('Inleverans with a bucket source in a real browser', function () {
  this.timeout(120_000);
  let t: TestApp;
  let s3: S3TestServer;
  let client: S3Client;
  let server: Server;
  let base: string;
  let browser: Browser;
  let admin: string;

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
    s3 = await startS3Server();
    client = createS3Client(s3ConfigFor(s3));
    const cfg: BucketSourceConfig = {
      ...sourceSettings('genesys', { metadata: { preset: 'genesys-bulk-export' } }),
      adapter: 'bucket', bucket: s3.bucket, prefix: `${ORG}/`, region: 'eu-north-1', endpoint: s3.endpoint, forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, requestChecksum: 'when_required', listPageSize: 1000,
      residency: { region: 'eu-north-1', eea: true, place: 'Stockholm, Sweden' },
    };
    t = await startTestApp({ clock: new ManualClock('2026-11-23T10:00:00Z'), sources: [{ config: cfg, adapter: createBucketSource(cfg) }] });
    server = t.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    admin = await t.token('admin');
    // A recording whose metadata file is missing: rejected and left in the bucket.
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `${ORG}/year=2026/month=11/day=23/hour=8/conversation_id=${randomUUID()}/${randomUUID()}.wav`, Body: fixture('call-pcm16-8k.wav') }));
    const p = t.services.sources.pollers[0]!;
    await p.poll();
    t.clock.advance(10_000);
    expect(await p.poll()).to.include({ rejected: 1 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });

  after(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
    await t?.close();
    client?.destroy();
    await s3?.close().catch(() => undefined);
  });

  it('shows the bucket source and its rejected export (digits masked); with the bucket down, Hämta nu says so in Swedish', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, locale: 'sv-SE' });
    await context.addInitScript('globalThis.__name = (f) => f');
    const page = await context.newPage();
    await page.goto(base + '/');
    await page.getByLabel('Åtkomsttoken').fill(admin);
    await page.getByRole('button', { name: 'Logga in' }).click();
    await page.locator('#who').filter({ hasText: 'Inloggad som' }).waitFor();
    await page.getByRole('link', { name: 'Inleverans' }).click();
    const section = page.locator('section[data-source="genesys"]');
    await section.waitFor();
    expect(await section.getByRole('heading', { level: 2 }).textContent()).to.equal('genesys (bucket)');
    const row = section.locator('tr[data-item]');
    expect(await row.count()).to.equal(1);
    expect(await row.locator('code').textContent()).to.match(/^[#a-f-]+\.wav$/);
    expect(await row.textContent()).to.include('metadata saknas');
    expect(await page.content()).not.to.include(ORG);
    expect(await axeViolations(page)).to.deep.equal([]);

    await s3.close();
    await section.getByRole('button', { name: 'Hämta nu' }).click();
    await section.getByRole('alert').filter({ hasText: 'Bucketen nekade eller svarade inte.' }).waitFor();
    await context.close();
  });
});
