import { expect } from 'chai';
import { DAY_MS } from '../../src/shared/clock.js';
import { Conflict, InvalidInput } from '../../src/shared/errors.js';
import { memoryGallra } from '../fakes/memory-gallra.js';

const REGISTRAR = 'user:registrator';
const NUMBER = '+46701234567';
const iso = (ms: number) => new Date(ms).toISOString();

async function caseOf(g: ReturnType<typeof memoryGallra>, kind: 'access' | 'restriction' | 'erasure' | 'objection', receivedAt = '2026-11-20') {
  return g.subjectRequests.open({ kind, number: NUMBER, receivedAt, reference: 'KS 2026/118' }, REGISTRAR);
}

describe('subject-request use cases on in-memory ports (no database)', () => {
  it('is due one calendar month after receipt (clamped to the month end), at the end of that Stockholm day, and overdue from then', async () => {
    const g = memoryGallra({ now: '2026-02-10T09:00:00.000Z' });
    const c = await caseOf(g, 'erasure', '2026-01-31');
    expect(c).to.include({ dueDate: '2026-02-28', dueAt: '2026-02-28T23:00:00.000Z', status: 'open', overdue: false, daysLeft: 18 });
    expect(await g.subjectRequests.overdueCount()).to.equal(0);
    g.clock.set('2026-02-28T23:00:00.000Z');
    expect((await g.subjectRequests.get(c.id)).request).to.include({ overdue: true, daysLeft: -1 });
    expect(await g.subjectRequests.overdueCount()).to.equal(1);
    expect(g.auditRows.ofAction('subject-request.opened')[0]!.details).to.include({ requestId: c.id, dueDate: '2026-02-28' });
  });

  it('refuses a receipt date in the future and stores nothing', async () => {
    const g = memoryGallra();
    const err = await caseOf(g, 'access', '2026-11-24').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(InvalidInput);
    expect(g.cases.cases.values()).to.have.length(0);
    expect(g.auditRows.entries).to.have.length(0);
  });

  it('extends by two more months at most, only an open case, and moves the due time', async () => {
    const g = memoryGallra();
    const c = await caseOf(g, 'erasure');
    for (const until of ['2026-12-20', '2027-02-21']) {
      const err = await g.subjectRequests.extend(c.id, { reason: 'Omfattande', until }, REGISTRAR).catch((e: unknown) => e);
      expect(err, until).to.be.instanceOf(InvalidInput);
    }
    const extended = await g.subjectRequests.extend(c.id, { reason: 'Omfattande', until: '2027-02-20' }, REGISTRAR);
    expect(extended).to.include({ status: 'extended', effectiveDueDate: '2027-02-20', dueAt: '2027-02-20T23:00:00.000Z' });
    const again = await g.subjectRequests.extend(c.id, { reason: 'Igen', until: '2027-02-19' }, REGISTRAR).catch((e: unknown) => e);
    expect(again).to.be.instanceOf(Conflict).and.have.property('code', 'not-extendable');
    expect(g.auditRows.ofAction('subject-request.extended')).to.have.length(1);
  });

  it("preserves an access request's stored calls past their deadline through retention's holds, and the answer lets them go", async () => {
    const g = memoryGallra();
    const mine = await g.storedRecording({ number: NUMBER, deadline: iso(g.clock.now().getTime() + 2 * DAY_MS) });
    const other = await g.storedRecording({ number: '+46709999999', deadline: iso(g.clock.now().getTime() + 2 * DAY_MS) });
    const c = await caseOf(g, 'access');
    const placed = g.holdRows.values();
    expect(placed.map((h) => [h.recordingId, h.reason])).to.deep.equal([[mine.id, `subject-request:${c.id}`]]);
    expect(g.auditRows.ofAction('hold.placed')[0]!.details).to.include({ requestId: c.id, recordingId: mine.id });

    g.clock.advance(3 * DAY_MS);
    const run = await g.retention.run();
    expect(run.held).to.deep.equal([mine.id]);
    expect(run.deleted).to.deep.equal([other.id]);
    expect((await g.subjectRequests.get(c.id)).calls.map((x) => x.state)).to.deep.equal(['held']);

    await g.subjectRequests.answer(c.id, REGISTRAR);
    expect(g.auditRows.ofAction('hold.released')).to.have.length(1);
    expect((await g.retention.run()).deleted).to.deep.equal([mine.id]);
  });

  it('restricts: every stored call held, playback refused as restricted, once only; closing releases and forgets the caller', async () => {
    const g = memoryGallra();
    const a = await g.storedRecording({ number: NUMBER });
    const b = await g.storedRecording({ number: NUMBER });
    const c = await caseOf(g, 'restriction');
    expect(await g.subjectRequests.restrict(c.id, {}, REGISTRAR)).to.deep.equal({ held: 2, alreadyHeld: 0, until: null });
    expect(await g.subjectRequests.isRestricted(a.id)).to.equal(true);
    expect(await g.subjectRequests.restrict(c.id, {}, REGISTRAR)).to.deep.equal({ held: 0, alreadyHeld: 2, until: null });

    const closed = await g.subjectRequests.close(c.id, REGISTRAR);
    expect(closed).to.include({ status: 'closed', callerKnown: false });
    expect(await g.subjectRequests.isRestricted(a.id)).to.equal(false);
    expect(await g.subjectRequests.isRestricted(b.id)).to.equal(false);
    expect(g.holdRows.values().every((h) => h.releasedAt !== null)).to.equal(true);
    const afterClose = await g.subjectRequests.restrict(c.id, {}, REGISTRAR).catch((e: unknown) => e);
    expect(afterClose).to.be.instanceOf(Conflict).and.have.property('code', 'subject-request-closed');
  });

  it('is not restricted by an access request that preserves the same call', async () => {
    const g = memoryGallra();
    const a = await g.storedRecording({ number: NUMBER });
    await caseOf(g, 'access');
    expect(g.holdRows.values()).to.have.length(1);
    expect(await g.subjectRequests.isRestricted(a.id)).to.equal(false);
  });

  it('erases only after the confirmation names the number it deletes; a held call is kept and named with its reason', async () => {
    const g = memoryGallra();
    const a = await g.storedRecording({ number: NUMBER });
    const b = await g.storedRecording({ number: NUMBER });
    await g.holds.place({ recordingId: b.id, reason: 'tvist 2026/41' }, 'admin:tok_test');
    const c = await caseOf(g, 'erasure');

    const wrong = await g.subjectRequests.erase(c.id, { confirm: 2 }, REGISTRAR).catch((e: unknown) => e);
    expect(wrong).to.be.instanceOf(Conflict).and.have.property('code', 'confirmation-mismatch');
    expect(g.recordings.get(a.id)!.status).to.equal('stored');

    const done = await g.subjectRequests.erase(c.id, { confirm: 1 }, REGISTRAR);
    expect(done).to.deep.equal({ deleted: 1, keptUnderHold: [{ recordingId: b.id, reason: 'tvist 2026/41' }] });
    expect(g.recordings.get(a.id)).to.include({ status: 'deleted', reason: 'subject-request' });
    expect(g.recordings.get(b.id)!.status).to.equal('stored');
    expect(g.cases.caseCalls.map((cc) => [cc.recordingId, cc.outcome])).to.deep.equal([
      [a.id, 'deleted-on-request'],
      [b.id, 'kept-under-hold'],
    ]);
    const details = await g.subjectRequests.get(c.id);
    expect(details.calls.find((x) => x.recordingId === a.id)).to.include({ state: 'deleted', deletedBy: c.id });
  });

  it('refuses to erase on a case of another kind', async () => {
    const g = memoryGallra();
    const c = await caseOf(g, 'restriction');
    const err = await g.subjectRequests.erase(c.id, { confirm: 0 }, REGISTRAR).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(Conflict).and.have.property('code', 'wrong-kind');
  });

  it('objects: registers the standing opt-out, erases the calls, and the case shows the opt-out', async () => {
    const g = memoryGallra();
    const a = await g.storedRecording({ number: NUMBER });
    const c = await caseOf(g, 'objection');
    const out = await g.subjectRequests.object(c.id, { confirm: 1 }, REGISTRAR);
    expect(out).to.include({ deleted: 1, optOutCreated: true });
    expect(g.recordings.get(a.id)!.status).to.equal('deleted');
    expect(await g.optOuts.isCallerOptedOut(g.callerKeys.of(NUMBER))).to.equal(true);
    expect((await g.subjectRequests.get(c.id)).optOut).to.include({ id: out.optOutId, source: 'subject-request' });
  });
});
