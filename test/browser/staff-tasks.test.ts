import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { expect } from 'chai';
import { chromium, type Browser, type Page } from 'playwright-core';
import request from 'supertest';
import { DAY_MS } from '../../src/shared/clock.js';
import { axeViolations, englishOnlyStrings, englishShown, expectCleanState, focusRing, LANGS_AND_WIDTHS, sidewaysOverflow, type Lang } from '../helpers/page-checks.js';
import { seedMonth, type SeededMonth } from '../helpers/seed-month.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { callMeta, recordingBody, signedHeaders, silentWav } from '../helpers/webhook.js';

const CHROMIUM = '/usr/bin/chromium';
type Staff = 'trainer' | 'auditor' | 'admin';
const WIDE = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
/** A Stockholm calendar day, `days` before now, as the date inputs take it. */
const stockholmDay = (days: number) => new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Stockholm' }).format(new Date(Date.now() - days * DAY_MS));
const audio = (page: Page) => page.evaluate(() => {
  const a = document.querySelector<HTMLAudioElement>('#player')!;
  return { at: a.currentTime, rate: a.playbackRate, src: a.getAttribute('src') };
});

/**
 * The staff's own tasks in Debian's Chromium, on a seeded month of 400+ calls: the admin's row
 * actions and holds page, the trainer's pickers and player, and checks over every page and state
 * the roles reach (axe-core, the focus ring, English text in the Swedish interface, a 390 px phone).
 */
describe("The staff's tasks in a real browser, on a month of calls", function () {
  this.timeout(300_000);
  let t: TestApp;
  let server: Server;
  let base: string;
  let browser: Browser;
  let month: SeededMonth;
  /** A three-minute Bygglov call, the newest: long enough to skip about in. */
  let longId: string;

  before(async function () {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (npm test does it as root: scripts/test-setup.sh)`);
    const auditSigningKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    t = await startTestApp({ config: { auditSigningKey } });
    // The month ends now, so that the browser's own clock (which picks default dates) agrees with the data.
    month = await seedMonth(t, { end: new Date() });
    const long = recordingBody(callMeta(t.clock.now(), { queue: 'Bygglov', agentId: 'agent-3' }, 20), silentWav(180));
    const res = await request(t.app).post('/v1/recordings').set(signedHeaders(long.body, t.clock.now())).set('Content-Type', long.contentType).send(long.body);
    expect(res.status).to.equal(201);
    longId = res.body.id;
    server = t.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--autoplay-policy=no-user-gesture-required'],
    });
  });

  after(async () => {
    await browser?.close();
    if (server) await new Promise((r) => server.close(r));
    await t?.close();
  });

  async function signIn(role: Staff, viewport = WIDE, lang: Lang = 'sv'): Promise<Page> {
    const context = await browser.newContext({ viewport, locale: 'sv-SE', acceptDownloads: true });
    await context.addInitScript('globalThis.__name = (f) => f');
    const page = await context.newPage();
    await page.goto(base + '/');
    await page.getByLabel('Åtkomsttoken').fill(month.people[role].token);
    await page.getByRole('button', { name: 'Logga in' }).click();
    await page.locator('#who').filter({ hasText: 'Inloggad som' }).waitFor();
    await settled(page);
    if (lang === 'en') {
      await page.getByRole('button', { name: 'English' }).click();
      await page.locator('#who').filter({ hasText: 'Signed in as' }).waitFor();
      await settled(page);
    }
    return page;
  }

  /** A view has drawn what it loads. */
  async function settled(page: Page) {
    await page.locator('main h1').first().waitFor();
    await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'));
  }

  async function open(page: Page, hash: string) {
    await page.goto(`${base}/${hash}`);
    await settled(page);
  }

  it('lets the admin hold and delete calls from the list, with a confirmation, and see the hold on the holds page', async () => {
    const page = await signIn('admin');
    await open(page, '#/recordings');
    const stored = page.locator('#recordings-list tbody tr[data-status="stored"]');
    await stored.first().waitFor();
    const [holdId, holdCall, delId, delCall] = [
      await stored.nth(0).getAttribute('data-id'), await stored.nth(0).getAttribute('data-call-id'),
      await stored.nth(1).getAttribute('data-id'), await stored.nth(1).getAttribute('data-call-id'),
    ] as string[];
    const row = (id: string) => page.locator(`#recordings-list tr[data-id="${id}"]`);
    expect(await row(holdId).textContent(), 'the list shows the call id and the recording id').to.contain(holdCall).and.contain(holdId);

    await row(holdId).getByRole('button', { name: /^Lägg gallringsstopp/ }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Skäl').fill('Begäran om allmän handling KS 2026/1300');
    await dialog.getByRole('button', { name: 'Lägg gallringsstopp' }).click();
    await page.locator('#recordings-result .ok').waitFor();
    expect(await page.locator('#recordings-result').textContent()).to.equal(`Gallringsstopp lagt på samtal ${holdCall}, tills vidare. Inspelningen raderas inte förrän stoppet hävs eller löper ut.`);
    await page.locator(`#recordings-list tr[data-id="${holdId}"][data-status="held"]`).waitFor();
    expect(await row(holdId).textContent()).to.contain('gallringsstopp');
    expect(await row(holdId).getByRole('button', { name: /^Radera/ }).count(), 'a held call cannot be deleted').to.equal(0);

    // Deleting asks first, and "Avbryt" changes nothing.
    await row(delId).getByRole('button', { name: /^Radera/ }).click();
    expect(await dialog.textContent()).to.contain(`Inspelningen av samtal ${delCall}`).and.contain('Det går inte att ångra');
    await dialog.getByRole('button', { name: 'Avbryt' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect((await t.db('recordings').where({ id: delId }).first()).status).to.equal('stored');
    await row(delId).getByRole('button', { name: /^Radera/ }).click();
    await dialog.getByLabel('Skäl').fill('Inspelat av misstag');
    await dialog.getByRole('button', { name: 'Ja, radera inspelningen' }).click();
    await page.locator('#recordings-result .ok').filter({ hasText: 'raderad' }).waitFor();
    expect(await page.locator('#recordings-result').textContent()).to.match(new RegExp(`^Inspelningen av samtal ${delCall} är raderad \\(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d CET\\)\\. Raderingen står i granskningsloggen\\.$`));
    expect(await page.locator('main').textContent(), 'no JSON anywhere').not.to.match(/[{}]/);
    expect(await t.db('recordings').where({ id: delId }).first()).to.include({ status: 'deleted', reason: 'manual' });
    const entries = await t.db('audit_entries').where({ action: 'recording.deleted', subject: `recording:${delId}` });
    expect(entries).to.have.length(1);
    expect(JSON.parse(entries[0].details), 'the reason given in the dialog').to.include({ note: 'Inspelat av misstag', reason: 'manual' });

    await page.getByRole('link', { name: 'Gallringsstopp' }).click();
    await settled(page);
    const held = page.locator(`#holds-list tr[data-id="${holdId}"]`);
    await held.waitFor();
    expect(await held.textContent()).to.contain(holdCall).and.contain('Begäran om allmän handling KS 2026/1300').and.contain('tills vidare');
    // The month's own holds are there too, with their reasons and end dates.
    const all = await page.locator('#holds-list tbody').textContent();
    expect(all).to.contain('Klagomålsärende KS 2026/118').and.match(/\d{4}-\d\d-\d\d \d\d:\d\d CET/);
    await held.getByRole('button', { name: /^Häv/ }).click();
    await held.waitFor({ state: 'detached' });
    expect(await page.locator('#holds-result').textContent()).to.equal(`Gallringsstoppet på samtal ${holdCall} är hävt. Inspelningen gallras enligt sin gallringsdag.`);
    // Placed again by its call id, the way staff know a call.
    await page.getByLabel('Samtals-id eller inspelnings-id').fill(holdCall);
    await page.locator('input[name="reason"]').fill('Tvist om bygglov');
    await page.getByRole('button', { name: 'Lägg gallringsstopp' }).click();
    await held.waitFor();
    expect(await page.locator('#holds-result').textContent()).to.equal(`Gallringsstopp lagt på samtal ${holdCall}, tills vidare. Inspelningen raderas inte förrän stoppet hävs eller löper ut.`);
    await page.context().close();
  });

  it('keeps the hold dialog open with what was typed when the reason is refused, and says why from the codes, in Swedish and English', async () => {
    for (const [lang, width] of LANGS_AND_WIDTHS) {
      const page = await signIn('admin', width === PHONE.width ? PHONE : WIDE, lang);
      await open(page, '#/recordings');
      await page.locator('#recordings-list tbody tr[data-status="stored"] button.hold').first().click();
      const dialog = page.locator('dialog[open]');
      const typed = 'Ring tillbaka 070-123 45 67';
      await dialog.locator('input[name="holdReason"]').fill(typed);
      await dialog.locator('#dialog-confirm').click();
      const problem = dialog.locator('#dialog-problem .problem');
      await problem.waitFor();
      expect(await problem.locator('.message').textContent()).to.equal(lang === 'sv' ? 'Uppgifterna är felaktigt ifyllda.' : 'The details are not filled in correctly.');
      expect(await problem.locator('li').allTextContents()).to.deep.equal([lang === 'sv' ? 'Skäl: får inte innehålla ett telefonnummer' : 'Reason: must not contain a phone number']);
      expect(await problem.textContent(), "never the server's detail").not.to.match(/Invalid|\/reason|Tjänstens svar|The service's answer/);
      expect(await dialog.locator('input[name="holdReason"]').inputValue(), 'what was typed stays').to.equal(typed);
      expect(await dialog.locator('input[name="holdReason"]').getAttribute('aria-invalid')).to.equal('true');
      expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).to.equal('holdReason');
      await expectCleanState(page, `the refused hold (${lang} ${width} px)`);
      // Corrected, it goes through and the dialog closes.
      await dialog.locator('input[name="holdReason"]').fill('Begäran om allmän handling');
      await dialog.locator('#dialog-confirm').click();
      await page.locator('dialog').waitFor({ state: 'detached' });
      await page.locator('#recordings-result .ok').waitFor();
      await page.context().close();
    }
  });

  it('lets the trainer filter "bygglov" in any case, play, skip 10 s, change speed, reload and keep the filter and the call', async () => {
    const page = await signIn('trainer');
    await page.locator('#recordings-list table').waitFor();
    const offered = await page.locator('#queue-options option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(offered, 'the picker offers the queues in the data').to.include.members(['Bygglov', 'Socialtjänst', 'skola']);
    expect(await page.locator('#agent-options option').count()).to.be.at.least(5);
    await page.getByLabel('Kö').fill('bYGGLOV');
    await page.getByRole('button', { name: 'Filtrera' }).click();
    await page.waitForFunction(() => location.hash === '#/recordings?queue=bYGGLOV');
    await page.waitForFunction(() => {
      const trs = [...document.querySelectorAll<HTMLTableRowElement>('#recordings-list tbody tr')];
      return trs.length === 20 && trs.every((r) => r.cells[1]!.textContent === 'Bygglov');
    });
    const row = page.locator(`#recordings-list tr[data-id="${longId}"]`);
    await row.getByRole('button', { name: /^Lyssna/ }).click();
    await page.waitForFunction(() => (document.querySelector<HTMLAudioElement>('#player')?.currentTime ?? 0) > 0.2, undefined, { timeout: 30_000 });
    expect(await row.getAttribute('aria-current')).to.equal('true');

    const start = (await audio(page)).at;
    await page.getByRole('button', { name: 'Spola fram 10 sekunder' }).click();
    await page.waitForFunction((b) => document.querySelector<HTMLAudioElement>('#player')!.currentTime >= b + 10, start, { timeout: 30_000 });
    // The keyboard shortcuts the page documents: L forward, J back, > and < the speed.
    expect(await page.locator('#player-shortcuts').textContent()).to.contain('Spola fram 10 sekunder').and.contain('Snabbare');
    const ahead = (await audio(page)).at;
    await page.keyboard.press('l');
    await page.waitForFunction((b) => document.querySelector<HTMLAudioElement>('#player')!.currentTime >= b + 10, ahead, { timeout: 30_000 });
    await page.keyboard.press('j');
    expect((await audio(page)).at).to.be.below(ahead + 10);
    await page.getByLabel('Hastighet').selectOption('1.5');
    expect((await audio(page)).rate).to.equal(1.5);
    await page.locator('#player-back').focus();
    await page.keyboard.press('>');
    expect((await audio(page)).rate).to.equal(2);
    await page.keyboard.press('<');
    await page.keyboard.press('<');
    expect((await audio(page)).rate).to.equal(1.25);
    expect(await page.getByLabel('Hastighet').inputValue()).to.equal('1.25');

    // A reload keeps the filter and the call in the player; the call's link opens it for anyone with the role.
    expect(new URL(page.url()).hash).to.equal(`#/recordings?queue=bYGGLOV&play=${longId}`);
    await page.reload();
    await page.locator(`#recordings-list tr[data-id="${longId}"][aria-current="true"]`).waitFor();
    await page.locator('#player').waitFor();
    expect(await page.getByLabel('Kö').inputValue()).to.equal('bYGGLOV');
    expect((await audio(page)).src).to.equal(`/v1/recordings/${longId}/audio`);
    const link = (await page.locator('#player-link').getAttribute('href'))!;
    const other = await page.context().newPage();
    await other.goto(link);
    await other.locator('#player').waitFor();
    expect((await audio(other)).src).to.equal(`/v1/recordings/${longId}/audio`);
    await page.context().close();
  });

  it('marks the calls a trainer has fewer than 3 days left to hear with "gallras om N dagar", and no others', async () => {
    const page = await signIn('trainer');
    // The calls of the days around 30 days ago, page by page.
    await open(page, `#/recordings?from=${stockholmDay(31)}&to=${stockholmDay(26)}`);
    let marked = 0;
    let unmarked = 0;
    for (let p = 0; p < 10; p++) {
      const rows = await page.locator('#recordings-list tbody tr').all();
      expect(rows.length).to.be.greaterThan(0);
      for (const r of rows) {
        const left = Number((await r.locator('td').nth(4).textContent())!.match(/^\d+/)![0]);
        const badge = r.locator('.badge');
        if (left < 3) {
          marked++;
          expect(await badge.textContent()).to.equal(left === 1 ? 'gallras om 1 dag' : `gallras om ${left} dagar`);
        } else {
          unmarked++;
          expect(await badge.count(), `${left} days left`).to.equal(0);
        }
      }
      const next = page.getByRole('button', { name: 'Nästa sida' });
      if (!(await next.count())) break;
      const first = await rows[0]!.getAttribute('data-id');
      await next.click();
      await page.locator(`#recordings-list tbody tr[data-id="${first}"]`).waitFor({ state: 'detached' });
      await settled(page);
    }
    expect(marked, 'the month has calls close to their deadline').to.be.greaterThan(0);
    expect(unmarked, 'and calls further from it').to.be.greaterThan(0);
    await page.context().close();
  });

  it('refuses a trainer the audit view by URL with the Swedish page, and brings an expired session back to the same filtered view', async () => {
    const page = await signIn('trainer');
    await open(page, '#/audit');
    expect(await page.locator('#refused h1').textContent()).to.equal('Du har inte behörighet');
    await open(page, '#/recordings?queue=skola');
    await t.db('sessions').whereNull('closed_at').update({ expires_at: new Date(t.clock.now().getTime() - 1000).toISOString() });
    await page.getByRole('button', { name: 'Filtrera' }).click();
    await page.getByRole('heading', { name: 'Logga in' }).waitFor();
    expect(await page.locator('.note').textContent()).to.contain('Du har blivit utloggad');
    await page.getByLabel('Åtkomsttoken').fill(month.people.trainer.token);
    await page.getByRole('button', { name: 'Logga in' }).click();
    await page.locator('#recordings-list tbody tr').first().waitFor();
    expect(new URL(page.url()).hash).to.equal('#/recordings?queue=skola');
    expect(await page.getByLabel('Kö').inputValue()).to.equal('skola');
    await page.context().close();
  });

  /**
   * Every view in the role's menu, then the states within them: the player, the hold and delete
   * dialogs, a refusal, a problem. `check` runs at each, named for its message.
   */
  async function everyState(role: Staff, viewport: typeof WIDE, lang: Lang, check: (page: Page, where: string) => Promise<void>) {
    const page = await signIn(role, viewport, lang);
    const views = await page.locator('#menu a').evaluateAll((as) => as.map((a) => a.getAttribute('href')!));
    const where = (s: string) => `${role} ${lang} ${viewport.width}px ${s}`;
    for (const view of views) {
      await open(page, view);
      await check(page, where(view));
    }
    if (role !== 'auditor') {
      await open(page, '#/recordings');
      await page.locator('#recordings-list tbody tr button.play').first().click();
      await page.locator('#player').waitFor();
      await check(page, where('player'));
    }
    if (role === 'admin') {
      for (const action of ['button.hold', 'button.delete']) {
        await page.locator(`#recordings-list tbody tr ${action}`).first().click();
        await page.locator('dialog[open]').waitFor();
        await check(page, where(`dialog ${action}`));
        await page.keyboard.press('Escape');
        await page.locator('dialog').waitFor({ state: 'detached' });
      }
      // A refused reason: the dialog stays open and says why.
      await page.locator('#recordings-list tbody tr button.hold').first().click();
      await page.locator('dialog[open] input[name="holdReason"]').fill('Ring tillbaka 070-123 45 67');
      await page.locator('#dialog-confirm').click();
      await page.locator('#dialog-problem .problem').waitFor();
      await check(page, where('dialog refused'));
      await page.keyboard.press('Escape');
      await page.locator('dialog').waitFor({ state: 'detached' });
      await open(page, '#/holds');
      await page.locator('input[name="recordingId"]').fill('mc-2026-0024');
      await page.locator('input[name="reason"]').fill('Prov');
      await page.locator('input[name="reason"]').press('Enter');
      await page.locator('#holds-result .problem').waitFor();
      await check(page, where('problem'));
    }
    if (role === 'trainer') {
      await open(page, '#/audit');
      await page.locator('#refused').waitFor();
      await check(page, where('refusal'));
    }
    await page.context().close();
  }

  it('has no axe-core violations on any page or state, in Swedish and English, wide and at 390 px', async () => {
    const found: string[] = [];
    const axe = async (page: Page, where: string) => {
      for (const v of await axeViolations(page)) found.push(`${where}: ${v.id} (${v.impact}) ${v.help} — ${v.targets.slice(0, 3).join(', ')}`);
    };
    let states = 0;
    for (const viewport of [WIDE, PHONE]) {
      for (const lang of ['sv', 'en'] as const) {
        // Signed out: the sign-in page, and the one an ended session lands on.
        const context = await browser.newContext({ viewport, locale: 'sv-SE' });
        await context.addInitScript('globalThis.__name = (f) => f');
        const page = await context.newPage();
        await page.goto(base + '/');
        await page.getByRole('heading', { name: 'Logga in' }).waitFor();
        if (lang === 'en') await page.getByRole('button', { name: 'English' }).click();
        await axe(page, `signed out ${lang} ${viewport.width}px`);
        states++;
        await context.close();
        for (const role of ['trainer', 'auditor', 'admin'] as const) {
          await everyState(role, viewport, lang, async (p, where) => {
            states++;
            await axe(p, where);
          });
        }
      }
    }
    expect(found, found.join('\n')).to.deep.equal([]);
    expect(states).to.be.at.least(40);
  });

  it('shows no English catalogue text in the Swedish interface on any page or state, and keeps every page within 390 px with the actions on screen', async () => {
    const found: string[] = [];
    for (const viewport of [WIDE, PHONE]) {
      for (const role of ['trainer', 'auditor', 'admin'] as const) {
        await everyState(role, viewport, 'sv', async (page, where) => {
          const english = await page.evaluate(englishOnlyStrings);
          expect(english.length).to.be.greaterThan(50);
          for (const e of await page.evaluate(englishShown, english)) found.push(`${where}: "${e}"`);
          if (viewport !== PHONE) return;
          const overflow = await page.evaluate(sidewaysOverflow);
          expect(overflow, `${where}: no sideways scrolling`).to.be.at.most(0);
          // Every row action (Lyssna, Gallringsstopp, Radera, Häv) lies within the screen's width.
          const off = await page.evaluate(() => [...document.querySelectorAll<HTMLElement>('td.actions button')]
            .filter((b) => b.checkVisibility()).map((b) => b.getBoundingClientRect()).filter((r) => r.left < 0 || r.right > window.innerWidth).length);
          expect(off, `${where}: row actions off screen`).to.equal(0);
        });
      }
    }
    expect(found, found.join('\n')).to.deep.equal([]);
  });

  it('draws a focus ring of at least 3:1 against each background it sits on, on every page and state', async () => {
    const seen = new Set<string>();
    const bad: string[] = [];
    for (const viewport of [WIDE, PHONE]) {
      for (const role of ['trainer', 'auditor', 'admin'] as const) {
        await everyState(role, viewport, 'sv', async (page, where) => {
          // From the top of the page, or of the dialog when one is open (focus stays inside it).
          if (!(await page.locator('dialog[open]').count())) await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
          for (let i = 0; i < 30; i++) {
            await page.keyboard.press('Tab');
            const ring = await page.evaluate(focusRing);
            if (!ring) continue;
            seen.add(ring.background);
            if (ring.width < 2 || ring.ratio < 3) bad.push(`${where}: ${ring.what} ${ring.outline} ${ring.width}px on ${ring.background}: ${ring.ratio.toFixed(2)}:1`);
          }
        });
      }
    }
    expect(bad, bad.join('\n')).to.deep.equal([]);
    expect(seen.size, [...seen].join(' ')).to.be.at.least(3);
  });
});
