import { expect } from 'chai';
import { BAD_COLUMNS, formatTable, newRow, type Row } from '../../bench/chaos/harness.js';
import {
  killDuringRetention, killDuringUploads, postgresRefusing, retentionBesideTraffic, sqliteDiskFull, sqliteLocked, storeOutage, twoInstances, type DrillOptions,
} from '../../bench/chaos/scenarios.js';
import { sqliteLockedPastBusyTimeout, storeFailsDuringLargeUpload, storeUnreachableAtStart } from '../../bench/chaos/outage-drills.js';
import { killDuringSourceTakes, twoInstancesPollingOneSource } from '../../bench/chaos/source-drills.js';
import { TEST_DATABASE } from '../helpers/test-database.js';

/**
 * The fault drills of `npm run chaos` (bench/chaos.ts), few trials each, on the run's database kind:
 * SQLite with the filesystem store, PostgreSQL with s3rver (the store outages use s3rver on both). The
 * service and its scripts run as child processes (from the TypeScript sources, so that no build is
 * needed) and are killed or cut off from outside; every bad column of the drill's row must be 0. Time
 * comes from the seeder's injected clock (due calls are ingested "two days ago"), never from waiting.
 * The store's deadline is shortened (S3_OPERATION_TIMEOUT=2s) so that the black-holed store is
 * answered in seconds; `npm run chaos` runs the same drills on the defaults.
 */
describe('fault drills, short (npm run chaos has the full matrix)', function () {
  this.timeout(300_000);
  const store = TEST_DATABASE === 'postgres' ? 's3' : 'fs';
  const pii = newRow('PII scan of every file left', { db: TEST_DATABASE, store });
  const o: DrillOptions = { runner: 'tsx', pii, env: { S3_OPERATION_TIMEOUT: '2s' } };

  const expectClean = (row: Row) => {
    const bad = Object.fromEntries(BAD_COLUMNS.map((c) => [c, row[c]]));
    expect(bad, formatTable([row])).to.deep.equal(Object.fromEntries(BAD_COLUMNS.map((c) => [c, 0])));
    expect(row.trials, formatTable([row])).to.be.greaterThan(0);
  };

  it('kill -9 during retention runs: every due recording ends deleted with exactly one entry, nothing overdue, nothing left after a sweep', async () => {
    expectClean(await killDuringRetention(TEST_DATABASE, store, 3, { ...o, perTrial: 40 }));
  });

  it('kill -9 during concurrent uploads: every acknowledged upload plays back byte for byte, retries are answered, no temp file or orphan left after a sweep', async () => {
    expectClean(await killDuringUploads(TEST_DATABASE, store, 2, { ...o, concurrency: 4, audioSeconds: 10, maxKillMs: 1500 }));
  });

  it('the S3 store stopped: upload, playback, deletion, verification and readiness answer 503 problem+json; afterwards all works and nothing acknowledged is lost', async () => {
    expectClean(await storeOutage(TEST_DATABASE, 'refuse', o));
  });

  it('the S3 store black-holed: every request is answered (503) within the store deadline and a retention run ends; afterwards all works', async () => {
    expectClean(await storeOutage(TEST_DATABASE, 'blackhole', o));
  });

  it('S3 unreachable at start: the pre-call check answers within 1 s, uploads 503, readiness says what is pending; ready once the store is back', async () => {
    expectClean(await storeUnreachableAtStart(TEST_DATABASE, o));
  });

  it('the store failing after 8 MB of a 20 MB upload: 503 problem+json at once, never 408, nothing left behind', async () => {
    expectClean(await storeFailsDuringLargeUpload(TEST_DATABASE, o));
  });

  it('a retention run beside uploads and opt-out registrations: no 5xx, everything due deleted, nothing acknowledged lost', async () => {
    expectClean(await retentionBesideTraffic(TEST_DATABASE, store, { ...o, uploads: 30, optOuts: 30, due: 60 }));
  });

  it('kill -9 while taking from a folder source, at each step: one recording, one ingest entry and one source.deleted per item, the folder empty, nothing left after a sweep', async () => {
    expectClean(await killDuringSourceTakes(TEST_DATABASE, store, 3, { ...o, perTrial: 2 }));
  });

  if (TEST_DATABASE === 'postgres') {
    it('two instances polling one folder source on one PostgreSQL database: each item stored, ingested and deleted at the source once', async () => {
      expectClean(await twoInstancesPollingOneSource('fs', { ...o, items: 20 }));
    });

    it('PostgreSQL refusing connections: every request answers 503 problem+json, readiness says not ready; afterwards all works', async () => {
      expectClean(await postgresRefusing('fs', o));
    });

    it('two instances on one PostgreSQL database agree on opt-outs, signatures and the audit log; different or missing secrets do not start', async () => {
      expectClean(await twoInstances('fs', o));
    });
  } else {
    it('SQLite locked by another process: uploads and registrations wait for the lock, none fails', async () => {
      expectClean(await sqliteLocked(1, o));
    });

    it('SQLite locked past its busy timeout (1.5 s, held 4.5 s): every route answers within it, writes 503; afterwards all works', async () => {
      expectClean(await sqliteLockedPastBusyTimeout({ ...o, holdMs: 4_500, busyTimeoutMs: 1_500 }));
    });

    it('SQLite on a full disk (a 64 MB tmpfs): 503 with Retry-After while full, readiness says not ready; afterwards all works', async () => {
      expectClean(await sqliteDiskFull(o));
    });
  }

  it('leaves no phone number in any file the drills left (data, database, logs), in any spelling', () => {
    expect(pii.trials).to.be.greaterThan(0);
    expect(pii.piiInLogs, pii.notes.join('; ')).to.equal(0);
  });
});
