import { expect } from 'chai';
import { ManualClock } from '../../src/shared/clock.js';
import { deleteOlderVersions } from '../../src/storage/index.js';
import { audioOf, bytesUnder, ingestAudio, runsFoundIn } from '../helpers/encryption.js';
import { auditEntries } from '../helpers/retention.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { fixture } from '../helpers/webhook.js';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';

const FILES = ['call-pcm16-8k.wav', 'call-8k.mp3', 'call-16k.flac'];

describe('npm run storage:encrypt: plaintext objects encrypted in place', () => {
  let plain: TestApp;
  let t: TestApp;
  beforeEach(async () => {
    // Before encryption at rest: the same database and store, no key store.
    plain = await startTestApp({ keyStore: false, clock: new ManualClock('2026-11-23T10:30:00.000Z') });
    t = await startTestApp({ db: plain.db, store: plain.store, clock: plain.clock });
  });
  afterEach(async () => {
    await t.close();
    await plain.close();
  });

  it('reads both formats meanwhile, encrypts every stored object verified against its SHA-256, once', async () => {
    const ids = [];
    for (const f of FILES) ids.push((await ingestAudio(plain, fixture(f))).id);
    const objects = path.join(plain.dir, 'objects');
    expect(runsFoundIn(bytesUnder(objects), fixture(FILES[0]!)).length, 'plaintext at rest before').to.be.greaterThan(0);
    const admin = await t.token('admin');
    // The encrypting service plays the plaintext objects as they are.
    expect((await audioOf(t, admin, ids[0]!, 'bytes=100-199')).body.equals(fixture(FILES[0]!).subarray(100, 200))).to.equal(true);

    const progress: number[] = [];
    const report = await t.services.encryption!.encryptExisting({ actor: 'system:storage-encrypt', onProgress: (p) => progress.push(p.done) });
    expect(report).to.deep.include({ encrypted: 3, alreadyEncrypted: 0, skipped: [] });
    expect(progress).to.deep.equal([1, 2, 3]);
    const atRest = bytesUnder(objects);
    for (const [i, f] of FILES.entries()) {
      expect(runsFoundIn(atRest, fixture(f)), f).to.deep.equal([]);
      expect((await audioOf(t, admin, ids[i]!)).body.equals(fixture(f)), f).to.equal(true);
    }
    expect(await auditEntries(t.db, 'storage.object-encrypted')).to.have.length(3);
    expect(await t.db('encryption_intents').count({ n: '*' }).first()).to.deep.include({ n: 0 });

    const again = await t.services.encryption!.encryptExisting({ actor: 'system:storage-encrypt' });
    expect(again).to.deep.include({ encrypted: 0, alreadyEncrypted: 3 });
    expect(await auditEntries(t.db, 'storage.object-encrypted')).to.have.length(3);
  });

  it('on a versioned bucket, deletes every version of the object but the verified current one', async () => {
    const sent: { name: string; input: Record<string, unknown> }[] = [];
    const client = {
      async send(cmd: { constructor: { name: string }; input: Record<string, unknown> }) {
        sent.push({ name: cmd.constructor.name, input: cmd.input });
        if (cmd.constructor.name === 'ListObjectVersionsCommand') {
          return {
            Versions: [
              { Key: 'recordings/a', VersionId: 'v3', IsLatest: true },
              { Key: 'recordings/a', VersionId: 'v1', IsLatest: false },
              { Key: 'recordings/ab', VersionId: 'x1', IsLatest: false },
            ],
            DeleteMarkers: [{ Key: 'recordings/a', VersionId: 'dm2', IsLatest: false }],
            IsTruncated: false,
          };
        }
        return { Deleted: [] };
      },
    } as unknown as S3Client;
    expect(await deleteOlderVersions(client, 'b', 'recordings/a')).to.equal(2);
    const del = sent.find((c) => c.name === 'DeleteObjectsCommand')!;
    expect((del.input.Delete as { Objects: unknown[] }).Objects).to.deep.equal([{ Key: 'recordings/a', VersionId: 'v1' }, { Key: 'recordings/a', VersionId: 'dm2' }]);
  });
});
