import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import { createDirKeyStore } from '../../src/encryption/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createFsObjectStore } from '../../src/storage/index.js';
import { audioOf, ingestAudio } from '../helpers/encryption.js';
import { auditEntries } from '../helpers/retention.js';
import { secretsEnv, startTestApp, type TestApp } from '../helpers/test-app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { fixture } from '../helpers/webhook.js';

const CHILD = path.resolve(import.meta.dirname, '../helpers/encryption-child.ts');
const DAY = 86_400_000;

function runChild(env: Record<string, string>): Promise<{ signal: NodeJS.Signals | null; code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--import', 'tsx', CHILD], { env: { ...process.env, ...env }, timeout: 60_000 }, (_err, stdout, stderr) =>
      resolve({ signal: child.signalCode, code: child.exitCode, stdout, stderr }),
    );
  });
}

describe('encryption at rest: kill -9 during a key destruction', function () {
  this.timeout(120_000);
  let dir: string;
  let tdb: TestDatabase;
  let t: TestApp;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gallra-key-kill-'));
    tdb = await createTestDatabase(dir);
  });
  afterEach(async () => {
    await t.close();
    await tdb.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  for (const step of ['before-key-destroy', 'after-key-destroy']) {
    it(`finishes the destruction after a kill -9 ${step.replace(/-/g, ' ')}, with exactly one key.destroyed entry`, async () => {
      const storeDir = path.join(dir, 'objects');
      const keyDir = path.join(dir, '..', `${path.basename(dir)}-keys`);
      const keyStore = createDirKeyStore(keyDir);
      t = await startTestApp({ db: tdb.db, store: createFsObjectStore({ root: storeDir }), keyStore, clock: new ManualClock('2026-11-23T10:30:00.000Z') });
      const admin = await t.token('admin');
      const gone = await ingestAudio(t, fixture('call-8k.mp3'));
      const held = await ingestAudio(t, fixture('call-pcm16-8k.wav'));
      expect((await request(t.app).post(`/v1/recordings/${held.id}/hold`).set('Authorization', `Bearer ${admin}`).send({ reason: 'court order 2026/7' })).status).to.equal(201);
      const period = (await t.db('recording_data_keys').where({ recording_id: gone.id }).first()).kek_id as string;

      const env = { ...secretsEnv(t.config), DATABASE_URL: tdb.url, STORE_DIR: storeDir, KEY_DIR: keyDir, NOW: new Date(t.clock.now().getTime() + 30 * DAY).toISOString() };
      const killed = await runChild({ ...env, KILL_AT: step });
      expect(killed.signal, killed.stderr).to.equal('SIGKILL');
      expect(await auditEntries(t.db, 'key.destroyed')).to.have.length(0);

      const restarted = await runChild(env);
      expect(restarted.code, restarted.stderr).to.equal(0);
      expect(JSON.parse(restarted.stdout).destroyed).to.deep.equal([period]);
      await runChild(env);
      const entries = await auditEntries(t.db, 'key.destroyed');
      expect(entries).to.have.length(1);
      expect(entries[0]!.details).to.include({ key: period, recordings: 2 });
      expect(existsSync(path.join(keyDir, `${period}.key`))).to.equal(false);
      expect(await t.db('recordings').where({ id: gone.id }).first()).to.include({ status: 'deleted' });
      // The held recording was re-wrapped before its period key died, and still plays.
      const played = await audioOf(t, admin, held.id);
      expect(played.status).to.equal(200);
      expect(played.body.equals(fixture('call-pcm16-8k.wav'))).to.equal(true);
      rmSync(keyDir, { recursive: true, force: true });
    });
  }
});

describe('encryption at rest: kill -9 during storage:encrypt', function () {
  this.timeout(120_000);
  let dir: string;
  let tdb: TestDatabase;
  let plain: TestApp;
  let t: TestApp;
  let keyDir: string;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gallra-encrypt-kill-'));
    keyDir = `${dir}-keys`;
    tdb = await createTestDatabase(dir);
  });
  afterEach(async () => {
    await t.close();
    await plain.close();
    await tdb.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    rmSync(keyDir, { recursive: true, force: true });
  });

  for (const step of ['before-encrypted-put', 'after-encrypted-put']) {
    it(`every recording still plays after a kill -9 ${step.replace(/-/g, ' ')}, and a rerun finishes with one entry each`, async () => {
      const storeDir = path.join(dir, 'objects');
      const clock = new ManualClock('2026-11-23T10:30:00.000Z');
      plain = await startTestApp({ db: tdb.db, store: createFsObjectStore({ root: storeDir }), keyStore: false, clock });
      const files = ['call-8k.mp3', 'call-pcm16-8k.wav'];
      const ids: string[] = [];
      for (const f of files) ids.push((await ingestAudio(plain, fixture(f))).id);
      t = await startTestApp({ db: tdb.db, store: createFsObjectStore({ root: storeDir }), keyStore: createDirKeyStore(keyDir), clock });
      const admin = await t.token('admin');
      const plays = async () => {
        for (const [i, f] of files.entries()) {
          const got = await audioOf(t, admin, ids[i]!);
          expect(got.status, f).to.equal(200);
          expect(got.body.equals(fixture(f)), f).to.equal(true);
        }
      };

      const env = { ...secretsEnv(t.config), DATABASE_URL: tdb.url, STORE_DIR: storeDir, KEY_DIR: keyDir, NOW: clock.now().toISOString(), MODE: 'encrypt' };
      const killed = await runChild({ ...env, KILL_AT: step });
      expect(killed.signal, killed.stderr).to.equal('SIGKILL');
      await plays();

      const rerun = await runChild(env);
      expect(rerun.code, rerun.stderr).to.equal(0);
      expect(JSON.parse(rerun.stdout)).to.deep.include({ encrypted: 2 });
      await plays();
      const entries = await auditEntries(t.db, 'storage.object-encrypted');
      expect(entries.map((e) => e.details.recordingId).sort()).to.deep.equal([...ids].sort());
    });
  }
});
