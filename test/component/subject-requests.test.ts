import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import { DAY_MS } from '../../src/shared/clock.js';
import { containsPhoneNumber } from '../../src/shared/phone-number-text.js';
import { startTestApp, TEST_DATABASE, TEST_METRICS_TOKEN, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';
import { unzip } from '../helpers/zip.js';
import { checkReceipt } from '../../scripts/receipt-check.js';

// Caller A's number, written every way a registrar might type it; B is another caller.
const A_FORMATS = ['+46705551234', '0046705551234', '070-555 12 34', '0705551234', '070 555 12 34', '070-5551234', '(070) 555 12 34', '+46 70 555 12 34', '46705551234'];
const A = '070-555 12 34';
const B = '+46738887766';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** supertest's parser for a binary body: the response is the Node stream underneath. */
const binary = (res: request.Response, cb: (err: Error | null, body: Buffer) => void) => {
  const stream = res as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => cb(null, Buffer.concat(chunks)));
};

for (const dialect of [TEST_DATABASE]) {
  describe(`data-subject requests by phone number (${dialect})`, function () {
    let t: TestApp;
    let admin: string;

    beforeEach(async () => {
      t = await startTestApp();
      admin = await t.token('admin');
    });
    afterEach(async () => {
      await t.close();
    });

    const auth = () => ({ Authorization: `Bearer ${admin}` });

    async function ingest(caller: string, file = 'call-8k.mp3', queue = 'bygglov'): Promise<{ id: string; callId: string; audio: Buffer }> {
      const meta = callMeta(t.clock.now(), { caller, queue });
      const audio = fixture(file);
      const { body, contentType } = recordingBody(meta, audio);
      const res = await request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body);
      expect(res.status, JSON.stringify(res.body)).to.be.oneOf([200, 201]);
      return { id: res.body.id, callId: meta.callId, audio };
    }

    async function open(kind: string, number: string, extra: Record<string, unknown> = {}) {
      const res = await request(t.app).post('/v1/subject-requests').set(auth()).send({ kind, number, receivedAt: '2026-11-02', reference: 'KS 2026/1234', ...extra });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      return res.body as { id: string; dueDate: string; dueAt: string; status: string };
    }

    const getCase = async (id: string) => (await request(t.app).get(`/v1/subject-requests/${id}`).set(auth())).body;
    const post = (id: string, action: string, body: Record<string, unknown> = {}) => request(t.app).post(`/v1/subject-requests/${id}/${action}`).set(auth()).send(body);
    const hold = (id: string, reason: string) => request(t.app).post(`/v1/recordings/${id}/hold`).set(auth()).send({ reason });
    const audit = async (action: string) =>
      (await t.db('audit_entries').where({ action }).orderBy('seq')).map((e: { details: string; subject: string }) => ({ subject: e.subject, details: JSON.parse(e.details) }));
    const status = async (id: string) => (await t.db('recordings').where({ id }).first()).status as string;
    async function download(id: string): Promise<Buffer> {
      const res = await request(t.app).get(`/v1/subject-requests/${id}/package`).set(auth()).buffer(true).parse(binary);
      expect(res.status).to.equal(200);
      expect(res.headers['content-type']).to.equal('application/zip');
      return res.body as Buffer;
    }

    it('names no file in the register extract after a phone number, even from call ids stored before they were checked', async () => {
      const calls = [await ingest(A, 'call-8k.mp3'), await ingest(A, 'call-pcm16-8k.wav'), await ingest(A, 'call-16k.flac')];
      // Rows as the attack run left them: call ids were stored unchecked until issue #23.
      const legacy = ['call-0701234567', '46701234567', '070_123_45_67'];
      for (const [i, c] of calls.entries()) await t.db('recordings').where({ id: c.id }).update({ call_id: legacy[i] });
      const c = await open('access', A);
      const names = [...(await unzip(await download(c.id))).keys()];
      expect(names.filter((n) => n.startsWith('inspelningar/'))).to.have.length(3);
      for (const name of names) {
        expect(containsPhoneNumber(name), name).to.equal(false);
        for (const digits of ['0701234567', '701234567', '070_123']) expect(name).not.to.include(digits);
      }
    });

    it('packages exactly the caller\'s calls, audio byte-identical, with SHA256SUMS that check out and one audit entry', async () => {
      const a1 = await ingest(A, 'call-8k.mp3', 'bygglov');
      const a2 = await ingest('+46705551234', 'call-pcm16-8k.wav', 'skola');
      const b1 = await ingest(B, 'call-16k.flac', 'hemligt-b');
      expect((await hold(a2.id, 'complaint under review')).status).to.equal(201);

      const c = await open('access', A);
      const d = await getCase(c.id);
      expect(d.calls.map((x: { recordingId: string }) => x.recordingId).sort()).to.deep.equal([a1.id, a2.id].sort());
      expect(d.calls.find((x: { recordingId: string }) => x.recordingId === a2.id).state).to.equal('held');
      expect(JSON.stringify(d)).not.to.include(b1.callId);

      const zip = await download(c.id);
      const files = await unzip(zip);
      const names = [...files.keys()];
      expect(names[0]).to.equal('sammanstallning.html');
      expect(names[1]).to.equal('uppgifter.json');
      expect(names[names.length - 1]).to.equal('SHA256SUMS');
      const audio = names.filter((n) => n.startsWith('inspelningar/'));
      expect(audio).to.have.length(2);
      const byCall = (callId: string) => files.get(audio.find((n) => n.includes(callId))!)!;
      expect(byCall(a1.callId).equals(a1.audio)).to.equal(true);
      expect(byCall(a2.callId).equals(a2.audio)).to.equal(true);
      expect(audio.find((n) => n.includes(a1.callId))).to.match(/^inspelningar\/\d{4}-\d{2}-\d{2}_\d{2}\.\d{2}\.\d{2}-call-[0-9a-f-]+\.mp3$/);
      const rows = await t.db('recordings').whereIn('id', [a1.id, a2.id]);
      for (const r of rows) expect(sha256(byCall(r.call_id))).to.equal(r.sha256);

      const sums = files.get('SHA256SUMS')!.toString('utf8').trim().split('\n');
      expect(sums).to.have.length(names.length - 1);
      for (const line of sums) {
        const [hex, name] = line.split('  ') as [string, string];
        expect(sha256(files.get(name)!), name).to.equal(hex);
      }
      const html = files.get('sammanstallning.html')!.toString('utf8');
      const json = JSON.parse(files.get('uppgifter.json')!.toString('utf8'));
      expect(html).to.include('Integritetsskyddsmyndigheten').and.include('Europe/Stockholm').and.include('bygglov').and.include('skola');
      expect(json.calls.map((x: { callId: string }) => x.callId).sort()).to.deep.equal([a1.callId, a2.callId].sort());
      for (const text of [html, JSON.stringify(json), zip.toString('latin1')]) {
        expect(text).not.to.include(b1.callId);
        expect(text).not.to.include('hemligt-b');
        expect(text).not.to.include('5551234');
      }

      const entries = await audit('subject-request.package');
      expect(entries).to.have.length(1);
      expect(entries[0]!.subject).to.equal(`subject-request:${c.id}`);
      expect(entries[0]!.details).to.include({ requestId: c.id, recordings: 2, files: 8, packageBytes: zip.length, packageSha256: sha256(zip) });

      // One receipt per listed call: its recording.ingested entry, checked offline against the log's key.
      const pem = (await request(t.app).get('/v1/transparency/key')).body.publicKey as string;
      const receipts = names.filter((n) => n.startsWith('kvitton/'));
      expect(receipts.sort()).to.deep.equal([`kvitton/${a1.callId}.tlog-proof`, `kvitton/${a2.callId}.tlog-proof`].sort());
      for (const [name, rec] of [[`kvitton/${a1.callId}.tlog-proof`, a1], [`kvitton/${a2.callId}.tlog-proof`, a2]] as const) {
        const v = checkReceipt(files.get(name)!.toString('utf8'), pem);
        expect(v, v.reason).to.include({ ok: true });
        expect(v.projection).to.include({ action: 'recording.ingested', subject: `recording:${rec.id}` });
      }
      expect(files.get('kvitton.html')!.toString('utf8')).to.include(a1.id).and.include('inklusionsbevis');
    });

    it('cuts the download off when a stored object was altered (authentication or SHA-256), and audits no package', async () => {
      const a1 = await ingest(A);
      const row = await t.db('recordings').where({ id: a1.id }).first();
      const file = path.join(t.dir, 'objects', row.storage_key);
      const bytes = readFileSync(file);
      bytes[bytes.length - 1] ^= 0xff;
      writeFileSync(file, bytes);
      const c = await open('access', A);
      let zip: Buffer | undefined;
      try {
        zip = (await request(t.app).get(`/v1/subject-requests/${c.id}/package`).set(auth()).buffer(true).parse(binary)).body as Buffer;
      } catch {
        // the connection was cut: that is the point
      }
      if (zip) {
        const unzipped = await unzip(zip).then(() => 'read', () => 'refused');
        expect(unzipped, 'a cut-off ZIP must not read').to.equal('refused');
      }
      expect(await audit('subject-request.package')).to.have.length(0);
      // Encrypted at rest, the altered byte fails its segment's authentication before the hash is reached.
      expect(t.logs()).to.match(/does not match its SHA-256|failed authentication/);
    });

    it('finds the same calls for the number in every common Swedish format', async () => {
      const a1 = await ingest('+46705551234');
      const a2 = await ingest('0705551234');
      await ingest(B);
      for (const number of A_FORMATS) {
        const c = await open('access', number);
        const d = await getCase(c.id);
        expect(d.calls.map((x: { recordingId: string }) => x.recordingId).sort(), number).to.deep.equal([a1.id, a2.id].sort());
      }
    });

    it('answers a caller who never called with an honest "nothing held" package', async () => {
      await ingest(B);
      const c = await open('access', '08-123 456 78');
      const d = await getCase(c.id);
      expect(d).to.deep.include({ nothingHeld: true, calls: [], optOut: null });
      const files = await unzip(await download(c.id));
      expect([...files.keys()]).to.deep.equal(['sammanstallning.html', 'uppgifter.json', 'kvitton.html', 'SHA256SUMS']);
      expect(files.get('sammanstallning.html')!.toString('utf8')).to.include('Inga samtal finns sparade');
      expect(JSON.parse(files.get('uppgifter.json')!.toString('utf8'))).to.deep.include({ nothingHeld: true, calls: [] });
      for (const line of files.get('SHA256SUMS')!.toString('utf8').trim().split('\n')) {
        const [hex, name] = line.split('  ') as [string, string];
        expect(sha256(files.get(name)!)).to.equal(hex);
      }
    });

    it('computes due dates across month ends and DST, lists overdue cases first, and extends by two months at most', async () => {
      const jan = await open('access', A, { receivedAt: '2026-01-31' });
      expect(jan).to.include({ dueDate: '2026-02-28', dueAt: '2026-02-28T23:00:00.000Z' });
      const leap = await open('access', A, { receivedAt: '2024-01-31' });
      expect(leap.dueDate).to.equal('2024-02-29');
      const spring = await open('access', A, { receivedAt: '2026-03-29' });
      expect(spring).to.include({ dueDate: '2026-04-29', dueAt: '2026-04-29T22:00:00.000Z' });
      const autumn = await open('access', A, { receivedAt: '2026-10-25T01:30:00+02:00' });
      expect(autumn).to.include({ dueDate: '2026-11-25', dueAt: '2026-11-25T23:00:00.000Z' });

      t.clock.set('2026-11-30T10:00:00.000Z');
      const fresh = await open('erasure', A, { receivedAt: '2026-11-30' });
      expect(fresh.dueDate).to.equal('2026-12-30');
      const list = (await request(t.app).get('/v1/subject-requests').set(auth())).body.items as { id: string; overdue: boolean; daysLeft: number }[];
      expect(list.map((x) => x.overdue)).to.deep.equal([true, true, true, true, false]);
      expect(list[4]).to.include({ id: fresh.id, daysLeft: 30 });

      const tooLong = await post(fresh.id, 'extend', { reason: 'many recordings to review', until: '2027-03-01' });
      expect(tooLong.status).to.equal(422);
      expect(tooLong.body.errors[0].pointer).to.equal('/until');
      const ext = await post(fresh.id, 'extend', { reason: 'many recordings to review', until: '2027-02-28' });
      expect(ext.status).to.equal(200);
      expect(ext.body).to.include({ status: 'extended', extendedUntil: '2027-02-28', effectiveDueDate: '2027-02-28' });
      expect(await audit('subject-request.extended')).to.have.length(1);

      const metrics = await request(t.app).get('/metrics').set('Authorization', `Bearer ${TEST_METRICS_TOKEN}`);
      expect(metrics.text).to.match(/gallra_subject_requests_overdue 4/);
      await t.services.subjectRequests.requests.answer(jan.id, 'admin:test');
      const after = await request(t.app).get('/metrics').set('Authorization', `Bearer ${TEST_METRICS_TOKEN}`);
      expect(after.text).to.match(/gallra_subject_requests_overdue 3/);
    });

    it('refuses a reference that looks like a phone number, naming the field, and stores nothing', async () => {
      const res = await request(t.app).post('/v1/subject-requests').set(auth()).send({ kind: 'access', number: A, receivedAt: '2026-11-02', reference: '070-555 12 34' });
      expect(res.status).to.equal(422);
      expect(res.headers['content-type']).to.match(/problem\+json/);
      expect(res.body.errors[0].pointer).to.equal('/reference');
      for (const form of ['5551234', '555 12 34', '555-12 34']) expect(JSON.stringify(res.body)).not.to.include(form);
      expect(await t.db('subject_requests').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
    });

    it('refuses each bad body naming its field and reason, with the codes the web interface and the CLI read, and changes nothing', async () => {
      const ok = { kind: 'access', number: A, receivedAt: '2026-11-02', reference: 'KS 2026/1234' };
      const opening: [Record<string, unknown>, string, string, (string | number)?][] = [
        [{ ...ok, kind: 'complaint' }, '/kind', 'invalid-value'],
        [{ ...ok, kind: undefined }, '/kind', 'invalid-value'],
        [{ ...ok, number: undefined }, '/number', 'required'],
        [{ ...ok, reference: undefined }, '/reference', 'required'],
        [{ ...ok, reference: '   ' }, '/reference', 'required'],
        [{ ...ok, reference: 42 }, '/reference', 'wrong-type'],
        [{ ...ok, reference: 'x'.repeat(101) }, '/reference', 'too-long', 100],
        [{ ...ok, note: 'call back on 0705551234' }, '/note', 'contains-phone-number'],
        [{ ...ok, note: 'y'.repeat(1001) }, '/note', 'too-long', 1000],
        [{ ...ok, receivedAt: '' }, '/receivedAt', 'required'],
        [{ ...ok, receivedAt: '2026-02-30' }, '/receivedAt', 'invalid-format'],
        [{ ...ok, receivedAt: '2026-11-02T10:00' }, '/receivedAt', 'invalid-format'],
        [{ ...ok, receivedAt: new Date(t.clock.now().getTime() + 2 * DAY_MS).toISOString() }, '/receivedAt', 'in-the-future'],
      ];
      const refused = async (res: request.Response, pointer: string, code: string, limit?: string | number) => {
        expect(res.status, JSON.stringify(res.body)).to.equal(422);
        expect(res.body.type).to.match(/\/invalid-subject-request$/);
        expect(res.body.errors, JSON.stringify(res.body)).to.have.length(1);
        expect(res.body.errors[0]).to.include({ pointer, code });
        if (limit !== undefined) expect(res.body.errors[0].limit).to.equal(limit);
        for (const form of ['5551234', '555 12 34']) expect(JSON.stringify(res.body)).not.to.include(form);
      };
      for (const [body, pointer, code, limit] of opening) await refused(await request(t.app).post('/v1/subject-requests').set(auth()).send(body), pointer, code, limit);
      expect(await t.db('subject_requests').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
      // A blank note is no note; the text is stored trimmed.
      const blank = await open('access', A, { note: '  ', reference: '  KS 2026/1234 ' });
      expect(blank).to.include({ reference: 'KS 2026/1234', note: null });

      const erasure = await open('erasure', A);
      const restriction = await open('restriction', A);
      const yesterday = new Date(t.clock.now().getTime() - 2 * DAY_MS).toISOString().slice(0, 10);
      const actions: [string, string, Record<string, unknown>, string, string][] = [
        [erasure.id, 'extend', { reason: 'ring 070-555 12 34', until: '2027-01-15' }, '/reason', 'contains-phone-number'],
        [erasure.id, 'extend', { reason: 'many calls', until: '15/1/2027' }, '/until', 'invalid-format'],
        [erasure.id, 'extend', { reason: 'many calls', until: erasure.dueDate }, '/until', 'not-after'],
        [erasure.id, 'erase', {}, '/confirm', 'required'],
        [erasure.id, 'erase', { confirm: 1.5 }, '/confirm', 'wrong-type'],
        [restriction.id, 'restrict', { until: '2026-13-01' }, '/until', 'invalid-format'],
        [restriction.id, 'restrict', { until: yesterday }, '/until', 'in-the-past'],
      ];
      for (const [id, action, body, pointer, code] of actions) await refused(await post(id, action, body), pointer, code);
      expect((await getCase(erasure.id)).request).to.include({ status: 'open', extendedUntil: null, carriedOutAt: null });
      expect((await getCase(restriction.id)).request).to.include({ carriedOutAt: null });
      const badId = await request(t.app).get('/v1/subject-requests/sr_nothere').set(auth());
      expect(badId.status).to.equal(422);
      expect(badId.body.errors[0]).to.include({ pointer: '/id' });
    });

    it('preserves the calls of an open access request past their deadline and lets them go after the answer', async () => {
      const a1 = await ingest(A);
      const c = await open('access', A);
      t.clock.advance(31 * DAY_MS);
      const first = await t.services.retention.run();
      expect(first.held).to.include(a1.id);
      expect(await status(a1.id)).to.equal('stored');
      const from = new Date(t.clock.now().getTime() - 40 * DAY_MS).toISOString();
      const report = await request(t.app).get('/v1/reports/retention').query({ from, to: t.clock.now().toISOString() }).set(auth());
      expect(report.body.recordings.find((r: { id: string }) => r.id === a1.id).outcome).to.equal('held-for-request');

      const extract = await unzip(await download(c.id));
      const pem = (await request(t.app).get('/v1/transparency/key')).body.publicKey as string;
      expect(checkReceipt(extract.get(`kvitton/${a1.callId}.tlog-proof`)!.toString('utf8'), pem)).to.include({ ok: true });
      await request(t.app).get(`/v1/transparency/deleted/${a1.id}`).expect(404);

      expect((await post(c.id, 'answer')).body.status).to.equal('answered');
      expect((await post(c.id, 'close')).body.status).to.equal('closed');
      await t.services.retention.run();
      expect(await status(a1.id)).to.equal('deleted');
      // The caller (or anyone) checks the deletion by the recording id the extract gave, without signing in.
      t.clock.advance(DAY_MS);
      const pub = await request(t.app).get(`/v1/transparency/deleted/${a1.id}`).expect(200);
      const v = checkReceipt(pub.body.tlogProof, pem);
      expect(v, v.reason).to.include({ ok: true });
      expect(v.projection).to.include({ action: 'recording.deleted', subject: `recording:${a1.id}` });
      // The closed case still names the recording it matched, without the caller key.
      expect((await getCase(c.id)).calls.map((x: { recordingId: string }) => x.recordingId)).to.deep.equal([a1.id]);
    });

    it('lets an administrator place and release a hold of their own on a preserved call, and keeps the preservation', async () => {
      const a1 = await ingest(A);
      const c = await open('access', A);
      expect((await hold(a1.id, 'public records request')).status).to.equal(201);
      const released = await request(t.app).delete(`/v1/recordings/${a1.id}/hold`).set(auth());
      expect(released.status).to.equal(200);
      expect(released.body.reason).to.equal('public records request');
      const d = await getCase(c.id);
      expect(d.calls[0].holds.map((h: { reason: string }) => h.reason)).to.deep.equal([`subject-request:${c.id}`]);
      const spoof = await hold(a1.id, `subject-request:${c.id}`);
      expect(spoof.status).to.equal(422);
    });

    it('does not preserve when SUBJECT_REQUEST_PRESERVE is off', async () => {
      await t.close();
      t = await startTestApp({ config: { subjectRequestPreserve: false } });
      admin = await t.token('admin');
      const a1 = await ingest(A);
      await open('access', A);
      t.clock.advance(31 * DAY_MS);
      await t.services.retention.run();
      expect(await status(a1.id)).to.equal('deleted');
    });

    it('erases every unheld call after the confirmation names their number, and reports the held one with its reason', async () => {
      const a1 = await ingest(A);
      const a2 = await ingest(A);
      const a3 = await ingest(A);
      const b1 = await ingest(B);
      await hold(a3.id, 'public records request');
      const c = await open('erasure', A);
      const wrong = await post(c.id, 'erase', { confirm: 3 });
      expect(wrong.status).to.equal(409);
      expect(wrong.body).to.include({ toDelete: 2, keptUnderHold: 1 });
      expect(await status(a1.id)).to.equal('stored');

      const res = await post(c.id, 'erase', { confirm: 2 });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.deep.equal({ deleted: 2, keptUnderHold: [{ recordingId: a3.id, reason: 'public records request' }] });
      expect([await status(a1.id), await status(a2.id), await status(a3.id), await status(b1.id)]).to.deep.equal(['deleted', 'deleted', 'stored', 'stored']);
      const deleted = await audit('recording.deleted');
      expect(deleted.map((e) => e.details.recordingId).sort()).to.deep.equal([a1.id, a2.id].sort());
      expect(deleted[0]!.details).to.include({ reason: 'subject-request', requestId: c.id });
      expect(await audit('subject-request.erased')).to.have.length(1);

      const d = await getCase(c.id);
      const states = Object.fromEntries(d.calls.map((x: { recordingId: string; state: string }) => [x.recordingId, x.state]));
      expect(states).to.deep.equal({ [a1.id]: 'deleted', [a2.id]: 'deleted', [a3.id]: 'held' });
      expect(d.calls.find((x: { recordingId: string }) => x.recordingId === a1.id)).to.include({ deletedBy: c.id, reason: 'subject-request' });

      const from = new Date(t.clock.now().getTime() - DAY_MS).toISOString();
      const report = await request(t.app).get('/v1/reports/retention').query({ from, to: new Date(t.clock.now().getTime() + DAY_MS).toISOString() }).set(auth());
      expect(report.body.totals['deleted-on-request']).to.equal(2);

      // One deletion receipt per call the case deleted, with the explanation in Swedish.
      const zip = await unzip((await request(t.app).get(`/v1/subject-requests/${c.id}/receipts`).set(auth()).buffer(true).parse(binary).expect(200)).body as Buffer);
      expect([...zip.keys()].sort()).to.deep.equal(['kvitton.html', `kvitton/${a1.callId}.tlog-proof`, `kvitton/${a2.callId}.tlog-proof`].sort());
      const pem = (await request(t.app).get('/v1/transparency/key')).body.publicKey as string;
      for (const rec of [a1, a2]) {
        const v = checkReceipt(zip.get(`kvitton/${rec.callId}.tlog-proof`)!.toString('utf8'), pem);
        expect(v, v.reason).to.include({ ok: true });
        expect(v.projection).to.include({ action: 'recording.deleted', subject: `recording:${rec.id}` });
      }
      expect(zip.get('kvitton.html')!.toString('utf8')).to.include('Så kontrollerar du ett kvitto');
      const access = await open('access', B);
      expect((await request(t.app).get(`/v1/subject-requests/${access.id}/receipts`).set(auth())).status).to.equal(409);
    });

    it('restricts: playback answers 410 and the call outlives its deadline until the case is closed', async () => {
      const a1 = await ingest(A);
      const c = await open('restriction', A);
      const res = await post(c.id, 'restrict', {});
      expect(res.body).to.include({ held: 1 });
      for (const role of ['trainer', 'admin'] as const) {
        const play = await request(t.app).get(`/v1/recordings/${a1.id}/audio`).set('Authorization', `Bearer ${await t.token(role)}`);
        expect(play.status, role).to.equal(410);
        expect(play.body.type).to.match(/recording-restricted$/);
      }
      const listed = await request(t.app).get('/v1/recordings').set('Authorization', `Bearer ${await t.token('trainer')}`);
      expect(listed.body.items.map((r: { id: string }) => r.id)).not.to.include(a1.id);
      t.clock.advance(31 * DAY_MS);
      await t.services.retention.run();
      expect(await status(a1.id)).to.equal('stored');
      const from = new Date(t.clock.now().getTime() - 40 * DAY_MS).toISOString();
      const report = await request(t.app).get('/v1/reports/retention').query({ from, to: t.clock.now().toISOString() }).set(auth());
      expect(report.body.totals['held-for-request']).to.equal(1);

      expect((await post(c.id, 'close')).body.status).to.equal('closed');
      expect((await t.db('subject_requests').where({ id: c.id }).first()).caller_key).to.equal(null);
      await t.services.retention.run();
      expect(await status(a1.id)).to.equal('deleted');
    });

    it('objects: registers the opt-out, erases the calls, and a later call from the number is discarded', async () => {
      const a1 = await ingest(A);
      const c = await open('objection', A);
      const res = await post(c.id, 'object', { confirm: 1 });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.include({ deleted: 1, optOutCreated: true });
      expect(await status(a1.id)).to.equal('deleted');
      const optOut = await t.db('opt_outs').where({ id: res.body.optOutId }).first();
      expect(optOut.source).to.equal('subject-request');
      expect(await audit('opt-out.registered')).to.have.length(1);

      const meta = callMeta(t.clock.now(), { caller: '+46 70 555 12 34' });
      const { body, contentType } = recordingBody(meta, fixture('call-8k.mp3'));
      const later = await request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body);
      expect(later.body).to.include({ status: 'discarded', reason: 'number-opted-out' });
    });

    it('after every kind of request, the number appears in no table, log line or audit entry, in any format', async () => {
      const a1 = await ingest(A);
      const a2 = await ingest(A);
      await ingest(B);
      await hold(a2.id, 'complaint under review');
      const access = await open('access', '+46705551234', { note: 'asked by letter' });
      await download(access.id);
      await post(access.id, 'answer');
      const restriction = await open('restriction', '0046705551234');
      await post(restriction.id, 'restrict', {});
      await post(restriction.id, 'close');
      const erasure = await open('erasure', '0705551234');
      await post(erasure.id, 'erase', { confirm: 1 });
      const objection = await open('objection', '070-555 12 34');
      await post(objection.id, 'object', { confirm: 0 });
      await post(objection.id, 'answer');
      expect(await status(a1.id)).to.equal('deleted');

      let haystack: string;
      if (dialect === 'sqlite') {
        await t.db.raw('PRAGMA wal_checkpoint(TRUNCATE)');
        haystack = readdirSync(t.dir)
          .filter((f) => f.startsWith('gallra.sqlite'))
          .map((f) => readFileSync(path.join(t.dir, f)).toString('latin1'))
          .join('\n');
      } else {
        const tables = (await t.db.raw("select tablename from pg_tables where schemaname = 'public'")).rows as { tablename: string }[];
        const dumps = await Promise.all(tables.map(async ({ tablename }) => JSON.stringify(await t.db(tablename).select('*'))));
        haystack = dumps.join('\n');
      }
      haystack += '\n' + t.logs();
      for (const needle of ['705551234', '70-555', '70 555', '555 12 34', '5551234', '555-12-34']) {
        expect(haystack.includes(needle), needle).to.equal(false);
      }
      expect(haystack).to.include('subject-request.package');
    });
  });
}
