import { expect } from 'chai';
import { OUTCOMES } from '../../src/reports/index.js';
import { seedMonth, type SeededMonth } from '../helpers/seed-month.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { auditEntries } from '../helpers/retention.js';

/** The seeded month the browser tests work on: 400+ calls, every outcome of the retention report. */
describe('A seeded month of calls (test helper)', function () {
  this.timeout(300_000);
  let t: TestApp;
  let month: SeededMonth;

  before(async () => {
    t = await startTestApp();
    month = await seedMonth(t);
  });
  after(async () => t?.close());

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
