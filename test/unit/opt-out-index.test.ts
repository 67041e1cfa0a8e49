import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createOptOutIndex } from '../../src/opt-outs/opt-out-index.js';
import { createOptOutRepository } from '../../src/opt-outs/opt-out-repository.js';
import { createDatabase, migrateLatest, type Database } from '../../src/shared/database.js';

const key = (n: string) => createHmac('sha256', 'test').update(n).digest('hex');

describe('opt-out index (the pre-call check from memory)', () => {
  let dir: string;
  let db: Database;
  const row = (id: string, n: string) => ({ id, caller_key: key(n), source: 'ivr', created_at: '2026-11-23T10:00:00.000Z', created_by: 'system:test' });
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gallra-index-'));
    db = createDatabase(`sqlite:${path.join(dir, 'db.sqlite')}`);
  });
  afterEach(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads the keys in force once, and ignores removed registrations (caller_key null)', async () => {
    await migrateLatest(db);
    await db('opt_outs').insert([row('opt_a', '+46701'), row('opt_b', '+46702'), { ...row('opt_c', '+46703'), caller_key: null, removed_at: 'x', removed_by: 'y' }]);
    const index = createOptOutIndex(createOptOutRepository(db));
    expect(await index.has(key('+46701'))).to.equal(true);
    expect(await index.has(key('+46702'))).to.equal(true);
    expect(await index.has(key('+46703'))).to.equal(false);
    // Loaded once: a row written behind the registry's back is not seen; the registry tells the index instead.
    await db('opt_outs').insert(row('opt_d', '+46704'));
    expect(await index.has(key('+46704'))).to.equal(false);
    index.added(key('+46704'));
    index.removed(key('+46701'));
    expect(await index.has(key('+46704'))).to.equal(true);
    expect(await index.has(key('+46701'))).to.equal(false);
    expect(await index.has(key('+46702'))).to.equal(true);
  });

  it('keeps a registration and a removal committed while its load is still reading', async () => {
    await migrateLatest(db);
    await db('opt_outs').insert(row('opt_a', '+46701'));
    const index = createOptOutIndex(createOptOutRepository(db));
    const first = index.has(key('+46701')); // starts the load; its SELECT is in flight
    index.removed(key('+46701'));
    index.added(key('+46709'));
    expect(await first).to.equal(false);
    expect(await index.has(key('+46709'))).to.equal(true);
  });

  it('retries a load that failed instead of answering from an empty set', async () => {
    const index = createOptOutIndex(createOptOutRepository(db)); // no tables yet: the load fails
    let failure: unknown;
    await index.has(key('+46701')).catch((e: unknown) => (failure = e));
    expect(failure).to.be.instanceOf(Error);
    await migrateLatest(db);
    await db('opt_outs').insert(row('opt_a', '+46701'));
    expect(await index.has(key('+46701'))).to.equal(true);
  });
});
