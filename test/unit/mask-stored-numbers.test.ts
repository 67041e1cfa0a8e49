import { expect } from 'chai';
import sinon from 'sinon';
import type { AuditInput, AuditLog } from '../../src/audit-log/index.js';
import type { Logger } from '../../src/shared/logger.js';
import type { Tx } from '../../src/shared/transaction.js';
import { createNumberMasking, type StoredText, type StoredTextSource } from '../../src/stored-numbers/index.js';

/** A table in memory behind the StoredTextSource port. */
function memoryTable(table: string, fields: StoredTextSource['fields'], rows: Record<string, Record<string, string>>): StoredTextSource & { rows: typeof rows } {
  return {
    table,
    fields,
    rows,
    async page(after, limit) {
      const keys = Object.keys(rows).sort().filter((k) => after === null || k > after).slice(0, limit);
      const values: StoredText[] = keys.flatMap((row) => Object.entries(rows[row]!).map(([field, value]) => ({ row, field, value })));
      return { values, next: keys.length === limit ? keys[keys.length - 1]! : null };
    },
    async replace(_tx, row, field, was, value) {
      if (rows[row]![field] !== was) return false;
      rows[row]![field] = value;
      return true;
    },
  };
}

describe('masking numbers stored before every field was checked (use case)', () => {
  afterEach(() => sinon.restore());

  function setUp(scrub: () => Promise<void>) {
    const recordings = memoryTable('recordings', { callId: { kind: 'identifier', maxLength: 128 }, queue: { kind: 'text', maxLength: 12 } }, {
      r1: { callId: 'call-a', queue: 'skola' },
      r2: { callId: 'CA0701234567a0701234567a07012345ab', queue: 'kö 070-123 45 67 och mer text' },
      // On the second page.
      r3: { callId: 'call-0701234567', queue: 'bygglov' },
    });
    const optOuts = memoryTable('call_opt_outs', { callId: { kind: 'identifier', maxLength: 128 } }, { c1: { callId: 'call-0701234567' } });
    const appended: AuditInput[] = [];
    const audit: AuditLog = {
      append: async (_tx, input) => (appended.push(input), {} as never),
      appendAll: async () => [],
    };
    const logger = { warn: sinon.stub(), error: sinon.stub() } as unknown as Logger & { warn: sinon.SinonStub; error: sinon.SinonStub };
    const mask = createNumberMasking({ sources: [recordings, optOuts], transaction: (fn) => fn({} as Tx), audit, logger, scrub, newId: () => '00000000-0000-4000-8000-000000000001', pageSize: 2 });
    return { recordings, optOuts, appended, logger, mask };
  }

  it('masks every page, keeps one masked id per value across tables, cuts text to its column, and audits counts and ids', async () => {
    const scrub = sinon.stub().resolves();
    const { recordings, optOuts, appended, mask } = setUp(scrub);
    const summary = await mask('system:test');
    expect(recordings.rows.r3!.callId).to.equal('masked-00000000-0000-4000-8000-000000000001');
    expect(optOuts.rows.c1!.callId).to.equal(recordings.rows.r3!.callId);
    expect(recordings.rows.r2!.callId).to.equal('CA0701234567a0701234567a07012345ab');
    expect(recordings.rows.r2!.queue).to.equal('kö [nummer] ');
    expect(summary).to.deep.equal({ masked: 3, counts: { 'recordings.queue': 1, 'recordings.callId': 1, 'call_opt_outs.callId': 1 }, rows: { recordings: ['r2', 'r3'], call_opt_outs: ['c1'] } });
    expect(appended).to.deep.equal([{ actor: 'system:test', action: 'stored-numbers.masked', subject: null, details: summary }]);
    expect(scrub.calledOnceWith(['recordings', 'call_opt_outs'])).to.equal(true);
  });

  it('keeps the masking when the scrub fails, and logs what to do', async () => {
    const { appended, logger, mask } = setUp(() => Promise.reject(new Error('SQLITE_BUSY')));
    expect((await mask('system:test')).masked).to.equal(3);
    expect(appended).to.have.length(1);
    expect(logger.error.firstCall.args[0]).to.match(/run VACUUM/);
  });
});
