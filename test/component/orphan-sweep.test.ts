import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import sinon from 'sinon';
import { verifyChain } from '../../src/audit-log/index.js';
import { readAll as readAuditEntries } from '../../src/audit-log/audit-repository.js';
import { createRecordingRepository } from '../../src/recordings/index.js';
import * as recordingRepository from '../../src/recordings/recording-repository.js';
import { createOrphanDeletionRepository, createOrphanSweep, RETENTION_ACTOR } from '../../src/retention/index.js';
import type { Transact } from '../../src/shared/transaction.js';
import { createS3Client, createS3ObjectStore, type ObjectStore } from '../../src/storage/index.js';
import { auditEntries } from '../helpers/retention.js';
import { withMultipartListing } from '../helpers/s3-multipart-fake.js';
import { s3ConfigFor, startS3Server } from '../helpers/s3-server.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const HOUR = 3_600_000;

/** Dies like a killed process at a chosen point: every later store call and transaction fails. */
class ProcessDied extends Error {
  constructor() {
    super('the process died here');
  }
}

describe('orphan sweep: crash leftovers and written-ahead deletions', () => {
  let t: TestApp;
  let objects: string;

  beforeEach(async () => {
    t = await startTestApp();
    objects = path.join(t.dir, 'objects');
    // The fs store stamps real mtimes: the manual clock runs at real time, so "old" means old.
    t.clock.set(new Date());
  });
  afterEach(async () => {
    sinon.restore();
    await t.close();
  });

  /** A sweep wired like the service's, with the store and transaction port a test hands it. */
  function sweepWith(deps: { store?: ObjectStore; transaction?: Transact } = {}) {
    return createOrphanSweep({
      recordings: createRecordingRepository(t.db),
      intents: createOrphanDeletionRepository(t.db),
      transaction: deps.transaction ?? t.services.transaction,
      store: deps.store ?? t.store,
      audit: t.services.audit,
      clock: t.clock,
      logger: t.services.logger,
      graceMs: t.config.orphanGraceMs,
    });
  }

  /** Writes what a process killed inside the fs store's put leaves, with an mtime `ageMs` ago. */
  async function crashRemains(ageMs: number): Promise<{ dir: string; tmp: string; sidecar: string }> {
    const dir = path.join(objects, 'recordings', '2026', '11', '29');
    await mkdir(dir, { recursive: true });
    const tmp = path.join(dir, `.tmp-${randomUUID()}`);
    const sidecar = path.join(dir, `103000123-${randomUUID()}.meta.json`);
    await writeFile(tmp, Buffer.alloc(64 * 1024, 0x55)); // call audio, as far as anyone can tell
    await writeFile(sidecar, JSON.stringify({ contentType: 'audio/wav' }));
    const at = new Date(t.clock.now().getTime() - ageMs);
    await utimes(tmp, at, at);
    await utimes(sidecar, at, at);
    return { dir, tmp, sidecar };
  }

  const relative = (file: string) => path.relative(objects, file).split(path.sep).join('/');

  it('removes a temp file and a lone sidecar a crash left, once older than the grace period, with one orphan entry each', async () => {
    const old = await crashRemains(t.config.orphanGraceMs + HOUR);
    const young = await crashRemains(t.config.orphanGraceMs / 2);

    const report = await t.services.retention.run();

    expect(existsSync(old.tmp), 'old temp file').to.equal(false);
    expect(existsSync(old.sidecar), 'old lone sidecar').to.equal(false);
    expect(existsSync(young.tmp), 'young temp file (an upload may still be writing it)').to.equal(true);
    expect(existsSync(young.sidecar), 'young sidecar').to.equal(true);
    expect([...report.orphans.deleted].sort()).to.deep.equal([relative(old.tmp), relative(old.sidecar)].sort());
    const entries = await auditEntries(t.db, 'recording.orphan-deleted');
    expect(entries.map((e) => e.subject).sort()).to.deep.equal([`object:${relative(old.tmp)}`, `object:${relative(old.sidecar)}`].sort());
    for (const e of entries) expect(e.actor).to.equal(RETENTION_ACTOR);
    expect(entries.find((e) => e.subject === `object:${relative(old.tmp)}`)!.details).to.include({ kind: 'temp-file', leftover: relative(old.tmp) });
    expect(entries.find((e) => e.subject === `object:${relative(old.sidecar)}`)!.details).to.include({
      kind: 'sidecar',
      leftover: relative(old.sidecar),
      storageKey: relative(old.sidecar).slice(0, -'.meta.json'.length),
    });
    expect(await t.db('orphan_deletions').count({ n: '*' }).first()).to.deep.include({ n: 0 });

    // A second sweep finds nothing more to do and writes nothing.
    await t.services.retention.run();
    expect(await auditEntries(t.db, 'recording.orphan-deleted')).to.have.length(2);
  });

  it('lists crash leftovers on a dry run without removing them or writing anything', async () => {
    const old = await crashRemains(t.config.orphanGraceMs + HOUR);
    const report = await t.services.retention.run({ dryRun: true });
    expect([...report.orphans.deleted].sort()).to.deep.equal([relative(old.tmp), relative(old.sidecar)].sort());
    expect(existsSync(old.tmp)).to.equal(true);
    expect(await auditEntries(t.db, 'recording.orphan-deleted')).to.have.length(0);
    expect(await t.db('orphan_deletions').count({ n: '*' }).first()).to.deep.include({ n: 0 });
  });

  describe('a crash between the deletion and its audit entry', () => {
    const orphanKey = () => `recordings/2026/11/29/103000999-${randomUUID()}`;

    async function orphanObject(): Promise<string> {
      const key = orphanKey();
      await t.store.put(key, Readable.from([Buffer.from('audio of a crashed upload')]), { contentType: 'audio/wav' });
      // Old enough: move the clock past the grace period instead of the file into the past.
      return key;
    }

    it('ends with exactly one entry after the next sweep when the process dies right after the object delete', async () => {
      const key = await orphanObject();
      t.clock.advance(t.config.orphanGraceMs + HOUR);
      // The store deletes, then the process dies before anything else happens.
      const dying: ObjectStore = Object.assign(Object.create(t.store) as ObjectStore, {
        async delete(keys: string[]) {
          await t.store.delete(keys);
          throw new ProcessDied();
        },
      });
      try {
        await sweepWith({ store: dying })({ actor: RETENTION_ACTOR });
        expect.fail('the sweep survived its own death');
      } catch (err) {
        expect(err).to.be.instanceOf(ProcessDied);
      }
      expect(await t.store.exists(key)).to.equal(false);
      expect(await auditEntries(t.db, 'recording.orphan-deleted')).to.have.length(0);

      const next = await sweepWith()({ actor: RETENTION_ACTOR });
      expect(next.deleted).to.deep.equal([key]);
      const entries = await auditEntries(t.db, 'recording.orphan-deleted');
      expect(entries).to.have.length(1);
      expect(entries[0]).to.include({ subject: `object:${key}`, actor: RETENTION_ACTOR });
      expect(entries[0]!.details).to.include({ storageKey: key, kind: 'object', resumed: true });
      expect(await t.db('orphan_deletions').count({ n: '*' }).first()).to.deep.include({ n: 0 });

      await sweepWith()({ actor: RETENTION_ACTOR });
      expect(await auditEntries(t.db, 'recording.orphan-deleted')).to.have.length(1);
      expect((await verifyChain(readAuditEntries(t.db))).ok).to.equal(true);
    });

    it('ends with exactly one entry when the transaction that writes the entry fails after the delete', async () => {
      const key = await orphanObject();
      const crash = await crashRemains(t.config.orphanGraceMs + HOUR);
      t.clock.advance(t.config.orphanGraceMs + HOUR);
      let deletes = 0;
      const counting: ObjectStore = Object.assign(Object.create(t.store) as ObjectStore, {
        async delete(keys: string[]) {
          deletes++;
          return t.store.delete(keys);
        },
        async removeLeftovers(ids: string[]) {
          deletes++;
          return t.store.removeLeftovers(ids);
        },
      });
      // The first transaction (the intents) commits; every one after a delete dies.
      const dyingAfterDelete: Transact = (fn) => (deletes > 0 ? Promise.reject(new ProcessDied()) : t.services.transaction(fn));
      try {
        await sweepWith({ store: counting, transaction: dyingAfterDelete })({ actor: RETENTION_ACTOR });
        expect.fail('the sweep survived its own death');
      } catch (err) {
        expect(err).to.be.instanceOf(ProcessDied);
      }
      expect(await t.store.exists(key)).to.equal(false);
      expect(await auditEntries(t.db, 'recording.orphan-deleted')).to.have.length(0);
      expect(Number((await t.db('orphan_deletions').count({ n: '*' }).first())!.n)).to.be.greaterThan(0);

      await sweepWith()({ actor: RETENTION_ACTOR });
      await sweepWith()({ actor: RETENTION_ACTOR });
      const subjects = (await auditEntries(t.db, 'recording.orphan-deleted')).map((e) => e.subject);
      expect(subjects.filter((s) => s === `object:${key}`)).to.have.length(1);
      // The crash remains: gone and each written down once, whether the dead sweep reached them or not.
      expect(existsSync(crash.tmp) || existsSync(crash.sidecar)).to.equal(false);
      expect(subjects.filter((s) => s === `object:${relative(crash.tmp)}`)).to.have.length(1);
      expect(subjects.filter((s) => s === `object:${relative(crash.sidecar)}`)).to.have.length(1);
      expect(subjects).to.have.length(3);
      expect(await t.db('orphan_deletions').count({ n: '*' }).first()).to.deep.include({ n: 0 });
    });

    it('deletes the object, then writes the one entry, when the process died after the intent and before the delete', async () => {
      const key = await orphanObject();
      t.clock.advance(t.config.orphanGraceMs + HOUR);
      const dyingBeforeDelete: ObjectStore = Object.assign(Object.create(t.store) as ObjectStore, {
        async delete() {
          throw new ProcessDied();
        },
      });
      try {
        await sweepWith({ store: dyingBeforeDelete })({ actor: RETENTION_ACTOR });
        expect.fail('the sweep survived its own death');
      } catch (err) {
        expect(err).to.be.instanceOf(ProcessDied);
      }
      expect(await t.store.exists(key)).to.equal(true);

      const next = await sweepWith()({ actor: RETENTION_ACTOR });
      expect(next.deleted).to.deep.equal([key]);
      expect(await t.store.exists(key)).to.equal(false);
      expect((await auditEntries(t.db, 'recording.orphan-deleted')).map((e) => e.subject)).to.deep.equal([`object:${key}`]);
    });

    it('drops the intent without deleting anything when a stored recording now points at the key', async () => {
      const key = await orphanObject();
      t.clock.advance(t.config.orphanGraceMs + HOUR);
      const intents = createOrphanDeletionRepository(t.db);
      await t.services.transaction((tx) =>
        intents.record(tx, [{ target: key, kind: 'object', storageKey: key, lastModified: t.clock.now().toISOString(), recordedAt: t.clock.now().toISOString() }]),
      );
      const now = t.clock.now().toISOString();
      const id = randomUUID();
      await t.db('recordings').insert(
        recordingRepository.toRow({
          id, callId: `call-${id}`, startedAt: now, endedAt: now, queue: 'bygglov', agentId: 'agent-1', callerKey: 'a'.repeat(64),
          storageKey: key, contentType: 'audio/wav', bytes: 1, sha256: 'b'.repeat(64), durationMs: null, status: 'stored', reason: null,
          deadline: new Date(t.clock.now().getTime() + 30 * 24 * HOUR).toISOString(), deletedAt: null, createdAt: now, updatedAt: now,
        }),
      );
      await sweepWith()({ actor: RETENTION_ACTOR });
      expect(await t.store.exists(key)).to.equal(true);
      expect(await auditEntries(t.db, 'recording.orphan-deleted')).to.have.length(0);
      expect(await t.db('orphan_deletions').count({ n: '*' }).first()).to.deep.include({ n: 0 });
    });
  });

  it('aborts an S3 multipart upload a crash left unfinished and audits it under its key', async () => {
    const server = await startS3Server();
    const client = createS3Client(s3ConfigFor(server));
    try {
      const multipart = withMultipartListing(client);
      const s3 = createS3ObjectStore({ client, bucket: server.bucket, sse: 'none' });
      const key = `recordings/2026/11/29/103000777-${randomUUID()}`;
      await multipart.abandon(key, server.bucket, new Date(t.clock.now().getTime() - t.config.orphanGraceMs - HOUR));
      await multipart.abandon(`recordings/2026/11/29/103000778-${randomUUID()}`, server.bucket, t.clock.now());

      const report = await sweepWith({ store: s3 })({ actor: RETENTION_ACTOR });

      expect(report.failed).to.deep.equal([]);
      expect(report.deleted).to.have.length(1);
      expect(multipart.open()).to.have.length(1); // the young one: its upload may still be streaming
      const entries = await auditEntries(t.db, 'recording.orphan-deleted');
      expect(entries).to.have.length(1);
      expect(entries[0]!.subject).to.equal(`object:${key}`);
      expect(entries[0]!.details).to.include({ kind: 'multipart-upload', storageKey: key, leftover: report.deleted[0] });
    } finally {
      client.destroy();
      await server.close();
    }
  });

  it('keeps nothing of what the issue found after 30 crashes: every temp file and lone sidecar swept in one run', async () => {
    const made = [];
    for (let i = 0; i < 12; i++) made.push(await crashRemains(t.config.orphanGraceMs + HOUR + i * 1000));
    const report = await t.services.retention.run();
    expect(report.orphans.failed).to.deep.equal([]);
    expect(report.orphans.deleted).to.have.length(24);
    expect(await readdir(made[0]!.dir)).to.deep.equal([]);
    expect(await auditEntries(t.db, 'recording.orphan-deleted')).to.have.length(24);
  });
});
