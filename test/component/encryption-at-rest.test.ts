import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import request from 'supertest';
import { ManualClock } from '../../src/shared/clock.js';
import { createDirKeyStore } from '../../src/encryption/index.js';
import { createFsObjectStore, createS3Client, createS3ObjectStore, type ObjectStore } from '../../src/storage/index.js';
import { audioOf, bytesUnder, copyDatabase, ingestAudio, runsFoundIn } from '../helpers/encryption.js';
import { auditEntries } from '../helpers/retention.js';
import { s3ConfigFor, startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { fixture, pcm16Wav } from '../helpers/webhook.js';

const FIXTURES = ['call-pcm16-8k.wav', 'call-alaw-8k.wav', 'call-ulaw-8k.wav', 'call-stereo-8k.wav', 'call-8k.mp3', 'call.opus', 'call-16k.flac'];
const SEG = 65536;
const DAY = 86_400_000;

async function rawBytes(store: ObjectStore, key: string): Promise<Buffer> {
  const obj = await store.get(key);
  const parts: Buffer[] = [];
  for await (const c of obj.body) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

for (const kind of ['fs', 's3'] as const) {
  describe(`encryption at rest: ${kind} store`, () => {
    let t: TestApp;
    let s3: S3TestServer | undefined;
    let storeDir: string;
    let trainer: string;

    beforeEach(async () => {
      let store: ObjectStore | undefined;
      if (kind === 's3') {
        s3 = await startS3Server();
        const cfg = s3ConfigFor(s3);
        store = createS3ObjectStore({ client: createS3Client(cfg), bucket: cfg.bucket, sse: 'none' });
        storeDir = s3.dir;
      }
      // Half past the hour: every call ingested below falls in one deadline period.
      t = await startTestApp({ store, clock: new ManualClock('2026-11-23T10:30:00.000Z') });
      if (kind === 'fs') storeDir = path.join(t.dir, 'objects');
      trainer = await t.token('admin');
    });
    afterEach(async () => {
      await t.close();
      await s3?.close();
      s3 = undefined;
    });

    it('keeps no 4 KiB run of any recording in the store or the database, and plays each back byte for byte', async () => {
      const ids: Record<string, string> = {};
      for (const f of FIXTURES) ids[f] = (await ingestAudio(t, fixture(f))).id;
      const atRest = bytesUnder(storeDir);
      const inDb = await t.databaseContents();
      for (const f of FIXTURES) {
        expect(runsFoundIn(atRest, fixture(f)), `${f} in the store`).to.deep.equal([]);
        expect(runsFoundIn(inDb, fixture(f)), `${f} in the database`).to.deep.equal([]);
        const played = await audioOf(t, trainer, ids[f]!);
        expect(played.status).to.equal(200);
        expect(played.body.equals(fixture(f)), `${f} played back`).to.equal(true);
      }
      // The check itself finds audio where it is: the fixtures' own bytes.
      expect(runsFoundIn(Buffer.concat(FIXTURES.map(fixture)), fixture('call-pcm16-8k.wav')).length).to.be.greaterThan(0);
      const row = await t.db('recordings').where({ id: ids['call-pcm16-8k.wav'] }).first();
      expect((await rawBytes(t.store, row.storage_key)).subarray(0, 8).toString('ascii')).to.equal('GALLRAES');
      expect(row.sha256).to.equal((await import('node:crypto')).createHash('sha256').update(fixture('call-pcm16-8k.wav')).digest('hex'));
    });

    it('answers ranges at the start, middle, end and across segment borders with exactly the plaintext', async () => {
      const audio = pcm16Wav(randomBytes(5 * SEG + 1234));
      const { id } = await ingestAudio(t, audio);
      const n = audio.length;
      for (const [s, e] of [[0, 99], [0, SEG - 1], [SEG - 10, SEG + 10], [2 * SEG - 1, 2 * SEG], [Math.floor(n / 2), Math.floor(n / 2) + 8000], [n - 100, n - 1], [3 * SEG, 3 * SEG], [SEG, 4 * SEG + 5]]) {
        const got = await audioOf(t, trainer, id, `bytes=${s}-${e}`);
        expect(got.status, `${s}-${e}`).to.equal(206);
        expect(got.body.equals(audio.subarray(s!, e! + 1)), `bytes ${s}-${e}`).to.equal(true);
      }
      const suffix = await audioOf(t, trainer, id, 'bytes=-500');
      expect(suffix.body.equals(audio.subarray(n - 500))).to.equal(true);
      expect((await audioOf(t, trainer, id, `bytes=${n}-`)).status).to.equal(416);
    });

    it('fails clearly, never with wrong audio, on a flipped bit, a truncation, a swapped segment and a wrong key', async () => {
      const audio = pcm16Wav(randomBytes(4 * SEG));
      const a = await ingestAudio(t, audio, { callId: 'tamper-a' });
      const b = await ingestAudio(t, pcm16Wav(randomBytes(4 * SEG)), { callId: 'tamper-b' });
      const keyOf = async (id: string) => (await t.db('recordings').where({ id }).first()).storage_key as string;
      const [ka, kb] = [await keyOf(a.id), await keyOf(b.id)];
      const original = await rawBytes(t.store, ka);
      const other = await rawBytes(t.store, kb);
      const sealed = SEG + 16;
      const at = (i: number) => 36 + i * sealed;
      const put = (bytes: Buffer) => t.store.put(ka, Readable.from([bytes]), { contentType: 'audio/wav' });
      const refused = async (what: string, range: string) => {
        const before = t.logs().length;
        const got = await audioOf(t, trainer, a.id, range);
        expect(got.status, what).to.equal(500);
        expect(got.type, what).to.match(/problem\+json/);
        expect(t.logs().slice(before), what).to.match(/DecryptionFailed/);
      };

      const flipped = Buffer.from(original);
      flipped[at(1) + 500]! ^= 0x04;
      await put(flipped);
      await refused('flipped bit', `bytes=${SEG}-${SEG + 10}`);
      // A whole playback reaches the bad segment after the good first one: it is cut off, never the altered bytes.
      const whole = await audioOf(t, trainer, a.id).catch(() => undefined);
      if (whole) expect(whole.body.equals(audio)).to.equal(false);

      await put(original.subarray(0, at(3)));
      await refused('truncated at a segment border', `bytes=${2 * SEG}-${2 * SEG + 10}`);

      await put(Buffer.concat([original.subarray(0, at(2)), other.subarray(at(2), at(3)), original.subarray(at(3))]));
      await refused('a segment swapped from another recording', `bytes=${2 * SEG}-${2 * SEG + 10}`);

      await put(Buffer.concat([original.subarray(0, at(1)), original.subarray(at(2), at(3)), original.subarray(at(1), at(2)), original.subarray(at(3))]));
      await refused('reordered segments', `bytes=${SEG}-${SEG + 10}`);

      await put(other);
      await refused('a whole object swapped', 'bytes=0-10');

      await put(original);
      expect((await audioOf(t, trainer, a.id, 'bytes=0-10')).body.equals(audio.subarray(0, 11))).to.equal(true);
      // The wrong key: the same database and store opened beside another key store, whose period key differs.
      const wrongKeys = mkdtempSync(path.join(tmpdir(), 'gallra-wrong-keys-'));
      const row = await t.db('recording_data_keys').where({ recording_id: a.id }).first();
      const otherKeys = createDirKeyStore(wrongKeys);
      await otherKeys.obtain(row.kek_id);
      const wrong = await startTestApp({ db: t.db, store: t.store, keyStore: otherKeys, clock: t.clock });
      try {
        const before = wrong.logs().length;
        const got = await audioOf(wrong, await wrong.token('admin'), a.id, 'bytes=0-10');
        expect(got.status, 'wrong key').to.equal(500);
        expect(wrong.logs().slice(before)).to.match(/DecryptionFailed/);
      } finally {
        rmSync(wrongKeys, { recursive: true, force: true });
        rmSync(wrong.dir, { recursive: true, force: true }); // not close(): it would close the database it shares with t
      }
    });
  });
}

describe('encryption at rest: the backup drill', () => {
  let t: TestApp;
  let work: string;
  beforeEach(async () => {
    t = await startTestApp({ clock: new ManualClock('2026-11-23T10:30:00.000Z') });
    work = mkdtempSync(path.join(tmpdir(), 'gallra-backup-'));
  });
  afterEach(async () => {
    await t.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('a day-0 backup restores beside the live key store; once the keys die nothing in it decrypts, while a recording held before still plays', async () => {
    const admin = await t.token('admin');
    const audio = ['call-pcm16-8k.wav', 'call-8k.mp3', 'call-16k.flac'].map(fixture);
    const recs = [];
    for (const a of audio) recs.push(await ingestAudio(t, a));
    const [a, b, held] = [recs[0]!, recs[1]!, recs[2]!];

    // Day 0: the backup copies the database and the store — never the key store.
    const backupObjects = path.join(work, 'objects');
    cpSync(path.join(t.dir, 'objects'), backupObjects, { recursive: true });
    const backupDb = await copyDatabase(t, work);
    // The same backup restored a second time, for the drill after the keys died.
    const backupDbAgain = await copyDatabase(t, work);

    // The restore drill: the backup beside the live key store plays every recording.
    const restored = await startTestApp({ db: backupDb.db, store: createFsObjectStore({ root: backupObjects }), keyStore: t.keyStore, clock: t.clock });
    const restoredToken = await restored.token('admin');
    for (const [i, r] of recs.entries()) {
      const got = await audioOf(restored, restoredToken, r.id);
      expect(got.status).to.equal(200);
      expect(got.body.equals(audio[i]!)).to.equal(true);
    }
    await restored.close();

    const placed = await request(t.app).post(`/v1/recordings/${held.id}/hold`).set('Authorization', `Bearer ${admin}`).send({ reason: 'public-records request 2026/114' });
    expect(placed.status, JSON.stringify(placed.body)).to.equal(201);
    const period = (await t.db('recording_data_keys').where({ recording_id: a.id }).first()).kek_id as string;

    // Past the deadlines: the retention run deletes what is due and destroys the period key.
    t.clock.set(new Date(t.clock.now().getTime() + 30 * DAY));
    const report = await t.services.retention.run();
    expect(report.deleted).to.include.members([a.id, b.id]);
    expect(report.keys?.destroyed).to.deep.equal([period]);
    expect(report.keys?.rewrapped).to.equal(1);
    expect(await t.keyStore!.read(period)).to.equal(null);
    expect(await t.keyStore!.list()).to.not.include(period);
    const destroyed = await auditEntries(t.db, 'key.destroyed');
    expect(destroyed).to.have.length(1);
    expect(destroyed[0]!.details).to.include({ key: period, kind: 'period', recordings: 3 });

    // The held recording still plays in the live system.
    const live = await audioOf(t, admin, held.id);
    expect(live.status).to.equal(200);
    expect(live.body.equals(audio[2]!)).to.equal(true);

    // The day-0 backup, with everything gallra still holds, decrypts none of them.
    const drill = await startTestApp({ db: backupDbAgain.db, store: createFsObjectStore({ root: backupObjects }), keyStore: t.keyStore, clock: t.clock });
    const drillToken = await drill.token('admin');
    for (const r of recs) {
      const got = await audioOf(drill, drillToken, r.id);
      expect(got.status, r.id).to.equal(500);
      expect(got.body.includes(audio[0]!.subarray(4096, 8192))).to.equal(false);
    }
    expect(drill.logs()).to.match(/destroyed/);
    await drill.close();
    // A second run destroys nothing more, and writes no second entry.
    await t.services.retention.run();
    expect(await auditEntries(t.db, 'key.destroyed')).to.have.length(1);
  });
});
