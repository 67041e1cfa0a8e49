import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import path from 'node:path';
import { expect } from 'chai';
import { chromium, type Browser, type Page } from 'playwright-core';
import request from 'supertest';
import { expectCleanState, LANGS_AND_WIDTHS, type Lang } from '../helpers/page-checks.js';
import { startTestApp, TEST_CONTROLLER, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';
import { unzip } from '../helpers/zip.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.resolve(import.meta.dirname, '../../test-output/screenshots');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A registrar handles data-subject requests in Debian's Chromium against the real app on loopback. */
describe('Data-subject requests in a real browser', function () {
  this.timeout(120_000);
  let t: TestApp;
  let server: Server;
  let base: string;
  let browser: Browser;
  let admin: string;
  const calls: Record<string, string> = {};

  async function ingest(name: string, caller: string, file: string, queue: string) {
    const meta = callMeta(t.clock.now(), { caller, queue });
    const { body, contentType } = recordingBody(meta, fixture(file));
    const res = await request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body);
    expect(res.status).to.equal(201);
    calls[name] = res.body.id;
  }

  before(async function () {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (npm test does it as root: scripts/test-setup.sh)`);
    mkdirSync(SHOTS, { recursive: true });
    t = await startTestApp();
    server = t.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    admin = await t.token('admin');
    await ingest('a1', '070-555 12 34', 'call-8k.mp3', 'bygglov');
    await ingest('a2', '+46705551234', 'call-pcm16-8k.wav', 'skola');
    await ingest('b1', '+46738887766', 'call-16k.flac', 'annan');
    const hold = await request(t.app).post(`/v1/recordings/${calls.a2}/hold`).set('Authorization', `Bearer ${admin}`).send({ reason: 'complaint under review' });
    expect(hold.status).to.equal(201);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });

  after(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
    await t?.close();
  });

  /** Signed in as the administrator; in Swedish at 1200 px unless a language and width are named. */
  async function signIn(view?: { lang: Lang; width: number }): Promise<Page> {
    const lang = view?.lang ?? 'sv';
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: view?.width ?? 1200, height: 900 }, locale: 'sv-SE' });
    await context.addInitScript(`localStorage.setItem('gallra.lang', '${lang}');`);
    const page = await context.newPage();
    await page.goto(base + '/');
    await signInHere(page, lang);
    return page;
  }

  async function signInHere(page: Page, lang: Lang): Promise<void> {
    await page.getByLabel(lang === 'sv' ? 'Åtkomsttoken' : 'Access token').fill(admin);
    await page.getByRole('button', { name: lang === 'sv' ? 'Logga in' : 'Sign in' }).click();
    await page.locator('#who').filter({ hasText: lang === 'sv' ? 'Inloggad som' : 'Signed in as' }).waitFor();
  }

  async function openCase(page: Page, kind: string, number: string, reference: string) {
    await page.getByRole('link', { name: 'Begäran från registrerad' }).click();
    await page.getByRole('heading', { name: 'Begäran från registrerad', level: 1 }).waitFor();
    await page.getByLabel('Typ').selectOption(kind);
    await page.getByLabel('Telefonnummer').fill(number);
    await page.getByLabel('Diarienummer').fill(reference);
    await page.getByRole('button', { name: 'Registrera begäran' }).click();
    await page.locator('#subject-request-facts').waitFor();
  }

  it('names the configured controller and its data-protection officer in the footer, signed out and in, in Swedish and English, at 1280 and 390 px', async () => {
    for (const [lang, width] of LANGS_AND_WIDTHS) {
      const context = await browser.newContext({ viewport: { width, height: 900 }, locale: 'sv-SE' });
      await context.addInitScript(`localStorage.setItem('gallra.lang', '${lang}');`);
      const page = await context.newPage();
      await page.goto(base + '/');
      const footer = page.locator('footer#controller');
      await footer.waitFor();
      const text = (await footer.innerText()).replace(/\s+/g, ' ');
      for (const v of [TEST_CONTROLLER.name, TEST_CONTROLLER.orgNumber, TEST_CONTROLLER.contact, TEST_CONTROLLER.dpoContact]) expect(text, `${lang} ${width}`).to.include(v);
      expect(text).to.include(lang === 'sv' ? 'Dataskyddsombud' : 'Data-protection officer');
      await expectCleanState(page, `signed out ${lang} ${width}`);
      await signInHere(page, lang);
      expect((await footer.innerText()).replace(/\s+/g, ' ')).to.include(TEST_CONTROLLER.dpoContact);
      await expectCleanState(page, `signed in ${lang} ${width}`);
      await context.close();
    }
  });

  it('walks a registrar through an access request: create, see the calls, download the ZIP, mark it answered', async () => {
    const page = await signIn();
    await openCase(page, 'access', '070-555 12 34', 'KS 2026/77');
    const rows = page.locator('tr[data-recording]');
    await expect(await rows.count()).to.equal(2);
    expect(await page.locator(`tr[data-recording="${calls.a2}"]`).getAttribute('data-state')).to.equal('held');
    expect(await page.locator(`tr[data-recording="${calls.b1}"]`).count()).to.equal(0);
    expect(await page.content()).not.to.include('555 12 34');
    await page.screenshot({ path: path.join(SHOTS, 'subject-request-access.png'), fullPage: true });

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Ladda ner registerutdrag' }).click()]);
    const zip = readFileSync((await download.path())!);
    const files = await unzip(zip);
    const audio = [...files.keys()].filter((n) => n.startsWith('inspelningar/'));
    expect(audio).to.have.length(2);
    expect([...files.keys()]).to.include.members(['sammanstallning.html', 'uppgifter.json', 'SHA256SUMS']);
    const stored = await t.db('recordings').whereIn('id', [calls.a1, calls.a2]).pluck('sha256');
    expect(audio.map((n) => sha256(files.get(n)!)).sort()).to.deep.equal([...stored].sort());

    await page.getByRole('button', { name: 'Besvarad' }).click();
    await page.locator('#subject-request-status').filter({ hasText: 'besvarad' }).waitFor();
    const entries = await t.db('audit_entries').whereIn('action', ['subject-request.opened', 'subject-request.package', 'subject-request.answered']).orderBy('seq').pluck('action');
    expect(entries).to.deep.equal(['subject-request.opened', 'subject-request.package', 'subject-request.answered']);
  });

  it('erases only after a confirmation that names the number of calls, and keeps the held one', async () => {
    const page = await signIn();
    await openCase(page, 'erasure', '0705551234', 'KS 2026/78');
    await page.getByRole('button', { name: 'Radera', exact: true }).click();
    const dialog = page.getByRole('alertdialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).to.include('Radera 1 samtal').and.include('1 samtal med gallringsstopp behålls');
    expect(await t.db('recordings').where({ id: calls.a1 }).first()).to.include({ status: 'stored' });
    await page.getByRole('button', { name: 'Ja, radera 1 samtal' }).click();
    await page.locator('#erase-result').waitFor();
    expect(await page.locator('#erase-result').textContent()).to.equal('Raderade 1 samtal. 1 behölls under gallringsstopp.');
    expect(await page.locator(`tr[data-recording="${calls.a1}"]`).getAttribute('data-state')).to.equal('deleted');
    expect(await page.locator(`tr[data-recording="${calls.a2}"]`).getAttribute('data-state')).to.equal('held');
    expect((await t.db('recordings').where({ id: calls.a1 }).first()).status).to.equal('deleted');
    expect((await t.db('recordings').where({ id: calls.b1 }).first()).status).to.equal('stored');
    await page.screenshot({ path: path.join(SHOTS, 'subject-request-erasure.png'), fullPage: true });
  });

  it('lists the cases with due dates and highlights the overdue ones', async () => {
    await request(t.app).post('/v1/subject-requests').set('Authorization', `Bearer ${admin}`).send({ kind: 'access', number: '+46738887766', receivedAt: '2026-01-05', reference: 'KS 2026/1' });
    const page = await signIn();
    await page.getByRole('link', { name: 'Begäran från registrerad' }).click();
    const overdue = page.locator('#subject-requests-list tr.overdue');
    await overdue.first().waitFor();
    expect(await overdue.count()).to.equal(1);
    expect(await overdue.textContent()).to.include('KS 2026/1').and.include('2026-02-05').and.include('försenad');
  });

  it('leaves "delete existing recordings" unchecked on the opt-out form and confirms the count before deleting', async () => {
    const page = await signIn();
    await page.getByRole('link', { name: 'Nej till inspelning' }).click();
    const box = page.getByLabel('Radera befintliga inspelningar');
    expect(await box.isChecked()).to.equal(false);
    await page.locator('input[name="number"]').fill('+46738887766');
    await box.check();
    await page.getByRole('button', { name: 'Registrera' }).click();
    const dialog = page.getByRole('alertdialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).to.include('Radera 1 befintliga inspelningar');
    expect((await t.db('recordings').where({ id: calls.b1 }).first()).status).to.equal('stored');
    await page.getByRole('button', { name: 'Ja, radera 1 samtal' }).click();
    await page.locator('#opt-outs-result .ok').waitFor();
    expect((await t.db('recordings').where({ id: calls.b1 }).first()).status).to.equal('deleted');
  });

  it('carries out an objection as what it is: registers that the number is not to be recorded, then deletes the calls it names', async () => {
    const optOutsBefore = await t.db('audit_entries').where({ action: 'opt-out.registered' }).count({ n: '*' });
    for (const [i, [lang, width]] of LANGS_AND_WIDTHS.entries()) {
      const sv = lang === 'sv';
      const where = `${lang}, ${width} px`;
      // A number of its own with one stored call: objected to twice, first new, then already registered.
      await ingest(`objection ${where}`, `+4670111223${i}`, 'call-8k.mp3', 'bygglov');
      const page = await signIn({ lang, width });
      for (const already of [false, true]) {
        const c = await request(t.app).post('/v1/subject-requests').set('Authorization', `Bearer ${admin}`)
          .send({ kind: 'objection', number: `070-111 22 3${i}`, receivedAt: new Date(t.clock.now()).toISOString().slice(0, 10), reference: `KS 2026/9${i}${Number(already)}` });
        expect(c.status).to.equal(201);
        await page.goto(`${base}/#/subjectRequests/${c.body.id}`);
        await page.locator('#subject-request-facts').waitFor();
        expect(await page.getByRole('button', { name: sv ? 'Radera' : 'Erase', exact: true }).count(), 'no bare "delete" for an objection').to.equal(0);
        await page.getByRole('button', { name: sv ? 'Registrera invändning' : 'Register objection' }).click();
        const dialog = page.getByRole('alertdialog');
        await dialog.waitFor();
        const said = await dialog.textContent();
        if (!already) {
          expect(said).to.include(sv ? 'Numret registreras som att det avböjer inspelning: nya samtal från numret spelas inte in.' : 'The number is registered as opting out of recording: new calls from it are not recorded.')
            .and.include(sv ? 'Därefter raderas numrets 1 sparade samtal.' : 'Then its 1 stored call is deleted.');
        } else {
          // The first objection registered the opt-out and deleted the call: the dialog says the opt-out stays, with its time and zone.
          expect(said).to.match(sv
            ? /Numret är redan registrerat som att det avböjer inspelning, sedan \d{4}-\d{2}-\d{2} \d{2}:\d{2} CES?T; det står kvar\./
            : /The number is already registered as opting out of recording, since \d{2}\/\d{2}\/\d{4}, \d{2}:\d{2} CES?T; that stays\./)
            .and.include(sv ? 'Inga sparade samtal behöver raderas.' : 'No stored calls need deleting.');
        }
        await expectCleanState(page, `the objection's confirmation (${where}, ${already ? 'already registered' : 'new'})`);
        const n = already ? 0 : 1;
        await page.getByRole('button', { name: sv ? `Registrera att numret inte ska spelas in, och radera ${n} samtal` : `Register that the number is not to be recorded, and delete ${n} ${n === 1 ? 'call' : 'calls'}` }).click();
        await page.locator('#erase-result').waitFor();
        expect(await page.locator('#erase-result').textContent()).to.equal(sv
          ? `${already ? 'Numret var redan registrerat' : 'Numret är registrerat'}: nya samtal från det spelas inte in. Raderade ${n} samtal.`
          : `${already ? 'The number was already registered' : 'The number is registered'}: new calls from it are not recorded. Deleted ${n} ${n === 1 ? 'call' : 'calls'}.`);
        expect(await page.locator('#subject-request-opt-out').textContent()).to.match(sv ? /^\d{4}-\d{2}-\d{2} \d{2}:\d{2} CES?T$/ : /^\d{2}\/\d{2}\/\d{4}, \d{2}:\d{2} CES?T$/);
        await expectCleanState(page, `the objection carried out (${where}, ${already ? 'already registered' : 'new'})`);
      }
      expect((await t.db('recordings').where({ id: calls[`objection ${where}`] }).first()).status).to.equal('deleted');
      await page.context().close();
    }
    const optOutsAfter = await t.db('audit_entries').where({ action: 'opt-out.registered' }).count({ n: '*' });
    expect(Number(optOutsAfter[0]!.n), 'one opt-out registered per number, by its two objections').to.equal(Number(optOutsBefore[0]!.n) + LANGS_AND_WIDTHS.length);
  });

  it('keeps what was typed in the request form on a problem and says what is wrong in Swedish and English, from the codes', async () => {
    for (const [lang, width] of LANGS_AND_WIDTHS) {
      const sv = lang === 'sv';
      const page = await signIn({ lang, width });
      await page.goto(`${base}/#/subjectRequests`);
      const form = page.locator('#subject-request-form');
      await form.waitFor();
      await form.locator('input[name="number"]').fill('070-55');
      await form.locator('input[name="reference"]').fill('KS 2026/500');
      await form.getByRole('button').click();
      const problem = page.locator('#subject-request-result .problem');
      await problem.waitFor();
      expect(await problem.locator('li').allTextContents()).to.deep.equal([
        sv ? 'Telefonnummer: är inte ett telefonnummer som går att tolka (skriv till exempel 070-123 45 67 eller +46 70 123 45 67)' : 'Phone number: is not a phone number that can be understood (write e.g. 070-123 45 67 or +46 70 123 45 67)',
      ]);
      expect(await problem.textContent()).not.to.match(/E\.164|expected|Invalid|Tjänstens svar/);
      expect(await form.locator('input[name="number"]').inputValue(), 'the number stays to be corrected').to.equal('070-55');
      expect(await form.locator('input[name="reference"]').inputValue()).to.equal('KS 2026/500');
      expect(await form.locator('input[name="number"]').getAttribute('aria-invalid')).to.equal('true');
      await expectCleanState(page, `the refused request (${lang}, ${width} px)`);

      // A reference that is a phone number: named by its field, in words.
      await form.locator('input[name="number"]').fill('070-555 12 34');
      await form.locator('input[name="reference"]').fill('070-555 12 34');
      await form.getByRole('button').click();
      await problem.locator('li').filter({ hasText: sv ? 'Diarienummer' : 'Case number' }).waitFor();
      expect(await problem.locator('li').allTextContents()).to.deep.equal([sv ? 'Diarienummer: får inte innehålla ett telefonnummer' : 'Case number: must not contain a phone number']);
      expect(await problem.locator('.message').textContent()).to.equal(sv ? 'Begäran är felaktigt ifylld.' : 'The request is not filled in correctly.');
      expect(await form.locator('input[name="number"]').getAttribute('aria-invalid')).to.equal(null);
      expect(await form.locator('input[name="reference"]').getAttribute('aria-invalid')).to.equal('true');
      await expectCleanState(page, `the refused reference (${lang}, ${width} px)`);
      await page.context().close();
    }
  });
});
