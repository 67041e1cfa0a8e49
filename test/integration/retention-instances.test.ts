import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import sinon from 'sinon';
import { leaseCoordinator, scheduleExclusive } from '../../jobs/schedule.js';
import { runRetentionOnce } from '../../jobs/retention.js';
import { createServices, type Services } from '../../src/services.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createDatabase, migrateLatest, migrateRollbackAll, type Database } from '../../src/shared/database.js';
import { createLogger } from '../../src/shared/logger.js';
import { createFsObjectStore, type ObjectStore } from '../../src/storage/index.js';
import { createPostgresDatabase } from '../helpers/postgres.js';
import { auditEntries, seedRecording } from '../helpers/retention.js';
import { TEST_DATABASE, testConfig } from '../helpers/test-app.js';

const MIN = 60_000;

/** Two instances of the service: each its own pool on one database, one shared store, one clock. */
function instance(url: string, dir: string, store: ObjectStore, clock: ManualClock): { services: Services; db: Database } {
  const db = createDatabase(url);
  const config = testConfig(dir, { databaseUrl: url, callerKeySecret: 'k'.repeat(64) });
  const logger = createLogger({ level: 'silent', stream: new PassThrough() });
  return { services: createServices({ config, db, store, logger, clock }), db };
}

for (const dialect of [TEST_DATABASE]) {
  describe(`two instances racing the retention job (${dialect})`, function () {
    let dir: string;
    let url: string;
    let pg: Awaited<ReturnType<typeof createPostgresDatabase>> | undefined;
    let a: ReturnType<typeof instance>;
    let b: ReturnType<typeof instance>;
    let clock: ManualClock;
    let store: ObjectStore;

    beforeEach(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'gallra-race-'));
      if (dialect === 'postgres') {
        pg = await createPostgresDatabase();
        url = pg.url;
      } else {
        url = `sqlite:${path.join(dir, 'gallra.sqlite')}`;
      }
      clock = new ManualClock('2026-11-23T10:00:00.000Z');
      store = createFsObjectStore({ root: path.join(dir, 'objects') });
      a = instance(url, dir, store, clock);
      b = instance(url, dir, store, clock);
      await migrateLatest(a.db);
    });

    afterEach(async () => {
      sinon.restore();
      await a.db.destroy();
      await b.db.destroy();
      await pg?.drop();
      pg = undefined;
      rmSync(dir, { recursive: true, force: true });
    });

    it('lets exactly one instance run, with one audit entry per deleted recording', async () => {
      const ids = [];
      for (let i = 0; i < 25; i++) {
        ids.push((await seedRecording({ db: a.db, store }, { deadline: new Date(clock.now().getTime() + (20 + i) * MIN), at: new Date(clock.now().getTime() - 86_400_000) })).id);
      }
      // Hold each run inside its deletion until the other instance has had its go, so they truly overlap.
      let release!: () => void;
      const otherHadItsGo = new Promise<void>((r) => (release = r));
      for (const s of [a.services, b.services]) {
        const run = s.retention.run.bind(s.retention);
        sinon.stub(s.retention, 'run').callsFake(async (opts) => {
          await Promise.race([otherHadItsGo, new Promise((r) => setTimeout(r, 5000))]);
          return run(opts);
        });
      }
      const runs = [runRetentionOnce(a.services), runRetentionOnce(b.services)];
      void Promise.race(runs).then(release);
      const results = await Promise.all(runs);

      expect(results.map((r) => r.ran).sort()).to.deep.equal([false, true]);
      const ran = results.find((r) => r.ran) as { ran: true; report: { deleted: string[] } };
      expect(ran.report.deleted.sort()).to.deep.equal([...ids].sort());
      const entries = await auditEntries(a.db, 'recording.deleted');
      expect(entries).to.have.length(ids.length);
      expect(new Set(entries.map((e) => e.subject)).size).to.equal(ids.length);
      expect(await a.db('job_leases').count({ n: '*' }).first()).to.satisfy((r: { n: unknown }) => Number(r.n) === 0);
    });

    it("elects one instance per node-cron slot through the run coordinator, and frees the lease on completion", async () => {
      const ca = leaseCoordinator(a.services.runLeases, a.services.logger);
      const cb = leaseCoordinator(b.services.runLeases, b.services.logger);
      const key = 'retention:2026-11-23T10:15:00.000Z';
      const votes = await Promise.all([ca.shouldRun(key, 60_000), cb.shouldRun(key, 60_000)]);
      expect(votes.sort()).to.deep.equal([false, true]);
      // While one runs, the next slot is not given to the other either: the lease is per job.
      expect(await cb.shouldRun('retention:2026-11-23T10:30:00.000Z', 60_000)).to.equal(false);
      await (votes[0] === true ? ca : cb).onComplete?.(key);
      await ca.onComplete?.(key);
      await cb.onComplete?.(key);
      expect(await cb.shouldRun('retention:2026-11-23T10:45:00.000Z', 60_000)).to.equal(true);
      await cb.onComplete?.('retention:2026-11-23T10:45:00.000Z');
    });

    it('runs a node-cron schedule on both instances and never runs the job on both at once', async function () {
      this.timeout(20_000);
      let active = 0;
      let maxActive = 0;
      const skips: (string | undefined)[] = [];
      let skipped!: () => void;
      const someoneSkipped = new Promise<void>((r) => (skipped = r));
      const tasks = [a.services, b.services].map((s) => {
        const task = scheduleExclusive({
          name: 'retention',
          expression: '* * * * * *',
          leases: s.runLeases,
          logger: s.logger,
          // Keeps the lease until the other instance has been refused, so the two really contend.
          run: async () => {
            maxActive = Math.max(maxActive, ++active);
            try {
              await Promise.race([someoneSkipped, new Promise((r) => setTimeout(r, 5000))]);
            } finally {
              active--;
            }
          },
        });
        task.on('execution:skipped', (c) => {
          skips.push(c.reason);
          skipped();
        });
        return task;
      });
      try {
        await someoneSkipped;
        expect(skips[0]).to.equal('not-elected');
        expect(maxActive).to.equal(1);
      } finally {
        for (const task of tasks) await task.destroy();
      }
    });

    it('migrates the holds and job_leases tables latest → rollback → latest', async () => {
      await migrateRollbackAll(a.db);
      expect(await a.db.schema.hasTable('holds')).to.equal(false);
      expect(await a.db.schema.hasTable('job_leases')).to.equal(false);
      await migrateLatest(a.db);
      expect(await a.db.schema.hasTable('holds')).to.equal(true);
      expect(await a.db.schema.hasTable('job_leases')).to.equal(true);
    });

    it('lets another instance take over the lease of a crashed holder once it expires, not before', async () => {
      const crashed = await a.services.runLeases.acquire('retention', 5 * MIN);
      expect(crashed).to.not.equal(null);
      expect(await b.services.runLeases.acquire('retention', 5 * MIN)).to.equal(null);
      clock.advance(5 * MIN);
      const taken = await b.services.runLeases.acquire('retention', 5 * MIN);
      expect(taken).to.not.equal(null);
      expect(await crashed!.renew()).to.equal(false, 'the old holder learns it lost the lease');
      await crashed!.release(); // must not free the new holder's lease
      expect(await a.services.runLeases.acquire('retention', 5 * MIN)).to.equal(null);
      await taken!.release();
    });
  });
}
