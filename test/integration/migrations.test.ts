import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createAuditLog, createAuditRepository, verifyChain } from '../../src/audit-log/index.js';
import { readAll as readAuditEntries } from '../../src/audit-log/audit-repository.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createDatabase, migrateLatest, migrateRollbackAll, type Database, asTx } from '../../src/shared/database.js';
import { createPostgresDatabase } from '../helpers/postgres.js';
import { DATABASE_NAMES, TEST_DATABASE } from '../helpers/test-database.js';

const backends: [string, () => Promise<{ db: Database; cleanup(): Promise<void> }>][] = [
  [
    'SQLite',
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'gallra-mig-'));
      const db = createDatabase(`sqlite:${path.join(dir, 'm.sqlite')}`);
      return { db, cleanup: async () => (await db.destroy(), rmSync(dir, { recursive: true, force: true })) };
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const pg = await createPostgresDatabase();
      const db = createDatabase(pg.url);
      return { db, cleanup: async () => (await db.destroy(), await pg.drop()) };
    },
  ],
];

for (const [name, open] of backends) {
  if (name !== DATABASE_NAMES[TEST_DATABASE]) continue;
  describe(`migrations and the audit chain on ${name}`, () => {
    let db: Database;
    let cleanup: () => Promise<void>;
    before(async () => ({ db, cleanup } = await open()));
    after(async () => cleanup());

    it('migrates latest → rollback → latest', async () => {
      const applied = await migrateLatest(db);
      expect(applied.length).to.be.greaterThan(0);
      expect(await db.schema.hasTable('recordings')).to.equal(true);
      await migrateRollbackAll(db);
      expect(await db.schema.hasTable('recordings')).to.equal(false);
      expect(await migrateLatest(db)).to.deep.equal(applied);
    });

    it('keeps one unbroken chain when many transactions append at once', async () => {
      const audit = createAuditLog({ clock: new ManualClock(), entries: createAuditRepository(db) });
      await Promise.all(
        Array.from({ length: 40 }, (_, i) => db.transaction((trx) => audit.append(asTx(trx), { actor: 'system:test', action: 'test.concurrent', subject: `n:${i}` }))),
      );
      const entries = [];
      for await (const e of readAuditEntries(db)) entries.push(e);
      const verdict = await verifyChain(entries);
      expect(verdict.ok, JSON.stringify(verdict.firstProblem)).to.equal(true);
      expect(entries.filter((e) => e.action === 'test.concurrent')).to.have.length(40);
    });

    it('rolls the audit entry back with the change it records', async () => {
      const audit = createAuditLog({ clock: new ManualClock(), entries: createAuditRepository(db) });
      const before = await db('audit_entries').count({ n: '*' });
      try {
        await db.transaction(async (trx) => {
          await audit.append(asTx(trx), { actor: 'system:test', action: 'test.rolled-back' });
          throw new Error('the change failed');
        });
      } catch {
        /* expected */
      }
      expect(await db('audit_entries').count({ n: '*' })).to.deep.equal(before);
    });

    it('reads counts and bigint columns as numbers, the same on both dialects', async () => {
      expect(await db('audit_entries').max({ seq: 'seq' }).count({ n: '*' }).first()).to.deep.equal({ seq: 40, n: 40 });
    });
  });
}
