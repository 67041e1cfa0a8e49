import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { expect } from 'chai';
import request from 'supertest';
import type { Recording } from '../../src/recordings/index.js';
import { DAY_MS } from '../../src/shared/clock.js';
import { asTx } from '../../src/shared/database.js';
import { Conflict } from '../../src/shared/errors.js';
import { createFsObjectStore, type DeleteResult, type ObjectStore } from '../../src/storage/index.js';
import { auditEntries, seedRecording } from '../helpers/retention.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/** A store whose deletes first await `beforeDelete`: the test runs its move between the deletion's hold check and the object delete. */
function pausingStore(inner: ObjectStore): ObjectStore & { beforeDelete?: (keys: string[]) => Promise<void> } {
  const s: ObjectStore & { beforeDelete?: (keys: string[]) => Promise<void> } = {
    put: inner.put.bind(inner),
    create: inner.create.bind(inner),
    get: inner.get.bind(inner),
    exists: inner.exists.bind(inner),
    list: inner.list.bind(inner),
    ping: inner.ping.bind(inner),
    leftovers: inner.leftovers.bind(inner),
    removeLeftovers: inner.removeLeftovers.bind(inner),
    async delete(keys: string[]): Promise<DeleteResult> {
      await s.beforeDelete?.(keys);
      return inner.delete(keys);
    },
  };
  return s;
}

describe('a hold placed while a deletion runs is never silently lost', () => {
  let t: TestApp;
  let store: ReturnType<typeof pausingStore>;
  let dir: string;
  const ADMIN = 'admin:race';

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gallra-race-'));
    store = pausingStore(createFsObjectStore({ root: path.join(dir, 'objects') }));
    t = await startTestApp({ store });
  });
  afterEach(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The one outcome that must never be: an active hold on a recording whose object is gone. */
  async function expectNoHeldRecordingLost(r: Recording): Promise<'held' | 'deleted'> {
    const active = await t.services.holds.activeHoldIds([r.id], t.clock.now());
    const exists = await t.store.exists(r.storageKey!);
    const row = await t.db('recordings').where({ id: r.id }).first();
    if (active.has(r.id)) {
      expect(exists, `recording ${r.id} is held but its object is gone`).to.equal(true);
      expect(row.status).to.equal('stored');
      return 'held';
    }
    expect(exists, `recording ${r.id} is neither held nor deleted`).to.equal(false);
    expect(row.status).to.equal('deleted');
    return 'deleted';
  }

  it('refuses a hold placed between the deletion’s hold check and the object delete (409 already being deleted), every time', async () => {
    const admin = await t.token('admin');
    for (let i = 0; i < 20; i++) {
      const r = await seedRecording(t, { deadline: new Date(t.clock.now().getTime() + 10 * DAY_MS) });
      let answer: request.Response | undefined;
      store.beforeDelete = async () => {
        store.beforeDelete = undefined;
        answer = await request(t.app).post(`/v1/recordings/${r.id}/hold`).set('Authorization', `Bearer ${admin}`).send({ reason: 'complaint under review' });
      };
      const report = await t.services.deleteRecordings([r], { reason: 'manual', actor: ADMIN });
      expect(answer, 'the store was asked to delete').to.not.equal(undefined);
      expect(await expectNoHeldRecordingLost(r)).to.equal('deleted');
      expect(report.deleted).to.deep.equal([r.id]);
      expect(answer!.status).to.equal(409);
      expect(answer!.headers['content-type']).to.match(/^application\/problem\+json/);
      expect(answer!.body.type).to.match(/recording-being-deleted$/);
    }
    expect(await auditEntries(t.db, 'hold.placed')).to.have.length(0);
    expect(await auditEntries(t.db, 'recording.deleted')).to.have.length(20);
  });

  it('keeps the retention run from deleting a recording held while the run was between its check and the store', async () => {
    const due = await seedRecording(t, { deadline: new Date(t.clock.now().getTime() + 60_000) });
    let refused: unknown;
    store.beforeDelete = async () => {
      store.beforeDelete = undefined;
      refused = await t.services.holds.place({ recordingId: due.id, reason: 'public records request' }, ADMIN).catch((err: unknown) => err);
    };
    const report = await t.services.retention.run();
    expect(refused).to.be.instanceOf(Conflict);
    expect((refused as Conflict).code).to.equal('recording-being-deleted');
    expect(report.deleted).to.deep.equal([due.id]);
    expect(await expectNoHeldRecordingLost(due)).to.equal('deleted');
  });

  it('never deletes a held recording when holds and deletions run freely side by side', async () => {
    const outcomes = { held: 0, deleted: 0 };
    for (let i = 0; i < 40; i++) {
      const r = await seedRecording(t, { deadline: new Date(t.clock.now().getTime() + 10 * DAY_MS) });
      // Either side starts first in turn, so both orders are raced (and both outcomes occur).
      const remove = () => t.services.deleteRecordings([r], { reason: 'manual', actor: ADMIN });
      const hold = () => t.services.holds.place({ recordingId: r.id, reason: 'complaint under review' }, ADMIN).catch((err: unknown) => err);
      const [report, placed] = i % 2 ? await Promise.all([remove(), hold()]) : await Promise.all([hold(), remove()]).then(([h, d]) => [d, h] as const);
      const outcome = await expectNoHeldRecordingLost(r);
      outcomes[outcome]++;
      if (outcome === 'held') {
        expect(report.held).to.deep.equal([r.id]);
        expect(placed).to.not.be.instanceOf(Error);
      } else {
        expect(report.deleted).to.deep.equal([r.id]);
        expect(placed).to.be.instanceOf(Conflict);
      }
    }
    expect(outcomes.held, 'holds that won the race').to.be.greaterThan(0);
    expect(outcomes.deleted, 'deletions that won the race').to.be.greaterThan(0);
    const deleted = await auditEntries(t.db, 'recording.deleted');
    const placed = await auditEntries(t.db, 'hold.placed');
    expect(deleted.length + placed.length).to.equal(40);
  });

  it('keeps a deletion the store could not finish claimed: a hold is refused, and the next retention run finishes it with its reason', async () => {
    const r = await seedRecording(t, { deadline: new Date(t.clock.now().getTime() + 10 * DAY_MS) });
    const admin = await t.token('admin');
    store.beforeDelete = async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:9000');
    };
    const res = await request(t.app).delete(`/v1/recordings/${r.id}`).set('Authorization', `Bearer ${admin}`).send({ reason: 'recorded by mistake' });
    expect(res.status).to.equal(503);
    expect((await t.db('recordings').where({ id: r.id }).first()).status).to.equal('stored');

    const hold = await request(t.app).post(`/v1/recordings/${r.id}/hold`).set('Authorization', `Bearer ${admin}`).send({ reason: 'complaint under review' });
    expect(hold.status).to.equal(409);
    expect(hold.body.type).to.match(/recording-being-deleted$/);

    store.beforeDelete = undefined;
    const report = await t.services.retention.run();
    expect(report.deleted).to.deep.equal([r.id]);
    expect(await expectNoHeldRecordingLost(r)).to.equal('deleted');
    const entries = await auditEntries(t.db, 'recording.deleted');
    expect(entries).to.have.length(1);
    expect(entries[0]!.actor).to.equal('system:retention');
    expect(entries[0]!.details).to.include({ recordingId: r.id, reason: 'manual', resumed: true, note: 'recorded by mistake' });
    expect(entries[0]!.details.claimedBy, 'who asked for the deletion').to.be.a('string').and.not.equal('system:retention');
    expect(entries[0]!.details.claimedAt).to.be.a('string');
    expect((await t.db('recordings').where({ id: r.id }).first()).reason).to.equal('manual');
  });

  it('finishes a claimed deletion that has since become due with what its claim said, not as an ordinary retention deletion', async () => {
    const r = await seedRecording(t, { deadline: new Date(t.clock.now().getTime() + 2 * DAY_MS) });
    const admin = await t.token('admin');
    store.beforeDelete = async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:9000');
    };
    const res = await request(t.app).delete(`/v1/recordings/${r.id}`).set('Authorization', `Bearer ${admin}`).send({ reason: 'recorded by mistake' });
    expect(res.status).to.equal(503);

    store.beforeDelete = undefined;
    t.clock.advance(3 * DAY_MS);
    const report = await t.services.retention.run();
    expect(report.deleted).to.deep.equal([r.id]);
    const entries = await auditEntries(t.db, 'recording.deleted');
    expect(entries).to.have.length(1);
    expect(entries[0]!.actor).to.equal('system:retention');
    expect(entries[0]!.details).to.include({ recordingId: r.id, reason: 'manual', resumed: true, note: 'recorded by mistake' });
    expect(entries[0]!.details).not.to.have.property('cutoff');
    expect((await t.db('recordings').where({ id: r.id }).first()).reason).to.equal('manual');
  });

  it('places no hold of a data-subject request on a recording already being deleted', async () => {
    const r = await seedRecording(t, { deadline: new Date(t.clock.now().getTime() + 10 * DAY_MS) });
    const other = await seedRecording(t, { deadline: new Date(t.clock.now().getTime() + 10 * DAY_MS) });
    let placed: string[] | undefined;
    store.beforeDelete = async () => {
      store.beforeDelete = undefined;
      const at = t.clock.now().toISOString();
      const holds = await t.db.transaction((trx) => t.services.holds.forRequests.placeOnStored(asTx(trx), [r.id, other.id], { reason: 'subject-request:sr_race', until: null, at, by: ADMIN }));
      placed = holds.map((h) => h.recordingId);
    };
    await t.services.deleteRecordings([r], { reason: 'deleted-on-request', actor: ADMIN });
    expect(placed).to.deep.equal([other.id]);
    expect(await expectNoHeldRecordingLost(r)).to.equal('deleted');
    expect(await expectNoHeldRecordingLost(other)).to.equal('held');
  });
});
