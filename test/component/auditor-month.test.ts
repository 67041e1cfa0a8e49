import { expect } from 'chai';
import request from 'supertest';
import type { AuditEntry } from '../../src/audit-log/index.js';
import { OUTCOMES } from '../../src/reports/index.js';
import { DAY_MS } from '../../src/shared/clock.js';
import { localDateOf, startOfLocalDay } from '../../src/subject-requests/index.js';
import { auditEntries } from '../helpers/retention.js';
import { seedMonth, type SeededMonth } from '../helpers/seed-month.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const parseNdjson = (text: string) => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEntry);

/**
 * The auditor's questions over a seeded month (test/helpers/seed-month.ts: 400+ calls in every
 * outcome, made through the real use cases): one seeding for the whole file, since it takes seconds.
 */
describe("An auditor's month of calls", function () {
  this.timeout(300_000);
  let t: TestApp;
  let month: SeededMonth;
  let auth: { Authorization: string };

  before(async () => {
    t = await startTestApp();
    month = await seedMonth(t);
    auth = { Authorization: `Bearer ${month.people.auditor.token}` };
  });
  after(async () => t?.close());

  describe('the seeding helper', () => {
    it('holds 400+ calls in every outcome the retention report knows, and a chain that verifies', async () => {
      expect(month.calls).to.be.at.least(400);
      const report = await t.services.retentionReport('auditor:test', { from: month.from, to: month.to, format: 'json' });
      expect(report.totals.all).to.equal(month.calls);
      for (const o of OUTCOMES) expect(report.totals[o], o).to.be.greaterThan(0);
      expect(report.discrepancies).to.deep.equal([]);
      expect(report.recordings.filter((r) => r.outcome === 'deleted-late').map((r) => r.id).sort()).to.deep.equal([...month.lateDeletions].sort());
      expect(t.clock.now().toISOString()).to.equal(month.now.toISOString());
      const verification = await t.services.auditCheckpoints.verify();
      expect(verification.ok, JSON.stringify(verification)).to.equal(true);
    });

    it("names the admin's manual deletion with its note, and the timeline call's listening, hold, release and deletion", async () => {
      const [deleted] = (await auditEntries(t.db, 'recording.deleted')).filter((e) => e.subject === `recording:${month.manualDeletion.recordingId}`);
      expect(deleted!.actor).to.equal(month.manualDeletion.by.actor);
      expect(deleted!.details).to.deep.include({ reason: 'manual', note: month.manualDeletion.note });
      const about = (await auditEntries(t.db)).filter((e) => e.subject === `recording:${month.timeline.recordingId}`).map((e) => e.action);
      expect(about).to.deep.equal(['recording.ingested', 'recording.played', 'hold.placed', 'hold.released', 'recording.deleted']);
    });
  });

  describe('GET /v1/reports/overview (the compliance overview)', () => {
    /** Whole Stockholm days, as the interface asks: from the first call's day to the day after today. */
    const period = () => ({ from: startOfLocalDay(localDateOf(new Date(month.from))).toISOString(), to: startOfLocalDay(localDateOf(new Date(month.now.getTime() + DAY_MS))).toISOString() });

    it("counts the period's calls by outcome exactly as the retention report does, for the whole month and a part of it", async () => {
      const whole = period();
      const part = { from: new Date(month.now.getTime() - 35 * DAY_MS).toISOString(), to: new Date(month.now.getTime() - 2 * DAY_MS).toISOString() };
      for (const p of [whole, part]) {
        const overview = (await request(t.app).get('/v1/reports/overview').query(p).set(auth).expect(200)).body;
        const report = (await request(t.app).get('/v1/reports/retention').query(p).set(auth).expect(200)).body;
        expect(overview.totals).to.deep.equal(report.totals);
      }
      const overview = (await request(t.app).get('/v1/reports/overview').query(whole).set(auth).expect(200)).body;
      expect(overview.totals.all).to.equal(month.calls);
      for (const [k, n] of Object.entries(overview.totals)) expect(n, k).to.be.greaterThan(0);
    });

    it('draws deletions per Stockholm day against the deadlines of that day, late ones apart', async () => {
      const p = period();
      const overview = (await request(t.app).get('/v1/reports/overview').query(p).set(auth).expect(200)).body;
      const days = overview.deletionsPerDay as { date: string; due: number; onTime: number; late: number }[];
      expect(days[0]!.date).to.equal(localDateOf(new Date(month.from)));
      expect(days.at(-1)!.date).to.equal(localDateOf(month.now));
      expect(new Set(days.map((d) => d.date)).size).to.equal(days.length);
      const rows = await t.db('recordings').select('deadline', 'deleted_at', 'status', 'reason');
      const deleted = rows.filter((r) => r.status === 'deleted');
      expect(days.reduce((a, d) => a + d.onTime + d.late, 0)).to.equal(deleted.length);
      expect(days.reduce((a, d) => a + d.late, 0)).to.equal(month.lateDeletions.length);
      const late = deleted.filter((r) => r.deleted_at > r.deadline && r.reason !== 'subject-request');
      for (const r of late) expect(days.find((d) => d.date === localDateOf(new Date(r.deleted_at)))!.late, r.deleted_at).to.be.greaterThan(0);
      const dueInPeriod = rows.filter((r) => r.status !== 'discarded' && r.deadline >= p.from && r.deadline < p.to);
      expect(days.reduce((a, d) => a + d.due, 0)).to.equal(dueInPeriod.length);
    });

    it('ages what is stored now: the oldest call without a hold is the headline, held calls apart', async () => {
      const overview = (await request(t.app).get('/v1/reports/overview').query(period()).set(auth).expect(200)).body;
      const stored = await t.db('recordings').where({ status: 'stored' }).select('id', 'started_at');
      const held = new Set((await t.db('holds').whereNull('released_at').whereNull('lapsed_at').select('recording_id')).map((h) => h.recording_id));
      const age = (r: { started_at: string }) => Math.floor((month.now.getTime() - Date.parse(r.started_at)) / DAY_MS);
      expect(overview.stored.count).to.equal(stored.length);
      expect(overview.stored.held).to.equal(stored.filter((r) => held.has(r.id)).length);
      expect(overview.stored.oldestUnheldDays).to.equal(Math.max(...stored.filter((r) => !held.has(r.id)).map(age)));
      expect(overview.stored.oldestHeldDays).to.equal(Math.max(...stored.filter((r) => held.has(r.id)).map(age)));
      expect(overview.stored.byAge).to.have.length(31);
      for (const b of overview.stored.byAge) {
        const of = stored.filter((r) => (b.days === 30 ? age(r) >= 30 : age(r) === b.days));
        expect({ unheld: b.unheld, held: b.held }, `${b.days} days`).to.deep.equal({ unheld: of.filter((r) => !held.has(r.id)).length, held: of.filter((r) => held.has(r.id)).length });
      }
    });

    it('reports the verified chain and the latest signed checkpoint', async () => {
      const overview = (await request(t.app).get('/v1/reports/overview').query(period()).set(auth).expect(200)).body;
      expect(overview.chain).to.include({ ok: true, acknowledged: false });
      expect(overview.chain.problem).to.equal(null);
      const latest = (await t.services.auditCheckpoints.list()).at(-1)!;
      expect(overview.latestCheckpoint).to.deep.equal({ seq: latest.seq, hash: latest.hash, at: latest.at, keyId: latest.keyId });
    });

    it('refuses a reversed or too long period naming the field, and trainers', async () => {
      const reversed = await request(t.app).get('/v1/reports/overview').query({ from: '2026-11-10', to: '2026-11-01' }).set(auth).expect(422);
      expect(reversed.type).to.equal('application/problem+json');
      expect(reversed.body.errors).to.deep.equal([{ pointer: '/to', code: 'not-after', detail: 'must be after from' }]);
      const long = await request(t.app).get('/v1/reports/overview').query({ from: '2024-01-01', to: '2026-01-01' }).set(auth).expect(422);
      expect(long.body.errors[0].pointer).to.equal('/to');
      const missing = await request(t.app).get('/v1/reports/overview').set(auth).expect(422);
      expect(missing.body.errors.map((e: { pointer: string }) => e.pointer)).to.include.members(['/from', '/to']);
      await request(t.app).get('/v1/reports/overview').query(period()).set('Authorization', `Bearer ${month.people.trainer.token}`).expect(403);
    });
  });

  describe('GET /v1/audit search (call, recording, actor) and GET /v1/people', () => {
    it("finds a deletion by its call id, with its reason, note and the admin's token named by /v1/people", async () => {
      const found = parseNdjson((await request(t.app).get('/v1/audit').query({ call: month.manualDeletion.callId }).set(auth).expect(200)).text);
      expect(found.map((e) => e.action)).to.deep.equal(['recording.ingested', 'recording.deleted']);
      const deletion = found[1]!;
      expect(deletion.subject).to.equal(`recording:${month.manualDeletion.recordingId}`);
      expect(deletion.details).to.deep.include({ reason: 'manual', note: month.manualDeletion.note, callId: month.manualDeletion.callId });
      const people = (await request(t.app).get('/v1/people').set(auth).expect(200)).body.items as { actor: string; name: string; kind: string }[];
      expect(people.find((p) => p.actor === deletion.actor)).to.deep.include({ name: 'Eva Registrator', kind: 'token' });
    });

    it("gives one recording's timeline: stored, played by the trainer, held, released, deleted", async () => {
      const found = parseNdjson((await request(t.app).get('/v1/audit').query({ recording: month.timeline.recordingId }).set(auth).expect(200)).text);
      expect(found.map((e) => e.action)).to.deep.equal(['recording.ingested', 'recording.played', 'hold.placed', 'hold.released', 'recording.deleted']);
      expect(found[1]!.actor).to.equal(month.people.trainer.actor);
      expect(found.map((e) => e.at)).to.deep.equal(found.map((e) => e.at).sort());
      const byCall = parseNdjson((await request(t.app).get('/v1/audit').query({ call: month.timeline.callId }).set(auth).expect(200)).text);
      expect(byCall.map((e) => e.seq)).to.deep.equal(found.map((e) => e.seq));
    });

    it('finds an opt-out during a call under its recording too, and filters by actor and action together', async () => {
      const optOut = (await auditEntries(t.db, 'call.opt-out-requested'))[0]!;
      const callId = optOut.subject!.slice('call:'.length);
      const row = await t.db('recordings').where({ call_id: callId }).first();
      const found = parseNdjson((await request(t.app).get('/v1/audit').query({ recording: row.id }).set(auth).expect(200)).text);
      expect(found.map((e) => e.action)).to.include.members(['recording.ingested', 'call.opt-out-requested', 'recording.deleted']);
      const mine = parseNdjson((await request(t.app).get('/v1/audit').query({ actor: month.people.admin.actor, action: 'hold.placed' }).set(auth).expect(200)).text);
      const expected = (await auditEntries(t.db, 'hold.placed')).filter((e) => e.actor === month.people.admin.actor);
      expect(mine.map((e) => e.seq)).to.deep.equal(expected.map((e) => e.seq));
      expect(mine.length).to.be.greaterThan(5);
    });

    it('refuses a call id that looks like a phone number, a recording id that is not one and a malformed actor, naming the field and changing nothing', async () => {
      const before = (await auditEntries(t.db)).length;
      for (const [q, pointer] of [[{ call: '0701234567' }, '/call'], [{ recording: 'mc-2026-0024' }, '/recording'], [{ actor: 'Eva Registrator' }, '/actor']] as const) {
        const res = await request(t.app).get('/v1/audit').query(q).set(auth).expect(422);
        expect(res.type).to.equal('application/problem+json');
        expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).to.deep.equal([pointer]);
      }
      expect((await auditEntries(t.db)).length).to.equal(before);
    });
  });
});
