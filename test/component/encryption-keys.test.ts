import { expect } from 'chai';
import request from 'supertest';
import { periodOf } from '../../src/encryption/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { audioOf, ingestAudio } from '../helpers/encryption.js';
import { auditEntries } from '../helpers/retention.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { fixture } from '../helpers/webhook.js';

const DAY = 86_400_000;

describe('encryption at rest: data keys over a recording’s life', () => {
  let t: TestApp;
  let admin: string;
  beforeEach(async () => {
    t = await startTestApp({ clock: new ManualClock('2026-11-23T10:30:00.000Z') });
    admin = await t.token('admin');
  });
  afterEach(() => t.close());

  const keyRow = (id: string) => t.db('recording_data_keys').where({ recording_id: id }).first();

  it('re-wraps a data key under the new period when the deadline changes, so the recording dies with that period', async () => {
    const audio = fixture('call-8k.mp3');
    const r = await ingestAudio(t, audio);
    const before = await keyRow(r.id);
    const shorter = new Date(t.clock.now().getTime() + 5 * DAY);
    await t.services.transaction(async (tx) => {
      await t.services.encryption!.rewrapForDeadline(tx, r.id, shorter);
    });
    // The integrator's deadline change writes the row's new deadline beside the re-wrap.
    await t.db('recordings').where({ id: r.id }).update({ deadline: shorter.toISOString() });
    const after = await keyRow(r.id);
    expect(after.kek_id).to.equal(periodOf(shorter).id).and.not.equal(before.kek_id);
    expect(after.period).to.equal(periodOf(shorter).id);
    expect(Buffer.from(after.wrapped_key).equals(Buffer.from(before.wrapped_key))).to.equal(false);
    expect((await audioOf(t, admin, r.id)).body.equals(audio)).to.equal(true);

    t.clock.set(new Date(shorter.getTime() + 60_000));
    const report = await t.services.retention.run();
    expect(report.deleted).to.deep.equal([r.id]);
    expect(report.keys?.destroyed).to.deep.equal([periodOf(shorter).id]);
    expect(await t.keyStore!.read(periodOf(shorter).id)).to.equal(null);
  });

  it('keeps a held recording under a hold key past its period; releasing the hold lets the hold key die', async () => {
    const audio = fixture('call-pcm16-8k.wav');
    const r = await ingestAudio(t, audio);
    const placed = await request(t.app).post(`/v1/recordings/${r.id}/hold`).set('Authorization', `Bearer ${admin}`).send({ reason: 'court order 2026/9' });
    expect(placed.status).to.equal(201);
    t.clock.set(new Date(t.clock.now().getTime() + 30 * DAY));
    const first = await t.services.retention.run();
    expect(first.keys?.rewrapped).to.equal(1);
    const row = await keyRow(r.id);
    expect(row.kek_id).to.match(/^hold-/);
    expect((await audioOf(t, admin, r.id)).body.equals(audio)).to.equal(true);
    const rewrapped = await auditEntries(t.db, 'key.rewrapped-for-holds');
    expect(rewrapped).to.have.length(1);
    expect(rewrapped[0]!.details).to.include({ recordings: 1, holdKey: row.kek_id });

    const released = await request(t.app).delete(`/v1/recordings/${r.id}/hold`).set('Authorization', `Bearer ${admin}`);
    expect(released.status, JSON.stringify(released.body)).to.be.oneOf([200, 204]);
    const second = await t.services.retention.run();
    expect(second.deleted).to.deep.equal([r.id]);
    const third = await t.services.retention.run();
    expect([...(second.keys?.destroyed ?? []), ...(third.keys?.destroyed ?? [])]).to.deep.equal([row.kek_id]);
    expect(await t.keyStore!.read(row.kek_id)).to.equal(null);
    const destroyed = await auditEntries(t.db, 'key.destroyed');
    expect(destroyed.map((e) => e.details.key)).to.have.members([row.period, row.kek_id]);
  });

  it('removes the wrapped data key with the object at an early deletion', async () => {
    const r = await ingestAudio(t, fixture('call-8k.mp3'));
    expect(await keyRow(r.id)).to.not.equal(undefined);
    const res = await request(t.app).delete(`/v1/recordings/${r.id}`).set('Authorization', `Bearer ${admin}`).send({ reason: 'caller asked' });
    expect(res.status, JSON.stringify(res.body)).to.be.oneOf([200, 204]);
    expect(await keyRow(r.id)).to.equal(undefined);
  });
});
