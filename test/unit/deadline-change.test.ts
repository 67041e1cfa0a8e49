import { expect } from 'chai';
import type { AuditInput, AuditLog } from '../../src/audit-log/index.js';
import { createChangeRecordingDeadline, type RecordingDeadlines } from '../../src/retention-policy/index.js';
import type { Tx } from '../../src/shared/transaction.js';

/** The recordings' deadlines in memory, as the port describes them: only ever brought forward. */
function memoryDeadlines(rows: Record<string, string>): RecordingDeadlines {
  return {
    async storedPage() {
      return [];
    },
    async bringForward(_tx, id, deadline) {
      if (!(id in rows) || rows[id]! <= deadline) return false;
      rows[id] = deadline;
      return true;
    },
  };
}

describe('changeRecordingDeadline: the one place a stored deadline changes', () => {
  const tx = {} as Tx;
  const change = { recordingId: 'r1', from: '2026-12-20T10:00:00.000Z', to: '2026-12-01T10:00:00.000Z', policyVersion: 3, rule: 'bygg*', actor: 'system:retention', at: '2026-11-23T10:00:00.000Z' };
  let entries: AuditInput[];
  const audit = { append: async (_tx: Tx, e: AuditInput) => (entries.push(e), e) } as unknown as AuditLog;
  beforeEach(() => (entries = []));

  it('brings a deadline forward with one recording.deadline-changed entry naming old, new and the version', async () => {
    const rows = { r1: change.from };
    expect(await createChangeRecordingDeadline({ recordings: memoryDeadlines(rows), audit })(tx, change)).to.equal(true);
    expect(rows.r1).to.equal(change.to);
    expect(entries).to.deep.equal([
      { actor: 'system:retention', action: 'recording.deadline-changed', subject: 'recording:r1', details: { recordingId: 'r1', oldDeadline: change.from, newDeadline: change.to, policyVersion: 3, rule: 'bygg*' } },
    ]);
  });

  it('never makes a deadline later, and audits nothing when nothing changed', async () => {
    const rows = { r1: change.from };
    const changeDeadline = createChangeRecordingDeadline({ recordings: memoryDeadlines(rows), audit });
    expect(await changeDeadline(tx, { ...change, to: '2027-01-01T00:00:00.000Z' })).to.equal(false);
    expect(await changeDeadline(tx, { ...change, recordingId: 'gone' })).to.equal(false);
    expect(rows.r1).to.equal(change.from);
    expect(entries).to.deep.equal([]);
  });
});
