import { expect } from 'chai';
import { chromium } from 'playwright-core';
import request from 'supertest';
import { ManualClock } from '../../src/shared/clock.js';
import { addCalendarMonths, localDateOf, localDateTime } from '../../src/subject-requests/index.js';
import { expectCleanState, LANGS_AND_WIDTHS } from '../helpers/page-checks.js';
import { startTestApp, TEST_CONTROLLER, TEST_DATABASE, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';
import { unzip } from '../helpers/zip.js';

const A = '070-555 12 34';
const CONFIDENTIAL = 'Utredning om hot mot handläggare, sekretess';
const HOUR = 3_600_000;

/** "2026-11-03 10:00:00 CET": how the extract writes a moment. */
const stamp = (iso: string) => {
  const l = localDateTime(new Date(iso));
  return `${l.date} ${l.time} ${l.zone}`;
};
const re = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const STAMP = '\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} CES?T';
const DATE = '\\d{4}-\\d{2}-\\d{2}';

/**
 * Every statement sammanstallning.html may make, each with what makes it true. A sentence of the
 * extract that matches none of these fails the test: a new statement is added here only with the
 * check that proves it.
 */
const STATEMENTS: Array<[RegExp, string]> = [
  [/^Registerutdrag: inspelade samtal( till kontaktcentret)?$/, 'title'],
  [new RegExp(`^Ärende KS 2026/1234, begäran mottagen ${DATE}\\.$`), 'the case as opened (checked below)'],
  [new RegExp(`^Utdraget skapades ${STAMP}\\.$`), 'the clock at download'],
  [/^(Personuppgiftsansvarig|Namn|Organisationsnummer|Kontakt|Dataskyddsombud|Om behandlingen|Ändamål|Rättslig grund|Lagringstid|Mottagare|Dina rättigheter|Hur ditt nummer sparas|Dina samtal|Du har rätt att:)$/, 'headings'],
  [new RegExp(`^${re(TEST_CONTROLLER.name)}$|^${re(TEST_CONTROLLER.orgNumber)}$|^${re(TEST_CONTROLLER.contact)}$|^${re(TEST_CONTROLLER.dpoContact)}$`), 'the configured controller'],
  [/^Inspelade samtal används enbart internt, för utbildning av kontaktcentrets handläggare\.$/, 'purpose: playback is for trainers'],
  [/^Allmänt intresse \(artikel 6\.1 e dataskyddsförordningen\), kommunens uppdrag att ge service till invånare\.$/, 'legal basis'],
  [/^Ett inspelat samtal raderas senast 45 dagar efter att samtalet började, om inte en spärr kräver att det sparas längre\.$/, 'RETENTION_DAYS=45 in this app; deadlines checked per call below'],
  [/^En spärr läggs när en begäran som din eller ett annat ärende kräver att samtalet sparas\.$/, 'holds: subject requests and manual holds'],
  [/^Inga mottagare utanför kommunen; bara kontaktcentrets utbildare och administratörer har åtkomst\.$/, 'roles'],
  [/^(få en kopia av uppgifterna \(registerutdrag, artikel 15\)|få felaktiga uppgifter rättade \(artikel 16\)|få uppgifterna raderade \(artikel 17\)|begära att behandlingen begränsas \(artikel 18\)|invända mot behandlingen \(artikel 21\)|avböja inspelning av framtida samtal)$/, 'rights'],
  [/^Du kan klaga hos Integritetsskyddsmyndigheten \(IMY\), Box 8114, 104 20 Stockholm, www\.imy\.se\.$/, 'IMY'],
  [/^Ditt telefonnummer sparas inte i klartext\.$/, 'caller key only (invariant 4)'],
  [/^Till varje sparat samtal hör i stället en kontrollsumma av numret, framräknad med en hemlig nyckel \(HMAC-SHA256\)\.$/, 'src/shared/caller-key.ts'],
  [/^Kommunen har nyckeln och kan med den räkna fram samma kontrollsumma ur ett telefonnummer; så har dina samtal hittats för detta utdrag\.$/, 'the case turns the number into the caller key'],
  [/^Den som har både nyckeln och en kopia av uppgifterna kan på samma sätt ta reda på vilka nummer som har ringt\.$/, 'README: the key reverses a copy of the database'],
  [/^Kopplingen mellan ett samtal och numret tas bort när inspelningen raderas\.$/, 'deletion sets caller_key to null'],
  [/^Ett raderat samtal finns därför bara med här om ett ärende om ditt nummer som ännu inte är avslutat, som detta, har spärrat eller raderat det\.$/, 'caseCallsOf: this case and open cases of the caller key'],
  [new RegExp(`^Samtal som raderades innan din begäran registrerades, ${STAMP}, kan alltså inte längre kopplas till ditt nummer, om inte en tidigare begäran från dig som ännu inte är avslutad har spärrat eller raderat dem\\.$`), 'as above'],
  [/^(Inget av samtalen nedan har raderats sedan din begäran kom in\.|\d+ av samtalen nedan har raderats sedan din begäran kom in; när står vid varje samtal\.)$/, 'count checked below'],
  [/^(Datum och tid \(Europe\/Stockholm\)|Kö|Längd|Vad som hänt|Raderas|Fil)$/, 'table head'],
  [new RegExp(`^${STAMP}$`), 'call start'],
  [/^(bygglov|skola|–)$/, 'queues of the calls made here'],
  [/^\d+ min \d+ s$/, 'duration'],
  [/^inspelningar\/[\w.-]+\.mp3$/, 'audio file in the package'],
  [/^Inspelningen finns sparad och ljudfilen ingår i utdraget\.$/, 'stored: file present (checked below)'],
  [/^Den sparas under lagringstiden\.$/, 'stored, no hold'],
  [/^Den sparas för att du har begärt detta registerutdrag: den raderas inte medan din begäran behandlas\.$/, 'preservation hold of this case'],
  [/^Den sparas på grund av en annan begäran om dina uppgifter\.$/, 'hold of another case'],
  [/^Den sparas för att ett annat ärende kräver att samtalet sparas\.$/, 'a manual hold, named by its kind only'],
  [new RegExp(`^Spärren gäller längst till och med ${DATE}\\.$`), 'the holds\' until (checked below)'],
  [new RegExp(`^Inspelningen raderades ${STAMP}(, medan ditt ärende var öppet)?\\.$`), 'deleted_at (checked below)'],
  [/^Orsak: (lagringstiden gick ut|en administratör raderade den|du begärde att den skulle raderas|ditt nummer har avböjt inspelning|du avböjde inspelning av samtalet)\.$/, 'deletion reasons'],
  [new RegExp(`^Senast ${STAMP}\\.$`), 'the deadline of an unheld call (checked below)'],
  [new RegExp(`^Vid första gallringen efter att spärren upphört, eller senast ${STAMP} om det är senare\\.$`), 'a held call whose holds all end'],
  [/^Inget datum är bestämt: samtalet raderas först när spärren hävs\.$/, 'a hold without end'],
  [/^Filen SHA256SUMS innehåller kontrollsummor för alla filer i utdraget\.$/, 'SHA256SUMS'],
];

/** The text of the page's body, one chunk per element, split into sentences. */
function sentencesOf(html: string): string[] {
  const body = html.slice(html.indexOf('<body>'));
  const decode = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  return body
    .split(/<[^>]+>/)
    .map((chunk) => decode(chunk).trim())
    .filter(Boolean)
    .flatMap((chunk) => chunk.split(/(?<=[.!?])\s+(?=[A-ZÅÄÖ0-9])/));
}

/** The cells of the table row of the call that started at `startedAt`. */
function rowOf(html: string, startedAt: string): string[] {
  const row = html.split('<tr>').find((r) => r.startsWith(`<td>${stamp(startedAt)}</td>`));
  expect(row, `a row for the call of ${stamp(startedAt)}`).to.be.a('string');
  return row!.split('</td>').slice(0, -1).map((c) => c.replace(/<[^>]+>/g, '').replace(/&amp;/g, '&').trim());
}

describe(`the register extract's sammanstallning.html states only what is true (${TEST_DATABASE})`, function () {
  let t: TestApp;
  let admin: string;
  beforeEach(async () => {
    t = await startTestApp({ clock: new ManualClock(new Date('2026-11-03T09:00:00Z')), config: { retentionDays: 45 } });
    admin = await t.token('admin');
  });
  afterEach(() => t.close());

  const auth = () => ({ Authorization: `Bearer ${admin}` });
  async function ingest(queue: string): Promise<{ id: string; startedAt: string }> {
    t.clock.advance(60_000); // each call its own start minute: the rows are found by it
    const meta = callMeta(t.clock.now(), { caller: '+46705551234', queue });
    const { body, contentType } = recordingBody(meta, fixture('call-8k.mp3'));
    const res = await request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body);
    expect(res.status, JSON.stringify(res.body)).to.be.oneOf([200, 201]);
    return { id: res.body.id, startedAt: meta.startedAt };
  }
  const open = async (kind: string) => {
    const res = await request(t.app).post('/v1/subject-requests').set(auth()).send({ kind, number: A, receivedAt: localDateOf(t.clock.now()), reference: 'KS 2026/1234' });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body as { id: string; openedAt: string };
  };
  const row = async (id: string) => t.db('recordings').where({ id }).first();

  it('names the configured controller and DPO, the configured retention, why each call is kept and when it goes, and nothing untrue', async () => {
    // Before the access request: A1 is erased by an (open) erasure case; A2 is held by an administrator.
    const a1 = await ingest('bygglov');
    const a2 = await ingest('skola');
    expect((await request(t.app).post(`/v1/recordings/${a2.id}/hold`).set(auth()).send({ reason: CONFIDENTIAL })).status).to.equal(201);
    const erasure = await open('erasure');
    expect((await request(t.app).post(`/v1/subject-requests/${erasure.id}/erase`).set(auth()).send({ confirm: 1 })).status).to.equal(200);

    // The next day: A3, then the access request (which preserves A2 and A3), then A4.
    t.clock.advance(24 * HOUR);
    const a3 = await ingest('bygglov');
    const access = await open('access');
    const received = localDateOf(t.clock.now());
    t.clock.advance(HOUR);
    const a4 = await ingest('bygglov');
    const a5 = await ingest('skola');
    // While the access case is open, the erasure case deletes what is not held: A4 and A5.
    t.clock.advance(HOUR);
    expect((await request(t.app).post(`/v1/subject-requests/${erasure.id}/erase`).set(auth()).send({ confirm: 2 })).status).to.equal(200);
    const a6 = await ingest('skola');

    const res = await request(t.app).get(`/v1/subject-requests/${access.id}/package`).set(auth()).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    expect(res.status).to.equal(200);
    const files = await unzip(res.body as Buffer);
    const html = files.get('sammanstallning.html')!.toString('utf8');

    // Every sentence is one the code makes true.
    const sentences = sentencesOf(html);
    expect(sentences.length).to.be.greaterThan(60);
    for (const s of sentences) expect(STATEMENTS.some(([pattern]) => pattern.test(s)), `a statement not on the list: "${s}"`).to.equal(true);
    expect(html).to.match(/<meta name="viewport" content="width=device-width, initial-scale=1">/);
    expect(html).not.to.match(/baklänges|går inte att läsa|30 dagar/);
    expect(html).not.to.include(CONFIDENTIAL);
    expect(html).not.to.include('subject-request:');
    for (const v of [TEST_CONTROLLER.name, TEST_CONTROLLER.orgNumber, TEST_CONTROLLER.contact, TEST_CONTROLLER.dpoContact]) expect(sentences).to.include(v);
    expect(sentences).to.include(`Ärende KS 2026/1234, begäran mottagen ${received}.`);
    expect(sentences.join('\n')).to.include(`Samtal som raderades innan din begäran registrerades, ${stamp(access.openedAt)}, kan alltså`);

    // A1: deleted by the erasure case the day before the request came in.
    const r1 = await row(a1.id);
    expect(rowOf(html, a1.startedAt)[3]).to.equal(`Inspelningen raderades ${stamp(r1.deleted_at)}. Orsak: du begärde att den skulle raderas.`);
    expect(rowOf(html, a1.startedAt)[4]).to.equal('–');
    // A2: held by the administrator (named by kind only) and preserved by this request; no end date.
    expect(rowOf(html, a2.startedAt)[3]).to.equal(
      'Inspelningen finns sparad och ljudfilen ingår i utdraget. Den sparas för att ett annat ärende kräver att samtalet sparas. Den sparas för att du har begärt detta registerutdrag: den raderas inte medan din begäran behandlas.',
    );
    expect(rowOf(html, a2.startedAt)[4]).to.equal('Inget datum är bestämt: samtalet raderas först när spärren hävs.');
    // A3: preserved until the answer, three months after receipt at the latest; then its deadline.
    const r3 = await row(a3.id);
    expect(rowOf(html, a3.startedAt)[3]).to.equal(
      `Inspelningen finns sparad och ljudfilen ingår i utdraget. Den sparas för att du har begärt detta registerutdrag: den raderas inte medan din begäran behandlas. Spärren gäller längst till och med ${addCalendarMonths(received, 3)}.`,
    );
    expect(rowOf(html, a3.startedAt)[4]).to.equal(`Vid första gallringen efter att spärren upphört, eller senast ${stamp(r3.deadline)} om det är senare.`);
    // A4, A5: deleted while the case was open, with the time.
    for (const a of [a4, a5]) {
      const r = await row(a.id);
      expect(rowOf(html, a.startedAt)[3]).to.equal(`Inspelningen raderades ${stamp(r.deleted_at)}, medan ditt ärende var öppet. Orsak: du begärde att den skulle raderas.`);
    }
    expect(sentences).to.include('2 av samtalen nedan har raderats sedan din begäran kom in; när står vid varje samtal.');
    // A6: stored, no hold: deleted on its deadline, 45 days after the call began.
    const r6 = await row(a6.id);
    expect(Date.parse(r6.deadline) - Date.parse(a6.startedAt)).to.equal(45 * 24 * HOUR);
    expect(rowOf(html, a6.startedAt)[3]).to.equal('Inspelningen finns sparad och ljudfilen ingår i utdraget. Den sparas under lagringstiden.');
    expect(rowOf(html, a6.startedAt)[4]).to.equal(`Senast ${stamp(r6.deadline)}.`);
    // Every kept call has its audio in the package; every stored-but-unheld call a deletion date.
    for (const a of [a2, a3, a6]) expect(files.has(rowOf(html, a.startedAt)[5]!), a.id).to.equal(true);

    // uppgifter.json: the same controller, hold kinds without their reasons, the configured retention.
    const json = JSON.parse(files.get('uppgifter.json')!.toString('utf8'));
    expect(json.controller).to.deep.include({ name: TEST_CONTROLLER.name, dpoContact: TEST_CONTROLLER.dpoContact });
    expect(json.notice.retentionDays).to.equal(45);
    const j2 = json.calls.find((c: { recordingId?: string; callId: string; startedAt: string }) => c.startedAt === a2.startedAt);
    expect(j2.holds.map((h: { kind: string }) => h.kind).sort()).to.deep.equal(['other-matter', 'this-request']);
    expect(JSON.stringify(json)).not.to.include(CONFIDENTIAL);
  });

  it('fits 1280 and 390 px screens in Chromium with axe-core clean: no sideways scrolling of the page, the table scrolls in its own box', async () => {
    for (const q of ['bygglov', 'skola', 'bygglov']) await ingest(q);
    const access = await open('access');
    const res = await request(t.app).get(`/v1/subject-requests/${access.id}/package`).set(auth()).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    const html = (await unzip(res.body as Buffer)).get('sammanstallning.html')!.toString('utf8');
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    try {
      // A Swedish document for the citizen (there is no English extract): at both widths, axe-core clean.
      for (const width of new Set(LANGS_AND_WIDTHS.map(([, w]) => w))) {
        const page = await browser.newPage({ viewport: { width, height: 844 } });
        await page.setContent(html);
        await expectCleanState(page, `sammanstallning.html at ${width} px`);
        await page.close();
      }
    } finally {
      await browser.close();
    }
  });
});
