import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import request from 'supertest';
import { readAll as readAuditEntries } from '../../src/audit-log/audit-repository.js';
import { verifyChain } from '../../src/audit-log/index.js';
import { loadConfig } from '../../src/config.js';
import type { CallMetadata } from '../../src/recordings/index.js';
import * as recordingRepository from '../../src/recordings/recording-repository.js';
import { periodOf } from '../../src/encryption/periods.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createFsObjectStore } from '../../src/storage/index.js';
import { auditEntries, seedRecordings } from '../helpers/retention.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';
import { filesUnder } from '../helpers/files.js';

const DAY = 86_400_000;
const MIN = 60_000;

function post(t: TestApp, meta: object) {
  const { body, contentType } = recordingBody(meta as never, fixture('call-pcm16-8k.wav'));
  return request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body);
}

describe('retention policy per queue', () => {
  let t: TestApp;
  let admin: string;
  let auditor: string;
  const put = (rules: unknown[], token = admin) => request(t.app).put('/v1/retention-policy').set('Authorization', `Bearer ${token}`).send({ rules });

  beforeEach(async () => {
    t = await startTestApp({ clock: new ManualClock('2026-11-23T10:00:00.000Z') });
    admin = await t.token('admin');
    auditor = await t.token('auditor');
  });
  afterEach(async () => {
    await t.close();
  });

  describe('the rules', () => {
    it('refuses a rule longer than RETENTION_DAYS with a 422 naming the ceiling, and stores nothing', async () => {
      const res = await put([{ match: { queue: 'bygglov' }, retainDays: 45 }]);
      expect(res.status).to.equal(422);
      expect(res.type).to.equal('application/problem+json');
      expect(res.body.type).to.match(/\/invalid-retention-policy$/);
      expect(res.body.detail).to.contain('at most 30 days').and.contain('RETENTION_DAYS');
      expect(res.body.errors).to.deep.include({ pointer: '/rules/0/retainDays', code: 'too-large', detail: res.body.errors[0].detail, limit: 30 });
      expect((await request(t.app).get('/v1/retention-policy').set('Authorization', `Bearer ${admin}`)).body).to.include({ version: 0 });
      expect(await auditEntries(t.db, 'policy.changed')).to.have.length(0);
    });

    it('refuses a rule with both retainDays and record: false, and one with neither', async () => {
      for (const rule of [{ match: { queue: 'a' }, retainDays: 7, record: false }, { match: { queue: 'a' } }]) {
        const res = await put([rule]);
        expect(res.status, JSON.stringify(rule)).to.equal(422);
        expect(res.body.errors[0]).to.include({ pointer: '/rules/0', code: 'invalid-value' });
      }
    });

    it('stores each change as a new version, audited policy.changed with who, what and the version; auditors read, only admins write', async () => {
      const rules = [{ match: { queue: 'socialtjanst' }, record: false }, { match: { queue: 'bygglov' }, retainDays: 7 }];
      const first = await put(rules);
      expect(first.status).to.equal(200);
      expect(first.body).to.deep.include({ version: 1, rules, ceilingDays: 30, editable: true, file: null, origin: 'api' });
      const second = await put([{ match: { queue: 'bygg*' }, retainDays: 14 }]);
      expect(second.body).to.include({ version: 2 });
      // The same rules again: no new version.
      expect((await put([{ match: { queue: 'bygg*' }, retainDays: 14 }])).body).to.include({ version: 2 });

      expect((await put(rules, auditor)).status).to.equal(403);
      const read = await request(t.app).get('/v1/retention-policy').set('Authorization', `Bearer ${auditor}`);
      expect(read.body).to.include({ version: 2 });
      const history = await request(t.app).get('/v1/retention-policy/history').set('Authorization', `Bearer ${auditor}`);
      expect(history.body.items.map((v: { version: number }) => v.version)).to.deep.equal([2, 1]);
      expect(history.body.items[1].rules).to.deep.equal(rules);

      const entries = await auditEntries(t.db, 'policy.changed');
      expect(entries).to.have.length(2);
      expect(entries[0]!.actor).to.match(/^admin:/);
      expect(entries[0]!.details).to.deep.include({ version: 1, previousVersion: 0, origin: 'api', rules });
      expect(entries[1]!.details).to.include({ version: 2, previousVersion: 1 });
    });
  });

  describe('record: false', () => {
    beforeEach(async () => {
      expect((await put([{ match: { queue: 'Socialtjänst' }, record: false }])).status).to.equal(200);
    });

    it('is answered record: false at the pre-call check for that queue (any case), and as before without a queue', async () => {
      const phone = await t.token('phone-system');
      const check = (body: object) => request(t.app).post('/v1/opt-outs/check').set('Authorization', `Bearer ${phone}`).send(body);
      expect((await check({ number: '+46701234567', queue: 'SOCIALTJÄNST' })).body).to.deep.equal({ optedOut: false, record: false, reason: 'queue-not-recorded' });
      expect((await check({ number: '+46701234567', queue: 'bygglov' })).body).to.deep.equal({ optedOut: false, record: true });
      expect((await check({ number: '+46701234567' })).body).to.deep.equal({ optedOut: false, record: true });
      const plain = await request(t.app).post('/v1/opt-outs/check').set('Authorization', `Bearer ${phone}`).set('Accept', 'text/plain').type('form').send('number=%2B46701234567&queue=socialtj%C3%A4nst');
      expect(plain.text).to.equal('do-not-record');
      // A caller who opted out is the reason, whatever the queue.
      await request(t.app).post('/v1/opt-outs').set('Authorization', `Bearer ${phone}`).send({ number: '+46701234567' });
      expect((await check({ number: '+46701234567', queue: 'socialtjänst' })).body).to.deep.equal({ optedOut: true, record: false, reason: 'caller-opted-out' });
    });

    it('discards such a call at the webhook before a byte is stored, audited as a discard with the policy version', async () => {
      const meta = callMeta(t.clock.now(), { queue: 'socialtjänst' });
      const res = await post(t, meta);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.deep.equal({ callId: meta.callId, status: 'discarded', reason: 'queue-not-recorded' });
      expect(filesUnder(path.join(t.dir, 'objects'))).to.deep.equal([]);
      const row = await recordingRepository.findByCallId(t.db, meta.callId);
      expect(row).to.include({ status: 'discarded', reason: 'queue-not-recorded', storageKey: null, callerKey: null, policyVersion: 1, policyRule: 'Socialtjänst' });
      const [entry] = await auditEntries(t.db, 'recording.discarded');
      expect(entry!.details).to.include({ reason: 'queue-not-recorded', policyVersion: 1, rule: 'Socialtjänst' });
      expect(await auditEntries(t.db, 'recording.ingested')).to.have.length(0);
    });

    it('discards such a call from a source through the same path', async () => {
      const m = callMeta(t.clock.now(), { queue: 'socialtjänst' });
      const meta: CallMetadata = { callId: m.callId, startedAt: new Date(m.startedAt), endedAt: new Date(m.endedAt), callerKey: null, queue: m.queue!, agentId: null, optOut: false };
      const outcome = await t.services.ingest.receive(meta, Readable.from([fixture('call-pcm16-8k.wav')]), Promise.resolve(true), { source: 'pbx-spool', actor: 'source:pbx-spool' });
      expect(outcome).to.deep.equal({ outcome: 'discarded', body: { callId: meta.callId, status: 'discarded', reason: 'queue-not-recorded' } });
      expect(filesUnder(path.join(t.dir, 'objects'))).to.deep.equal([]);
      const [entry] = await auditEntries(t.db, 'recording.discarded');
      expect(entry).to.include({ actor: 'source:pbx-spool' });
      expect(entry!.details).to.include({ reason: 'queue-not-recorded', source: 'pbx-spool' });
    });
  });

  it('deletes a 7-day queue before its 7-day deadline while another queue keeps 30', async () => {
    await put([{ match: { queue: 'bygglov' }, retainDays: 7 }]);
    const short = callMeta(t.clock.now(), { queue: 'Bygglov' });
    const long = callMeta(t.clock.now(), { queue: 'parkering' });
    expect((await post(t, short)).body.deadline).to.equal(new Date(Date.parse(short.startedAt) + 7 * DAY).toISOString());
    expect((await post(t, long)).body.deadline).to.equal(new Date(Date.parse(long.startedAt) + 30 * DAY).toISOString());
    const s = (await recordingRepository.findByCallId(t.db, short.callId))!;
    expect(s).to.include({ policyVersion: 1, policyRule: 'bygglov' });
    const [ingested] = await auditEntries(t.db, 'recording.ingested');
    expect(ingested!.details).to.include({ policyVersion: 1, rule: 'bygglov' });

    // The run before the 7-day deadline (deadline 10:00 − 10 min on day 7; a run at 09:00 with cutoff 10:15).
    t.clock.set(new Date(Date.parse(s.deadline) - 50 * MIN));
    const report = await t.services.retention.run();
    expect(report.deleted).to.deep.equal([s.id]);
    const after = (await recordingRepository.findById(t.db, s.id))!;
    expect(after.status).to.equal('deleted');
    expect(after.deletedAt! < s.deadline).to.equal(true);
    expect(await recordingRepository.findByCallId(t.db, long.callId)).to.include({ status: 'stored' });
  });

  it("re-wraps an encrypted recording's data key under its new deadline's period when a rule shortens it, and it still plays", async () => {
    const meta = callMeta(t.clock.now(), { queue: 'bygglov' });
    const stored = (await post(t, meta)).body;
    const before = await t.db('recording_data_keys').where({ recording_id: stored.id }).first();
    expect(before.kek_id).to.equal(periodOf(new Date(stored.deadline)).id);

    await put([{ match: { queue: 'bygglov' }, retainDays: 7 }]);
    expect((await t.services.retention.run()).policy).to.deep.equal({ version: 1, deadlinesChanged: 1 });
    const newDeadline = (await recordingRepository.findById(t.db, stored.id))!.deadline;
    const after = await t.db('recording_data_keys').where({ recording_id: stored.id }).first();
    // Wrapped under the period of the new deadline: its copies die with that period's key, not the old one.
    expect(after.kek_id).to.equal(periodOf(new Date(newDeadline)).id).and.not.equal(before.kek_id);
    expect(after.wrapped_key).to.exist.and.not.deep.equal(before.wrapped_key);
    const audio = await t.services.store.get(stored.storageKey ?? (await recordingRepository.findById(t.db, stored.id))!.storageKey!);
    const chunks: Buffer[] = [];
    for await (const c of audio.body) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(fixture('call-pcm16-8k.wav'))).to.equal(true);
  });

  it('shortening brings stored deadlines forward at the next run, each audited once; lengthening changes none', async () => {
    const now = t.clock.now();
    // Four stored recordings of bygglov started 1, 2, 20 and 25 days ago under 30 days, one of another queue.
    const seeded = await seedRecordings(t, [1, 2, 20, 25].map((d) => ({ deadline: new Date(now.getTime() - d * DAY + 30 * DAY), at: new Date(now.getTime() - d * DAY) })));
    const [other] = await seedRecordings(t, [{ deadline: new Date(now.getTime() + 10 * DAY), at: new Date(now.getTime() - 20 * DAY) }]);
    await t.db('recordings').where({ id: other!.id }).update({ queue: 'parkering' });

    const rules = [{ match: { queue: 'bygg*' }, retainDays: 7 }];
    const preview = await request(t.app).post('/v1/retention-policy/preview').set('Authorization', `Bearer ${admin}`).send({ rules });
    // All four get earlier deadlines; those started 20 and 25 days ago are past 7 days: deleted at the next run.
    expect(preview.body).to.deep.equal({ shortened: 4, deletedAtNextRun: 2 });
    expect(await auditEntries(t.db, 'recording.deadline-changed')).to.have.length(0, 'a preview changes nothing');

    expect((await put(rules)).body).to.include({ version: 1 });
    const report = await t.services.retention.run();
    expect(report.policy).to.deep.equal({ version: 1, deadlinesChanged: 4 });
    expect(report.deleted).to.have.members([seeded[2]!.id, seeded[3]!.id]);
    const changes = await auditEntries(t.db, 'recording.deadline-changed');
    expect(changes).to.have.length(4);
    for (const r of seeded) {
      const entry = changes.find((e) => e.subject === `recording:${r.id}`)!;
      const want = new Date(Date.parse(r.startedAt) + 7 * DAY).toISOString();
      expect(entry.details).to.deep.equal({ recordingId: r.id, oldDeadline: r.deadline, newDeadline: want, policyVersion: 1, rule: 'bygg*' });
      expect((await recordingRepository.findById(t.db, r.id))!.deadline).to.equal(want);
    }
    expect((await recordingRepository.findById(t.db, other!.id))!.deadline).to.equal(other!.deadline);

    // The next run changes nothing again.
    expect((await t.services.retention.run()).policy).to.deep.equal({ version: 1, deadlinesChanged: 0 });
    expect(await auditEntries(t.db, 'recording.deadline-changed')).to.have.length(4);

    // Lengthening: no stored deadline moves.
    const before = await t.db('recordings').select('id', 'deadline').orderBy('id');
    const longer = await request(t.app).post('/v1/retention-policy/preview').set('Authorization', `Bearer ${admin}`).send({ rules: [{ match: { queue: 'bygg*' }, retainDays: 20 }] });
    expect(longer.body).to.deep.equal({ shortened: 0, deletedAtNextRun: 0 });
    await put([{ match: { queue: 'bygg*' }, retainDays: 20 }]);
    expect((await t.services.retention.run()).policy).to.deep.equal({ version: 2, deadlinesChanged: 0 });
    expect(await t.db('recordings').select('id', 'deadline').orderBy('id')).to.deep.equal(before);
    expect(await auditEntries(t.db, 'recording.deadline-changed')).to.have.length(4);
    expect((await verifyChain(readAuditEntries(t.db))).ok).to.equal(true);
  });

  it("shows every call's rule and version, outcomes per queue and the policy history in the report, its CSV and the overview", async () => {
    await put([{ match: { queue: 'bygg*' }, retainDays: 7 }, { match: { queue: 'hr' }, record: false }]);
    const short = callMeta(t.clock.now(), { queue: 'bygglov' });
    const other = callMeta(t.clock.now(), { queue: 'parkering' });
    const hr = callMeta(t.clock.now(), { queue: 'HR' });
    for (const m of [short, other, hr]) expect((await post(t, m)).status).to.be.oneOf([200, 201]);
    const period = { from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' };
    const report = await request(t.app).get('/v1/reports/retention').query(period).set('Authorization', `Bearer ${auditor}`);
    expect(report.status).to.equal(200);
    const rowOf = (callId: string) => report.body.recordings.find((r: { callId: string }) => r.callId === callId);
    expect(rowOf(short.callId)).to.include({ queue: 'bygglov', rule: 'bygg*', policyVersion: 1, outcome: 'stored-not-yet-due' });
    expect(rowOf(other.callId)).to.include({ queue: 'parkering', rule: null, policyVersion: 1 });
    expect(rowOf(hr.callId)).to.include({ queue: 'HR', rule: 'hr', policyVersion: 1, outcome: 'discarded', reason: 'queue-not-recorded' });
    expect(report.body.byQueue.map((q: { queue: string; totals: { all: number } }) => [q.queue, q.totals.all])).to.deep.equal([['bygglov', 1], ['HR', 1], ['parkering', 1]]);
    expect(report.body.policyHistory.map((v: { version: number }) => v.version)).to.deep.equal([1]);

    const csv = await request(t.app).get('/v1/reports/retention').query({ ...period, format: 'csv' }).set('Authorization', `Bearer ${auditor}`);
    const lines = csv.text.replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(lines[0]).to.match(/;Kö;Gallringsregel;Regelversion$/);
    expect(lines.find((l) => l.startsWith(short.callId))).to.match(/;bygglov;bygg\*;1$/);
    expect(lines.find((l) => l.startsWith(other.callId))).to.match(/;parkering;standard \(RETENTION_DAYS\);1$/);
    const totals = await request(t.app).get('/v1/reports/retention').query({ ...period, format: 'csv-totals' }).set('Authorization', `Bearer ${auditor}`);
    expect(totals.text).to.contain('Gallringsregler version 1');

    const overview = await request(t.app).get('/v1/reports/overview').query(period).set('Authorization', `Bearer ${auditor}`);
    expect(overview.status).to.equal(200);
    expect(overview.body.byQueue.find((q: { queue: string }) => q.queue === 'HR').totals).to.include({ discarded: 1, all: 1 });
    expect(overview.body.policyHistory[0]).to.include({ version: 1, origin: 'api' });
  });

  it('the overdue check uses the latest deadline', async () => {
    const now = t.clock.now();
    await seedRecordings(t, [{ deadline: new Date(now.getTime() + 20 * DAY), at: new Date(now.getTime() - 10 * DAY) }]);
    await put([{ match: { queue: 'bygglov' }, retainDays: 7 }]);
    // A dry run does not apply the policy: the recording is not yet overdue by its old deadline…
    await t.services.retention.run({ dryRun: true });
    expect(await t.services.retention.overdueCount()).to.equal(0);
    // …a run brings it forward and deletes it; had the store failed, it would count as overdue.
    const report = await t.services.retention.run();
    expect(report.deleted).to.have.length(1);
    expect(report.overdue).to.equal(0);
  });
});

describe('a policy change while an upload streams in', () => {
  let t: TestApp;
  let stored: () => void;
  let putDone: Promise<void>;
  beforeEach(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gallra-policy-race-'));
    const inner = createFsObjectStore({ root: path.join(dir, 'objects') });
    // Tells the test when the audio is in the store, before the upload commits.
    const store = { ...inner, put: async (...args: Parameters<typeof inner.put>) => { const r = await inner.put(...args); stored(); return r; } };
    t = await startTestApp({ clock: new ManualClock('2026-11-23T10:00:00.000Z'), store });
    putDone = new Promise((r) => (stored = r));
    await t.services.retentionPolicy.set({ rules: [{ match: { queue: 'bygglov' }, retainDays: 20 }] }, 'admin:test');
  });
  afterEach(async () => {
    await t.close();
  });

  const upload = () => {
    const m = callMeta(t.clock.now(), { queue: 'bygglov' });
    const meta: CallMetadata = { callId: m.callId, startedAt: new Date(m.startedAt), endedAt: new Date(m.endedAt), callerKey: null, queue: m.queue!, agentId: null, optOut: false };
    let authenticate!: (ok: boolean) => void;
    const outcome = t.services.ingest.receive(meta, Readable.from([fixture('call-pcm16-8k.wav')]), new Promise<boolean>((r) => (authenticate = r)));
    return { meta, outcome, authenticate };
  };

  it('commits under the newer version when it shortens the rule', async () => {
    const u = upload();
    await putDone;
    await t.services.retentionPolicy.set({ rules: [{ match: { queue: 'bygglov' }, retainDays: 7 }] }, 'admin:test');
    u.authenticate(true);
    const r = await u.outcome;
    expect(r.outcome).to.equal('stored');
    expect((r.body as { deadline: string }).deadline).to.equal(new Date(u.meta.startedAt.getTime() + 7 * DAY).toISOString());
    expect(await recordingRepository.findByCallId(t.db, u.meta.callId)).to.include({ policyVersion: 2, policyRule: 'bygglov' });
  });

  it('discards the call, its object removed, when the newer version says record: false', async () => {
    const u = upload();
    await putDone;
    await t.services.retentionPolicy.set({ rules: [{ match: { queue: 'bygglov' }, record: false }] }, 'admin:test');
    u.authenticate(true);
    expect(await u.outcome).to.deep.include({ outcome: 'discarded' });
    expect(await recordingRepository.findByCallId(t.db, u.meta.callId)).to.include({ status: 'discarded', reason: 'queue-not-recorded', storageKey: null });
    expect(filesUnder(path.join(t.dir, 'objects'))).to.deep.equal([]);
  });
});

describe('RETENTION_POLICY_FILE', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gallra-policy-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is refused at start when a rule exceeds RETENTION_DAYS, naming the variable', () => {
    const file = path.join(dir, 'policy.yaml');
    writeFileSync(file, 'rules:\n  - match: { queue: bygglov }\n    retainDays: 45\n');
    expect(() => loadConfig({ RETENTION_POLICY_FILE: file })).to.throw(/RETENTION_POLICY_FILE: rules\.0\.retainDays: at most 30 days/);
  });

  it('is loaded as a new version when it differs, and makes the policy read-only through the API', async () => {
    const file = path.join(dir, 'policy.json');
    writeFileSync(file, JSON.stringify({ rules: [{ match: { queue: 'hr*' }, record: false }] }));
    const config = loadConfig({ RETENTION_POLICY_FILE: file });
    const t = await startTestApp({ config: { retentionPolicyFile: config.retentionPolicyFile } });
    try {
      expect((await t.services.retentionPolicy.loadFile(config.retentionPolicyFile!.body)).changed).to.equal(true);
      expect((await t.services.retentionPolicy.loadFile(config.retentionPolicyFile!.body)).changed).to.equal(false);
      const admin = await t.token('admin');
      const read = await request(t.app).get('/v1/retention-policy').set('Authorization', `Bearer ${admin}`);
      expect(read.body).to.deep.include({ version: 1, origin: 'file', file, editable: false, changedBy: 'system:policy-file' });
      const refused = await request(t.app).put('/v1/retention-policy').set('Authorization', `Bearer ${admin}`).send({ rules: [] });
      expect(refused.status).to.equal(409);
      expect(refused.body.type).to.match(/\/retention-policy-from-file$/);
      expect((await auditEntries(t.db, 'policy.changed'))[0]).to.include({ actor: 'system:policy-file' });
    } finally {
      await t.close();
    }
  });
});
