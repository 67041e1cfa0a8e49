import { existsSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import sinon from 'sinon';
import request from 'supertest';
import { runRetentionOnce } from '../../jobs/retention.js';
import { verifyChain } from '../../src/audit-log/index.js';
import { readAll as readAuditEntries } from '../../src/audit-log/audit-repository.js';
import * as recordingRepository from '../../src/recordings/recording-repository.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createFsObjectStore } from '../../src/storage/index.js';
import { auditEntries, seedRecording, seedRecordings, switchableStore } from '../helpers/retention.js';
import { startTestApp, TEST_METRICS_TOKEN, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

async function row(t: TestApp, id: string) {
  return recordingRepository.findById(t.db, id);
}

describe('retention: deleting every recording before its deadline', () => {
  let t: TestApp;
  let store: ReturnType<typeof switchableStore>;
  let objectsDir: string;

  beforeEach(async () => {
    // A fixed quarter-hour-aligned start keeps the schedule arithmetic readable.
    const clock = new ManualClock('2026-11-23T10:00:00.000Z');
    const dir = mkdtempSync(path.join(tmpdir(), 'gallra-ret-'));
    objectsDir = path.join(dir, 'objects');
    store = switchableStore(createFsObjectStore({ root: objectsDir }));
    t = await startTestApp({ clock, store });
  });
  afterEach(async () => {
    sinon.restore();
    await t.close();
    rmSync(path.dirname(objectsDir), { recursive: true, force: true });
  });

  describe('the purge', () => {
    it('deletes what is due before the next run plus margin, and leaves later deadlines alone', async () => {
      const now = t.clock.now();
      // Next run 10:15, margin 75 min: the cutoff is 11:30.
      const due = await seedRecording(t, { deadline: new Date(now.getTime() + 80 * MIN), at: new Date(now.getTime() - DAY) });
      const later = await seedRecording(t, { deadline: new Date(now.getTime() + 2 * HOUR), at: new Date(now.getTime() - DAY) });
      const report = await t.services.retention.run();
      expect(report.cutoff).to.equal('2026-11-23T11:30:00.000Z');
      expect(report.deleted).to.deep.equal([due.id]);
      expect(await row(t, due.id)).to.include({ status: 'deleted', reason: 'retention', callerKey: null, deletedAt: now.toISOString(), sha256: due.sha256, callId: due.callId, startedAt: due.startedAt, deadline: due.deadline });
      expect(await t.store.exists(due.storageKey!)).to.equal(false);
      expect(await row(t, later.id)).to.include({ status: 'stored' });
      expect(await t.store.exists(later.storageKey!)).to.equal(true);
      const entries = await auditEntries(t.db, 'recording.deleted');
      expect(entries).to.have.length(1);
      expect(entries[0]).to.include({ actor: 'system:retention', subject: `recording:${due.id}` });
      expect(entries[0]!.details).to.include({ storageKey: due.storageKey, sha256: due.sha256, reason: 'retention' });
    });

    it('deletes a backlog of several thousand across pages: at most two batches in the store at once, each recording one audit entry', async function () {
      // 2 300 seeded recordings and their deletions: ~20 s on an idle 2-core machine, so the default 30 s is too tight under load.
      this.timeout(120_000);
      const now = t.clock.now();
      await seedRecordings(t, Array.from({ length: 2300 }, (_, i) => ({ deadline: new Date(now.getTime() - DAY + i * 1000), at: new Date(now.getTime() - 31 * DAY) })));
      let storing = 0;
      let mostAtOnce = 0;
      const del = t.store.delete.bind(t.store);
      sinon.stub(t.store, 'delete').callsFake(async (keys) => {
        mostAtOnce = Math.max(mostAtOnce, ++storing);
        try {
          return await del(keys);
        } finally {
          storing--;
        }
      });

      const report = await t.services.retention.run();

      expect(report.due).to.equal(2300);
      expect(report.deleted).to.have.length(2300);
      expect(report.failed).to.deep.equal([]);
      expect(mostAtOnce).to.equal(2); // three pages: two batches overlap in the store, never more
      expect(await t.db('recordings').where({ status: 'stored' })).to.have.length(0);
      const entries = await auditEntries(t.db, 'recording.deleted');
      expect(new Set(entries.map((e) => e.subject)).size).to.equal(2300);
      expect(entries).to.have.length(2300);
      expect((await verifyChain(readAuditEntries(t.db))).ok).to.equal(true);
    });

    it('lists without deleting on a dry run', async () => {
      const r = await seedRecording(t, { deadline: new Date(t.clock.now().getTime() + 30 * MIN), at: new Date(t.clock.now().getTime() - DAY) });
      const { report } = (await runRetentionOnce(t.services, { dryRun: true })) as { ran: true; report: { deleted: string[]; dryRun: boolean } };
      expect(report).to.include({ dryRun: true });
      expect(report.deleted).to.deep.equal([r.id]);
      expect(await row(t, r.id)).to.include({ status: 'stored' });
      expect(await t.store.exists(r.storageKey!)).to.equal(true);
      expect(await auditEntries(t.db, 'recording.deleted')).to.have.length(0);
    });

    it('deletes in time across a run that fails (store down) followed by one that succeeds', async () => {
      const deadline = new Date(t.clock.now().getTime() + 60 * MIN);
      const r = await seedRecording(t, { deadline, at: new Date(t.clock.now().getTime() - DAY) });
      store.down = true;
      const first = await t.services.retention.run();
      expect(first.failed.map((f) => f.id)).to.deep.equal([r.id]);
      expect(await row(t, r.id)).to.include({ status: 'stored' });
      expect(await auditEntries(t.db, 'recording.deleted')).to.have.length(0, 'a failed delete is never written down as done');

      store.down = false;
      t.clock.advance(15 * MIN);
      const second = await t.services.retention.run();
      expect(second.deleted).to.deep.equal([r.id]);
      const after = (await row(t, r.id))!;
      expect(after.status).to.equal('deleted');
      expect(new Date(after.deletedAt!).getTime()).to.be.lessThan(deadline.getTime());
      expect(await auditEntries(t.db, 'recording.deleted')).to.have.length(1);
    });

    it('stops a run at its first batch in which nothing could be deleted when the store does not answer, and goes on when it answers but refuses those keys', async () => {
      const admin = await t.token('admin');
      const due = await seedRecording(t, { deadline: new Date(t.clock.now().getTime() + 30 * MIN), at: new Date(t.clock.now().getTime() - DAY) });
      // A manual deletion the store could not finish: claimed, not due, finished by a retention run.
      const asked = await seedRecording(t, { deadline: new Date(t.clock.now().getTime() + 10 * DAY), at: new Date(t.clock.now().getTime() - DAY) });
      store.down = true;
      expect((await request(t.app).delete(`/v1/recordings/${asked.id}`).set('Authorization', `Bearer ${admin}`).send({ reason: 'recorded by mistake' })).status).to.equal(503);

      store.deleteCalls.length = 0;
      const outage = await t.services.retention.run();
      expect(outage.stoppedEarly).to.be.a('string');
      expect(store.deleteCalls, 'one batch tried, then no more calls on a store that does not answer').to.deep.equal([[due.storageKey]]);
      expect(t.logs()).to.contain('the retention run stops early');

      // The store answers again but refuses the due recording's object: the run is not stopped by it.
      store.down = false;
      store.refused.add(due.storageKey!);
      const refused = await t.services.retention.run();
      expect(refused.stoppedEarly).to.equal(undefined);
      expect(refused.failed.map((f) => f.id)).to.deep.equal([due.id]);
      expect(refused.deleted).to.deep.equal([asked.id]);
    });

    /** A run's summary adds up: every recording it had to delete is in exactly one of deleted, held, failed and skipped. */
    function expectCountsAddUp(report: Awaited<ReturnType<typeof t.services.retention.run>>, what: string): void {
      const ids = [...report.deleted, ...report.held, ...report.failed.map((f) => f.id)];
      expect(new Set(ids).size, `${what}: no recording counted twice`).to.equal(ids.length);
      expect(report.deleted.length + report.held.length + report.failed.length + report.skipped, `${what}: due = deleted + held + failed + skipped`).to.equal(report.due);
      expect(report.deleted.length, `${what}: never more deleted than due`).to.be.at.most(report.due);
    }

    it('reports counts that add up: due = deleted + held + failed + skipped, claimed deletions finished by the run included', async () => {
      const admin = await t.token('admin');
      const soon = () => seedRecording(t, { deadline: new Date(t.clock.now().getTime() + 30 * MIN), at: new Date(t.clock.now().getTime() - DAY) });
      const [due, refused, held] = [await soon(), await soon(), await soon()];
      expect((await request(t.app).post(`/v1/recordings/${held.id}/hold`).set('Authorization', `Bearer ${admin}`).send({ reason: 'public-records request 2026/114' })).status).to.equal(201);
      // A manual deletion the store could not finish: claimed, not due, finished by the next run.
      const asked = await seedRecording(t, { deadline: new Date(t.clock.now().getTime() + 10 * DAY), at: new Date(t.clock.now().getTime() - DAY) });
      store.down = true;
      expect((await request(t.app).delete(`/v1/recordings/${asked.id}`).set('Authorization', `Bearer ${admin}`).send({ reason: 'recorded by mistake' })).status).to.equal(503);
      const outage = await t.services.retention.run();
      expectCountsAddUp(outage, 'store down');
      expect(outage.stoppedEarly).to.be.a('string');

      store.down = false;
      store.refused.add(refused.storageKey!);
      const dry = await t.services.retention.run({ dryRun: true });
      expectCountsAddUp(dry, 'dry run');
      const run = await t.services.retention.run();
      expectCountsAddUp(run, 'store answering, one object refused');
      expect(run.due, 'three past the cutoff and one claimed deletion').to.equal(4);
      expect(run.deleted).to.have.members([due.id, asked.id]);
      expect(run.held).to.deep.equal([held.id]);
      expect(run.failed.map((f) => f.id)).to.deep.equal([refused.id]);
      expect(run.skipped).to.equal(0);

      store.refused.clear();
      const last = await t.services.retention.run();
      expectCountsAddUp(last, 'the refused one retried');
      expect(last).to.deep.include({ due: 2, deleted: [refused.id], held: [held.id], skipped: 0 });
    });

    it('never leaves a recording stored at its deadline over a day of quarter-hourly runs with one failed run', async () => {
      const start = t.clock.now().getTime();
      const recordings = [];
      // Deadlines spread over the next day, at odd offsets that straddle the run times.
      for (let i = 0; i < 40; i++) {
        recordings.push(await seedRecording(t, { deadline: new Date(start + 2 * HOUR + i * 37 * MIN + (i % 7) * 1000), at: new Date(start - DAY) }));
      }
      const failingRun = 9;
      for (let tick = 0; tick <= 4 * 26; tick++) {
        t.clock.set(new Date(start + tick * 15 * MIN));
        store.down = tick === failingRun || tick === failingRun + 40;
        await t.services.retention.run();
        const now = t.clock.now().toISOString();
        const stored = await t.db('recordings').where({ status: 'stored' }).andWhere('deadline', '<=', now).count({ n: '*' });
        expect(Number(stored[0]!.n), `at ${now}`).to.equal(0);
      }
      for (const r of recordings) {
        const after = (await row(t, r.id))!;
        expect(after.status).to.equal('deleted');
        expect(after.deletedAt! < r.deadline, `${r.id} deleted at ${after.deletedAt}, deadline ${r.deadline}`).to.equal(true);
      }
      expect(await auditEntries(t.db, 'recording.deleted')).to.have.length(recordings.length);
    });

    it('heals a crash between removing the object and writing the tombstone, with exactly one audit entry', async () => {
      const r = await seedRecording(t, { deadline: new Date(t.clock.now().getTime() + 30 * MIN), at: new Date(t.clock.now().getTime() - DAY) });
      const appendAll = t.services.audit.appendAll.bind(t.services.audit);
      let crashed = false;
      sinon.stub(t.services.audit, 'appendAll').callsFake(async (trx, inputs) => {
        if (inputs.some((i) => i.action === 'recording.deleted') && !crashed) {
          crashed = true;
          throw new Error('process killed');
        }
        return appendAll(trx, inputs);
      });
      const first = await t.services.retention.run();
      expect(crashed).to.equal(true);
      expect(first.failed.map((f) => f.id)).to.deep.equal([r.id]);
      expect(await t.store.exists(r.storageKey!)).to.equal(false, 'the object went before the crash');
      expect(await row(t, r.id)).to.include({ status: 'stored' });

      t.clock.advance(15 * MIN);
      const second = await t.services.retention.run();
      expect(second.deleted).to.deep.equal([r.id]);
      expect(await row(t, r.id)).to.include({ status: 'deleted' });
      const entries = await auditEntries(t.db, 'recording.deleted');
      expect(entries.map((e) => e.subject)).to.deep.equal([`recording:${r.id}`]);
      expect((await verifyChain(readAuditEntries(t.db))).ok).to.equal(true);
    });

    it('raises the overdue alarm in /readyz, /metrics and the log while a recording is past its deadline', async () => {
      const r = await seedRecording(t, { deadline: new Date(t.clock.now().getTime() + 10 * MIN), at: new Date(t.clock.now().getTime() - DAY) });
      store.down = true;
      t.clock.advance(20 * MIN);
      const report = await t.services.retention.run();
      expect(report.overdue).to.equal(1);
      expect(t.logs()).to.match(/"level":"error","message":"recordings are stored past their deadline","overdue":1/);

      const ready = await request(t.app).get('/readyz');
      expect(ready.status).to.equal(503);
      expect(ready.body.checks.retention).to.deep.equal({ ok: false, overdue: 1 });
      const metrics = await request(t.app).get('/metrics').set('Authorization', `Bearer ${TEST_METRICS_TOKEN}`);
      expect(metrics.text).to.match(/^gallra_retention_overdue_recordings 1$/m);
      expect(metrics.text).to.match(/^gallra_retention_deletion_failures_total 1$/m);

      const admin = await t.token('admin');
      const overdue = await request(t.app).get('/v1/retention/overdue').set('Authorization', `Bearer ${admin}`);
      expect(overdue.status).to.equal(200);
      expect(overdue.body.count).to.equal(1);
      expect(overdue.body.recordings).to.deep.equal([{ id: r.id, callId: r.callId, startedAt: r.startedAt, deadline: r.deadline, holdId: null }]);
      expect(JSON.stringify(overdue.body)).to.not.match(/caller/i);

      store.down = false;
      t.clock.advance(15 * MIN);
      await t.services.retention.run();
      expect((await request(t.app).get('/readyz')).body.checks.retention).to.deep.equal({ ok: true, overdue: 0 });
      const after = await request(t.app).get('/metrics').set('Authorization', `Bearer ${TEST_METRICS_TOKEN}`);
      expect(after.text).to.match(/^gallra_retention_overdue_recordings 0$/m);
      expect(after.text).to.match(/^gallra_retention_deletions_total\{reason="retention"\} 1$/m);
      expect(after.text).to.match(/^gallra_retention_last_success_timestamp_seconds \d+/m);
      expect(after.text).to.match(/^gallra_retention_run_duration_seconds_count 2$/m);
    });

    it('refuses the overdue list to roles other than admin and auditor', async () => {
      const trainer = await t.token('trainer');
      expect((await request(t.app).get('/v1/retention/overdue').set('Authorization', `Bearer ${trainer}`)).status).to.equal(403);
      const auditor = await t.token('auditor');
      expect((await request(t.app).get('/v1/retention/overdue').set('Authorization', `Bearer ${auditor}`)).status).to.equal(200);
    });
  });

  describe('ingest uses the same horizon', () => {
    function post(meta: object) {
      const { body, contentType } = recordingBody(meta as never, fixture('call-8k.mp3'));
      return request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body);
    }

    it('discards a call whose deadline falls before the next run plus margin, never touching the store', async () => {
      const put = sinon.spy(t.store, 'put');
      // Deadline in 50 minutes: not passed, but the next run (10:15) could fail and the one after would be late.
      const meta = callMeta(t.clock.now(), {}, 30 * 24 * 60 - 50);
      const res = await post(meta);
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ status: 'discarded', reason: 'retention-expired' });
      expect(put.called).to.equal(false);
      expect(await auditEntries(t.db, 'recording.discarded')).to.have.length(1);
    });

    it('stores a call whose deadline is beyond the horizon', async () => {
      const meta = callMeta(t.clock.now(), {}, 30 * 24 * 60 - 120);
      const res = await post(meta);
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
    });
  });

  describe('holds', () => {
    let admin: string;
    beforeEach(async () => {
      admin = await t.token('admin');
    });
    const dueSoon = () => seedRecording(t, { deadline: new Date(t.clock.now().getTime() + 30 * MIN), at: new Date(t.clock.now().getTime() - DAY) });

    it('keeps a held recording through retention and refuses to delete it by hand (409), until released', async () => {
      const r = await dueSoon();
      const placed = await request(t.app).post(`/v1/recordings/${r.id}/hold`).set('Authorization', `Bearer ${admin}`).send({ reason: 'public-records request 2026/114' });
      expect(placed.status, JSON.stringify(placed.body)).to.equal(201);
      expect(placed.body).to.include({ recordingId: r.id, reason: 'public-records request 2026/114', until: null, releasedAt: null });
      expect(placed.body.id).to.match(/^hold_/);

      const report = await t.services.retention.run();
      expect(report.held).to.deep.equal([r.id]);
      expect(report.deleted).to.deep.equal([]);
      expect(await row(t, r.id)).to.include({ status: 'stored' });

      const manual = await request(t.app).delete(`/v1/recordings/${r.id}`).set('Authorization', `Bearer ${admin}`).send({ reason: 'caller asked' });
      expect(manual.status).to.equal(409);
      expect(manual.type).to.equal('application/problem+json');
      expect(manual.body.type).to.match(/recording-held$/);

      t.clock.advance(40 * MIN); // past the deadline, still held: not counted as overdue
      expect(await t.services.retention.overdueCount()).to.equal(0);
      const list = await request(t.app).get('/v1/retention/overdue').set('Authorization', `Bearer ${admin}`);
      expect(list.body).to.deep.include({ count: 0 });
      expect(list.body.recordings[0]).to.include({ id: r.id, holdId: placed.body.id });

      const released = await request(t.app).delete(`/v1/recordings/${r.id}/hold`).set('Authorization', `Bearer ${admin}`);
      expect(released.status).to.equal(200);
      expect(released.body.releasedBy).to.match(/^admin:/);
      const after = await t.services.retention.run();
      expect(after.deleted).to.deep.equal([r.id]);

      const actions = (await auditEntries(t.db)).map((e) => e.action).filter((a) => a.startsWith('hold.') || a === 'recording.deleted');
      expect(actions).to.deep.equal(['hold.placed', 'hold.released', 'recording.deleted']);
    });

    it('lets a hold lapse at its until, audits the lapse and deletes the recording in the same run', async () => {
      const r = await dueSoon();
      const until = new Date(t.clock.now().getTime() + 20 * MIN).toISOString();
      const placed = await request(t.app).post(`/v1/recordings/${r.id}/hold`).set('Authorization', `Bearer ${admin}`).send({ reason: 'complaint', until });
      expect(placed.status).to.equal(201);
      expect((await t.services.retention.run()).held).to.deep.equal([r.id]);

      t.clock.advance(20 * MIN);
      const report = await t.services.retention.run();
      expect(report.lapsedHolds).to.deep.equal([placed.body.id]);
      expect(report.deleted).to.deep.equal([r.id]);
      const lapsed = await auditEntries(t.db, 'hold.lapsed');
      expect(lapsed).to.have.length(1);
      expect(lapsed[0]).to.include({ actor: 'system:retention', subject: `recording:${r.id}` });
      expect((await t.db('holds').where({ id: placed.body.id }).first()).lapsed_at).to.equal(t.clock.now().toISOString());
      // A second run lapses nothing again.
      expect((await t.services.retention.run()).lapsedHolds).to.deep.equal([]);
      expect(await auditEntries(t.db, 'hold.lapsed')).to.have.length(1);
    });

    it('answers bad hold requests with problem+json naming the field, changing nothing', async () => {
      const r = await dueSoon();
      const cases: [object, string][] = [
        [{}, '/reason'],
        [{ reason: '' }, '/reason'],
        [{ reason: 'x', until: 'tomorrow' }, '/until'],
        [{ reason: 'caller 070-123 45 67 complained' }, '/reason'],
        [{ reason: 'x', until: new Date(t.clock.now().getTime() - MIN).toISOString() }, '/until'],
      ];
      for (const [body, pointer] of cases) {
        const res = await request(t.app).post(`/v1/recordings/${r.id}/hold`).set('Authorization', `Bearer ${admin}`).send(body);
        expect(res.status, JSON.stringify(body)).to.equal(422);
        expect(res.type).to.equal('application/problem+json');
        expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).to.include(pointer);
        expect(JSON.stringify(res.body)).to.not.include('123 45 67');
      }
      expect(await t.db('holds').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
      expect(await auditEntries(t.db, 'hold.placed')).to.have.length(0);
    });

    it('refuses a second hold (409), an unknown recording (404), a missing hold (404) and non-admins (403)', async () => {
      const r = await dueSoon();
      const auth = { Authorization: `Bearer ${admin}` };
      expect((await request(t.app).post(`/v1/recordings/${r.id}/hold`).set(auth).send({ reason: 'a' })).status).to.equal(201);
      expect((await request(t.app).post(`/v1/recordings/${r.id}/hold`).set(auth).send({ reason: 'b' })).status).to.equal(409);
      const unknown = '00000000-0000-4000-8000-000000000000';
      expect((await request(t.app).post(`/v1/recordings/${unknown}/hold`).set(auth).send({ reason: 'a' })).status).to.equal(404);
      expect((await request(t.app).delete(`/v1/recordings/${unknown}/hold`).set(auth)).status).to.equal(404);
      const auditor = await t.token('auditor');
      expect((await request(t.app).post(`/v1/recordings/${r.id}/hold`).set('Authorization', `Bearer ${auditor}`).send({ reason: 'a' })).status).to.equal(403);
      expect((await request(t.app).delete(`/v1/recordings/${r.id}/hold`)).status).to.equal(401);
      expect(await auditEntries(t.db, 'hold.placed')).to.have.length(1);
    });
  });

  describe('manual deletion', () => {
    it('deletes through the same path: object gone, tombstone, one audit entry naming the admin', async () => {
      const r = await seedRecording(t, { deadline: new Date(t.clock.now().getTime() + 10 * DAY), at: t.clock.now() });
      const admin = await t.token('admin');
      const res = await request(t.app).delete(`/v1/recordings/${r.id}`).set('Authorization', `Bearer ${admin}`).send({ reason: 'recorded by mistake' });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.include({ id: r.id, status: 'deleted', reason: 'manual', deletedAt: t.clock.now().toISOString() });
      expect(await t.store.exists(r.storageKey!)).to.equal(false);
      expect(await row(t, r.id)).to.include({ status: 'deleted', callerKey: null });
      const entries = await auditEntries(t.db, 'recording.deleted');
      expect(entries).to.have.length(1);
      expect(entries[0]!.actor).to.match(/^admin:/);
      expect(entries[0]!.details).to.include({ reason: 'manual', note: 'recorded by mistake', storageKey: r.storageKey });

      const again = await request(t.app).delete(`/v1/recordings/${r.id}`).set('Authorization', `Bearer ${admin}`).send({ reason: 'again' });
      expect(again.status).to.equal(409);
      expect(await auditEntries(t.db, 'recording.deleted')).to.have.length(1);
    });

    it('answers 503 and keeps the row when the store is down; 422 without a reason; 403 for others', async () => {
      const r = await seedRecording(t, { deadline: new Date(t.clock.now().getTime() + 10 * DAY), at: t.clock.now() });
      const admin = await t.token('admin');
      const noReason = await request(t.app).delete(`/v1/recordings/${r.id}`).set('Authorization', `Bearer ${admin}`).send({});
      expect(noReason.status).to.equal(422);
      expect(noReason.body.errors[0].pointer).to.equal('/reason');
      const trainer = await t.token('trainer');
      expect((await request(t.app).delete(`/v1/recordings/${r.id}`).set('Authorization', `Bearer ${trainer}`).send({ reason: 'x' })).status).to.equal(403);
      store.down = true;
      const res = await request(t.app).delete(`/v1/recordings/${r.id}`).set('Authorization', `Bearer ${admin}`).send({ reason: 'x' });
      expect(res.status).to.equal(503);
      expect(await row(t, r.id)).to.include({ status: 'stored' });
      expect(await auditEntries(t.db, 'recording.deleted')).to.have.length(0);
    });
  });

  describe('orphan sweep', () => {
    /** Sets an fs-store object's mtime, which the store reports as its lastModified. */
    const stampObject = (key: string, at: Date) => utimesSync(path.join(objectsDir, key), at, at);

    it('deletes objects without a stored row once older than the grace period, and leaves fresh uploads alone', async () => {
      const kept = await seedRecording(t, { deadline: new Date(t.clock.now().getTime() + 10 * DAY), at: t.clock.now() });
      const orphanKey = 'recordings/2026/11/23/5f1e8c43-0d3b-4a57-9c3e-6f1d2b7a9e10';
      await t.store.put(orphanKey, Readable.from([Buffer.from('crashed upload')]), { contentType: 'audio/wav' });
      // The fs store reads the file's mtime as the object's age: stamp it with the test clock's now, so
      // "fresh" means fresh whatever the real date (setting the clock to the real date made the kept
      // recording, due 10 days after the fixed start, overdue from early December on).
      stampObject(orphanKey, t.clock.now());

      const fresh = await t.services.retention.run();
      expect(fresh.orphans).to.deep.include({ deleted: [], young: 1 });
      expect(await t.store.exists(orphanKey)).to.equal(true);

      t.clock.advance(t.config.orphanGraceMs + MIN);
      const old = await t.services.retention.run();
      expect(old.orphans.deleted).to.deep.equal([orphanKey]);
      expect(await t.store.exists(orphanKey)).to.equal(false);
      expect(await t.store.exists(kept.storageKey!)).to.equal(true);
      const entries = await auditEntries(t.db, 'recording.orphan-deleted');
      expect(entries).to.have.length(1);
      expect(entries[0]).to.include({ actor: 'system:retention', subject: `object:${orphanKey}` });
      expect(entries[0]!.details).to.include({ storageKey: orphanKey });
      expect((await request(t.app).get('/metrics').set('Authorization', `Bearer ${TEST_METRICS_TOKEN}`)).text).to.match(/^gallra_retention_deletions_total\{reason="orphan"\} 1$/m);
    });

    it('treats the object of a tombstoned row as an orphan', async () => {
      const r = await seedRecording(t, { deadline: new Date(t.clock.now().getTime() + 10 * DAY), at: t.clock.now() });
      await t.db('recordings').where({ id: r.id }).update({ status: 'deleted' });
      stampObject(r.storageKey!, t.clock.now());
      t.clock.advance(t.config.orphanGraceMs + MIN);
      const report = await t.services.retention.run();
      expect(report.orphans.deleted).to.deep.equal([r.storageKey]);
      expect(existsSync(path.join(objectsDir, r.storageKey!))).to.equal(false);
    });
  });
});
