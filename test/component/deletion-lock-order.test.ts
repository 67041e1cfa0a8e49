import { expect } from 'chai';
import { createRecordingRepository } from '../../src/recordings/recording-repository.js';
import { DAY_MS } from '../../src/shared/clock.js';
import { asTx } from '../../src/shared/database.js';
import { seedRecording } from '../helpers/retention.js';
import { itOn, startTestApp, type TestApp } from '../helpers/test-app.js';

describe('row locks of the deletion path', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  // A claim locks its rows in id order. An UPDATE locks rows in the order its plan reads them (heap
  // order on a sequential scan): a batch's tombstones, written while an opt-out or a data-subject
  // request claims some of the same recordings, could then hold one row the claim wants and wait for
  // one the claim holds. PostgreSQL breaks such a deadlock by failing one of the two (40P01).
  itOn('postgres')('writes tombstones after locking their rows in id order, so a claim on the same recordings waits instead of deadlocking (PostgreSQL)', async () => {
    t = await startTestApp();
    const db = t.db;
    const repo = createRecordingRepository(db);
    const deadline = new Date(t.clock.now().getTime() + DAY_MS);
    const seeded = [await seedRecording(t, { deadline }), await seedRecording(t, { deadline })];
    const [a, b] = seeded.map((r) => r.id).sort() as [string, string];
    // The row of `a` gets a new version after `b`'s: a sequential scan now meets b first.
    await db('recordings').where({ id: a }).update({ queue: db.raw('queue') });

    const claim = await db.transaction();
    const errors: unknown[] = [];
    try {
      await repo.lockRows(asTx(claim), [a]);
      const tombstones = db
        .transaction(async (trx) => {
          // The plan a large table can get: rows in heap order, not by the primary key.
          await trx.raw('set local enable_indexscan = off');
          await trx.raw('set local enable_bitmapscan = off');
          await repo.tombstone(asTx(trx), [a, b], { at: t!.clock.now().toISOString(), reason: 'retention' });
        })
        .catch((err: unknown) => errors.push(err));
      // Until the tombstone transaction waits for the row the claim holds.
      for (let i = 0; i < 200; i++) {
        const waiting = await db.raw("select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'");
        if (waiting.rows[0].n > 0) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      // The claim's next row: taken at once if the tombstones locked in id order (they hold nothing yet).
      await repo.lockRows(asTx(claim), [b]).catch((err: unknown) => errors.push(err));
      await claim.commit().catch((err: unknown) => errors.push(err));
      await tombstones;
    } finally {
      if (!claim.isCompleted()) await claim.rollback().catch(() => undefined);
    }
    expect(errors.map((e) => (e as { code?: string }).code ?? String(e))).to.deep.equal([]);
    expect((await db('recordings').whereIn('id', [a, b]).select('status')).map((r: { status: string }) => r.status)).to.deep.equal(['deleted', 'deleted']);
  });
});
