import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createWorld, newNumber, newRow } from '../../bench/chaos/harness.js';
import { finish } from '../../bench/chaos/scenarios.js';
import { migrateLatest } from '../../src/shared/database.js';
import { TEST_DATABASE } from '../helpers/test-database.js';

/**
 * The drills' PII scan on a real world (a database of the run's kind, its files, its logs): a number
 * left behind is found where it is, the note says where with the number masked, and the files with
 * hits outlive the world.
 */
describe("the fault drills' PII scan on a drill's world", function () {
  this.timeout(120_000);
  const evidenceRoot = mkdtempSync(path.join(tmpdir(), 'gallra-pii-evidence-'));
  after(() => rmSync(evidenceRoot, { recursive: true, force: true }));

  it(`finds a number left in the ${TEST_DATABASE} database and a log, names where, and keeps the files after the world is removed`, async () => {
    const w = await createWorld('pii evidence', TEST_DATABASE, 'fs', 'tsx');
    const pii = newRow('PII scan of every file left', w);
    const number = newNumber(w);
    const nsn = number.slice(3);
    const spaced = `0${nsn.slice(0, 2)}-${nsn.slice(2, 5)} ${nsn.slice(5, 7)} ${nsn.slice(7)}`;
    const db = w.knex();
    await migrateLatest(db);
    await db('opt_outs').insert([
      // A leak: the number in an actor column.
      { id: 'opt_0123456789abcdef', caller_key: null, source: 'agent', created_at: '2026-12-07T19:00:00.000Z', created_by: `agent:${spaced}` },
      // Not a leak: a key holding the number's digits between hex letters, as a caller key may.
      { id: 'opt_fedcba9876543210', caller_key: `ab0${nsn}cd`.padEnd(64, 'e'), source: 'ivr', created_at: '2026-12-07T19:00:01.000Z', created_by: 'phone-system:tok_0123456789ab' },
    ]);
    writeFileSync(path.join(w.logDir, '0001-service.log'), `{"level":"info","message":"listening"}\n{"level":"error","message":"caller ${number} refused"}\n`);

    await finish(w, pii, evidenceRoot);

    expect(existsSync(w.dir)).to.equal(false);
    const [kept] = readdirSync(evidenceRoot).map((d) => path.join(evidenceRoot, d));
    const hits = readFileSync(path.join(kept!, 'hits.txt'), 'utf8').trim().split('\n').map((l) => l.split('\t'));
    const masked = spaced.replace(/\d(?=.*\d.*\d)/g, '*');
    expect(hits).to.deep.include(['logs/0001-service.log:2', 'number', 'JSON /message', `+${'*'.repeat(9)}${nsn.slice(-2)}`]);
    if (TEST_DATABASE === 'postgres') {
      expect(hits.filter(([f]) => f!.startsWith('logs/database.dump.sql'))).to.deep.equal([
        [hits.find(([f]) => f!.startsWith('logs/database.dump.sql'))![0], 'number', 'COPY public.opt_outs column 5 (created_by)', masked],
      ]);
      expect(pii.piiInLogs).to.equal(2);
    } else {
      const inDb = hits.filter(([f]) => f!.startsWith('data/gallra.sqlite'));
      expect(inDb.length).to.be.greaterThan(0);
      for (const h of inDb) expect(h.slice(1)).to.deep.equal(['number', 'binary', masked]);
      expect(pii.piiInLogs).to.equal(1 + inDb.length);
    }
    // The kept files are the files as they were: the leak can be read there.
    expect(readFileSync(path.join(kept!, 'logs/0001-service.log'), 'utf8')).to.include(number);
    const dbFile = TEST_DATABASE === 'postgres' ? 'logs/database.dump.sql' : hits.find(([f]) => f!.startsWith('data/gallra.sqlite'))![0]!.replace(/:\d+$/, '');
    expect(readFileSync(path.join(kept!, dbFile), 'latin1')).to.include(spaced);
    expect(pii.notes.join('\n')).to.include(`kept in ${kept}`).and.not.include(nsn);
  });
});
