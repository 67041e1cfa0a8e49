import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createAuditLog, createAuditRepository, verifyChain } from '../../src/audit-log/index.js';
import { readAll as readAuditEntries } from '../../src/audit-log/audit-repository.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createDatabase, migrateLatest, type Database, asTx } from '../../src/shared/database.js';

describe('audit log: appending several entries as one step', () => {
  let dir: string;
  let db: Database;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gallra-append-'));
    db = createDatabase(`sqlite:${path.join(dir, 'db.sqlite')}`);
    await migrateLatest(db);
  });
  afterEach(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('chains 250 entries in order after one appended alone, and the chain verifies', async () => {
    const audit = createAuditLog({ clock: new ManualClock('2026-11-23T10:00:00.000Z'), entries: createAuditRepository(db) });
    await db.transaction((trx) => audit.append(asTx(trx), { actor: 'system:test', action: 'first' }));
    const many = Array.from({ length: 250 }, (_, i) => ({ actor: 'system:test', action: 'recording.deleted', subject: `recording:${i}`, details: { i } }));
    const appended = await db.transaction((trx) => audit.appendAll(asTx(trx), many));

    expect(appended.map((e) => e.seq)).to.deep.equal(Array.from({ length: 250 }, (_, i) => i + 2));
    const stored = [];
    for await (const e of readAuditEntries(db)) stored.push(e);
    expect(stored).to.have.length(251);
    expect(stored.slice(1).map((e) => e.subject)).to.deep.equal(many.map((m) => m.subject));
    for (let i = 1; i < stored.length; i++) expect(stored[i]!.prevHash).to.equal(stored[i - 1]!.hash);
    expect((await verifyChain(readAuditEntries(db))).ok).to.equal(true);
  });

  it('appends nothing for no entries, and nothing at all when its transaction fails', async () => {
    const audit = createAuditLog({ clock: new ManualClock('2026-11-23T10:00:00.000Z'), entries: createAuditRepository(db) });
    expect(await db.transaction((trx) => audit.appendAll(asTx(trx), []))).to.deep.equal([]);
    await db
      .transaction(async (trx) => {
        await audit.appendAll(asTx(trx), [{ actor: 'system:test', action: 'a' }, { actor: 'system:test', action: 'b' }]);
        throw new Error('the change it records failed');
      })
      .catch(() => undefined);
    expect(await db('audit_entries').count({ n: '*' }).first()).to.deep.include({ n: 0 });
  });
});
