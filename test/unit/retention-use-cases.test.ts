import { expect } from 'chai';
import { DAY_MS } from '../../src/shared/clock.js';
import { Conflict, InvalidInput } from '../../src/shared/errors.js';
import { memoryGallra } from '../fakes/memory-gallra.js';

const ADMIN = 'admin:tok_test';
const iso = (ms: number) => new Date(ms).toISOString();

describe('retention use cases on in-memory ports (no database)', () => {
  it('deletes what falls due before the next run plus margin, keeps the rest, and audits each deletion once', async () => {
    const g = memoryGallra();
    const now = g.clock.now().getTime();
    const due = await g.storedRecording({ deadline: iso(now + 3_600_000) });
    const later = await g.storedRecording({ deadline: iso(now + 5 * DAY_MS) });
    const report = await g.retention.run();
    expect(report.deleted).to.deep.equal([due.id]);
    expect(g.recordings.get(due.id)).to.include({ status: 'deleted', callerKey: null, reason: 'retention' });
    expect(await g.store.exists(due.storageKey!)).to.equal(false);
    expect(g.recordings.get(later.id)!.status).to.equal('stored');
    expect(await g.store.exists(later.storageKey!)).to.equal(true);
    expect(g.auditRows.ofAction('recording.deleted').map((e) => e.subject)).to.deep.equal([`recording:${due.id}`]);
  });

  it('keeps a held recording past its deadline, counts it as held rather than overdue, and deletes it once the hold is released', async () => {
    const g = memoryGallra();
    const r = await g.storedRecording({ deadline: iso(g.clock.now().getTime() + DAY_MS) });
    await g.holds.place({ recordingId: r.id, reason: 'tvist 2026/41' }, ADMIN);
    g.clock.advance(2 * DAY_MS);

    const held = await g.retention.run();
    expect(held.held).to.deep.equal([r.id]);
    expect(held.deleted).to.deep.equal([]);
    expect(g.recordings.get(r.id)!.status).to.equal('stored');
    expect(await g.retention.overdueCount()).to.equal(0);

    await g.holds.release(r.id, ADMIN);
    expect(await g.retention.overdueCount()).to.equal(1);
    const released = await g.retention.run();
    expect(released.deleted).to.deep.equal([r.id]);
    expect(g.recordings.get(r.id)!.status).to.equal('deleted');
    expect(g.auditRows.ofAction('hold.placed')).to.have.length(1);
    expect(g.auditRows.ofAction('hold.released')).to.have.length(1);
  });

  it('lets a hold with an end lapse at the run after its end, audited, and the recording goes then', async () => {
    const g = memoryGallra();
    const r = await g.storedRecording({ deadline: iso(g.clock.now().getTime() + DAY_MS) });
    await g.holds.place({ recordingId: r.id, reason: 'granskning', until: new Date(g.clock.now().getTime() + 3 * DAY_MS) }, ADMIN);
    g.clock.advance(2 * DAY_MS);
    expect((await g.retention.run()).held).to.deep.equal([r.id]);
    g.clock.advance(2 * DAY_MS);
    const report = await g.retention.run();
    expect(report.lapsedHolds).to.have.length(1);
    expect(report.deleted).to.deep.equal([r.id]);
    expect(g.auditRows.ofAction('hold.lapsed')).to.have.length(1);
  });

  it('leaves a held recording alone on every deletion path, not only the retention run', async () => {
    const g = memoryGallra();
    const r = await g.storedRecording({ deadline: iso(g.clock.now().getTime() + 10 * DAY_MS) });
    await g.holds.place({ recordingId: r.id, reason: 'tvist' }, ADMIN);
    const report = await g.deleteRecordings([r], { reason: 'manual', actor: ADMIN });
    expect(report).to.deep.include({ deleted: [], held: [r.id] });
    expect(await g.store.exists(r.storageKey!)).to.equal(true);
    expect(g.auditRows.ofAction('recording.deleted')).to.have.length(0);
  });

  it('refuses a hold on a recording a deletion has claimed, and one of a deleted recording', async () => {
    const g = memoryGallra();
    const claimed = await g.storedRecording();
    const gone = await g.storedRecording();
    g.store.failDeletes.add(claimed.storageKey!);
    const failed = await g.deleteRecordings([claimed], { reason: 'manual', actor: ADMIN });
    expect(failed.failed.map((f) => f.id)).to.deep.equal([claimed.id]);
    expect(g.recordings.claimOf(claimed.id)).to.include({ reason: 'manual' });
    const err = await g.holds.place({ recordingId: claimed.id, reason: 'för sent' }, ADMIN).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(Conflict).and.have.property('code', 'recording-being-deleted');

    await g.deleteRecordings([gone], { reason: 'manual', actor: ADMIN });
    const err2 = await g.holds.place({ recordingId: gone.id, reason: 'för sent' }, ADMIN).catch((e: unknown) => e);
    expect(err2).to.be.instanceOf(Conflict).and.have.property('code', 'recording-not-stored');
    expect(g.holdRows.values()).to.have.length(0);
  });

  it("refuses a hold that ends in the past or takes a data-subject request's reason, and places nothing", async () => {
    const g = memoryGallra();
    const r = await g.storedRecording();
    const past = await g.holds.place({ recordingId: r.id, reason: 'x', until: new Date(g.clock.now().getTime() - 1) }, ADMIN).catch((e: unknown) => e);
    expect(past).to.be.instanceOf(InvalidInput);
    const reserved = await g.holds.place({ recordingId: r.id, reason: 'subject-request:sr_0123456789abcdef' }, ADMIN).catch((e: unknown) => e);
    expect(reserved).to.be.instanceOf(InvalidInput);
    expect(g.holdRows.values()).to.have.length(0);
    expect(g.auditRows.entries).to.have.length(0);
  });

  it('rolls the hold back with its audit entry when the transaction fails', async () => {
    const g = memoryGallra();
    const r = await g.storedRecording();
    const append = g.auditRows.insertAll.bind(g.auditRows);
    g.auditRows.insertAll = async () => {
      throw new Error('disk full');
    };
    await g.holds.place({ recordingId: r.id, reason: 'tvist' }, ADMIN).catch(() => undefined);
    g.auditRows.insertAll = append;
    expect(g.holdRows.values()).to.have.length(0);
    expect(g.auditRows.entries).to.have.length(0);
  });
});
