import { NoSuchUpload, type S3Client } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import sinon from 'sinon';
import { createFsObjectStore } from '../../src/storage/fs-object-store.js';
import { InvalidKey, type ObjectStore } from '../../src/storage/object-store.js';
import { createS3Client, createS3ObjectStore } from '../../src/storage/s3-object-store.js';
import { withMultipartListing } from '../helpers/s3-multipart-fake.js';
import { s3ConfigFor, startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { objectStoreContract } from './object-store.contract.js';

const MiB = 1024 * 1024;

async function walkFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => !e.isDirectory()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

/**
 * What a process killed inside the filesystem store's put leaves: the data's temp file and, when it died
 * between the sidecar's rename and the data's, the sidecar at the key without its data.
 */
async function leaveFsCrashRemains(root: string, key: string, at: Date): Promise<void> {
  const file = path.join(root, ...key.split('/'));
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.tmp-${randomUUID()}`);
  await writeFile(tmp, randomBytes(4096));
  await writeFile(`${file}.meta.json`, JSON.stringify({ contentType: 'audio/wav' }));
  for (const f of [tmp, `${file}.meta.json`]) await utimes(f, at, at);
}

describe('ObjectStore contract: filesystem adapter', () => {
  objectStoreContract(async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'gallra-fs-store-'));
    return {
      store: createFsObjectStore({ root }),
      strayFiles: async () => (await walkFiles(root)).filter((f) => path.basename(f).startsWith('.tmp-')),
      leaveCrashRemains: (key, at) => leaveFsCrashRemains(root, key, at),
      close: () => rm(root, { recursive: true, force: true }),
    };
  });

  describe('filesystem specifics', () => {
    let base: string;
    let root: string;
    let store: ObjectStore;
    beforeEach(async () => {
      base = await mkdtemp(path.join(os.tmpdir(), 'gallra-fs-store-'));
      root = path.join(base, 'root');
      await mkdir(root);
      store = createFsObjectStore({ root });
    });
    afterEach(() => rm(base, { recursive: true, force: true }));

    it('refuses a key whose directory is a symlink out of the root, and writes nothing there', async () => {
      const outside = path.join(base, 'outside');
      await mkdir(outside);
      await symlink(outside, path.join(root, 'recordings'));
      const source = Readable.from([Buffer.from('x')]);
      try {
        await store.put('recordings/2024/05/x', source, { contentType: 'audio/wav' });
        expect.fail('put through a symlink was accepted');
      } catch (err) {
        expect(err).to.be.instanceOf(InvalidKey);
      }
      expect(await readdir(outside)).to.deep.equal([]);

      await writeFile(path.join(outside, 'y'), 'secret');
      for (const attempt of [store.get('recordings/y'), store.exists('recordings/y')]) {
        try {
          await attempt;
          expect.fail('read through a symlink was accepted');
        } catch (err) {
          expect(err).to.be.instanceOf(InvalidKey);
        }
      }
      expect(await readFile(path.join(outside, 'y'), 'utf8')).to.equal('secret');
    });

    it('keeps temp files and content-type sidecars out of listings', async () => {
      await store.put('recordings/2024/a', Readable.from([Buffer.from('a')]), { contentType: 'audio/wav' });
      await writeFile(path.join(root, 'recordings', '2024', '.tmp-crashed-upload'), 'partial');
      const listed = [];
      for await (const o of store.list('recordings/')) listed.push(o.key);
      expect(listed).to.deep.equal(['recordings/2024/a']);
      expect((await walkFiles(root)).sort()).to.deep.equal(
        ['recordings/2024/.tmp-crashed-upload', 'recordings/2024/a', 'recordings/2024/a.meta.json'].map((f) => path.normalize(f)),
      );
    });

    it('refuses keys that collide with its own temp and sidecar names', async () => {
      for (const key of ['recordings/.tmp-x', 'recordings/a.meta.json']) {
        try {
          await store.put(key, Readable.from([Buffer.from('x')]), { contentType: 'audio/wav' });
          expect.fail(`accepted ${key}`);
        } catch (err) {
          expect(err).to.be.instanceOf(InvalidKey);
        }
      }
    });

    it('removes the sidecar with the object', async () => {
      await store.put('recordings/b', Readable.from([Buffer.from('b')]), { contentType: 'audio/wav' });
      expect(await store.delete(['recordings/b'])).to.deep.equal({ deleted: ['recordings/b'], failed: [] });
      expect(await walkFiles(root)).to.deep.equal([]);
    });

    it('lists a sidecar as a leftover only once its data file is gone, and removes it then', async () => {
      const key = 'recordings/2024/05/01/103000123-sidecar';
      await store.put(key, Readable.from([Buffer.from('d')]), { contentType: 'audio/wav' });
      const future = new Date(Date.now() + 3_600_000);
      const listed = async () => {
        const out = [];
        for await (const l of store.leftovers('recordings/', future)) out.push(l);
        return out;
      };
      expect(await listed()).to.deep.equal([]);
      // A delete killed between the data's unlink and the sidecar's.
      await rm(path.join(root, 'recordings', '2024', '05', '01', '103000123-sidecar'));
      const found = await listed();
      expect(found.map(({ id, kind, key: k }) => ({ id, kind, key: k }))).to.deep.equal([{ id: `${key}.meta.json`, kind: 'sidecar', key }]);
      expect(await store.removeLeftovers([`${key}.meta.json`])).to.deep.equal({ deleted: [`${key}.meta.json`], failed: [] });
      expect(await walkFiles(root)).to.deep.equal([]);
    });

    it('never removes the sidecar of a stored object as a leftover', async () => {
      const key = 'recordings/2024/05/01/103000124-kept';
      await store.put(key, Readable.from([Buffer.from('d')]), { contentType: 'audio/mpeg' });
      const result = await store.removeLeftovers([`${key}.meta.json`]);
      expect(result.deleted).to.deep.equal([]);
      expect(result.failed.map((f) => f.key)).to.deep.equal([`${key}.meta.json`]);
      const got = await store.get(key);
      got.body.destroy();
      expect(got.contentType).to.equal('audio/mpeg');
    });

    it('creates its root on first use', async () => {
      const fresh = createFsObjectStore({ root: path.join(base, 'not', 'yet') });
      await fresh.ping();
      await fresh.put('recordings/c', Readable.from([Buffer.from('c')]), { contentType: 'audio/wav' });
      expect(await fresh.exists('recordings/c')).to.equal(true);
    });
  });
});

describe('ObjectStore contract: S3 adapter over HTTP to s3rver', () => {
  let server: S3TestServer;
  before(async () => {
    server = await startS3Server();
  });
  after(async () => {
    await server?.close();
  });

  objectStoreContract(
    async () => {
      const client = createS3Client(s3ConfigFor(server));
      const multipart = withMultipartListing(client);
      return {
        store: createS3ObjectStore({ client, bucket: server.bucket, sse: 'none', partSize: 5 * MiB }),
        strayFiles: async () => multipart.open(),
        leaveCrashRemains: (key, at) => multipart.abandon(key, server.bucket, at),
        close: async () => client.destroy(),
      };
    },
    { partSize: 5 * MiB, atomicCreate: false },
  );

  describe('S3 specifics', () => {
    let client: S3Client;
    let store: ObjectStore;
    beforeEach(() => {
      client = createS3Client(s3ConfigFor(server));
      store = createS3ObjectStore({ client, bucket: server.bucket, sse: 'none', partSize: 5 * MiB });
    });
    afterEach(() => {
      sinon.restore();
      client.destroy();
    });

    const sentCommands = (spy: sinon.SinonSpy): string[] =>
      spy.getCalls().map((c) => (c.args[0] as object).constructor.name);

    it('uploads a large object in parts', async () => {
      const spy = sinon.spy(client, 'send');
      const key = `recordings/2024/05/01/${randomUUID()}`;
      await store.put(key, Readable.from([randomBytes(12 * MiB)]), { contentType: 'audio/wav' });
      const names = sentCommands(spy);
      expect(names.filter((n) => n === 'UploadPartCommand')).to.have.length(3);
      expect(names).to.include('CompleteMultipartUploadCommand');
    });

    it('aborts the multipart upload when the source fails', async () => {
      const spy = sinon.spy(client, 'send');
      let sent = 0;
      const source = new Readable({
        read() {
          if (sent >= 11 * MiB) return void this.destroy(new Error('caller hung up'));
          sent += MiB;
          this.push(randomBytes(MiB));
        },
      });
      const key = `recordings/2024/05/01/${randomUUID()}`;
      try {
        await store.put(key, source, { contentType: 'audio/wav' });
        expect.fail('put succeeded');
      } catch (err) {
        expect((err as Error).message).to.match(/caller hung up/);
      }
      const names = sentCommands(spy);
      expect(names).to.include('AbortMultipartUploadCommand');
      expect(names).to.not.include('CompleteMultipartUploadCommand');
    });

    it('lists unfinished multipart uploads page by page, only those whose last part is older than the cutoff', async () => {
      const cutoff = new Date('2026-11-30T02:00:00Z');
      const older = new Date('2026-11-30T01:00:00Z');
      const newer = new Date('2026-11-30T02:30:00Z');
      const pages = [
        {
          Uploads: [
            { Key: 'recordings/2026/11/30/a', UploadId: 'u1', Initiated: older },
            { Key: 'recordings/2026/11/30/b', UploadId: 'u2', Initiated: newer },
          ],
          IsTruncated: true,
          NextKeyMarker: 'recordings/2026/11/30/b',
          NextUploadIdMarker: 'u2',
        },
        {
          Uploads: [
            { Key: 'recordings/2026/11/30/c', UploadId: 'u+3/=', Initiated: older },
            { Key: 'recordings/2026/11/30/d', UploadId: 'u4', Initiated: older }, // began long ago, still sending parts
            { Key: 'recordings/2026/11/30/e', UploadId: 'u5', Initiated: older }, // completed meanwhile
          ],
          IsTruncated: false,
        },
      ];
      const parts: Record<string, unknown> = {
        u1: { Parts: [{ PartNumber: 1, LastModified: new Date('2026-11-30T01:10:00Z') }] },
        'u+3/=': { Parts: [] },
        u4: { Parts: [{ PartNumber: 1, LastModified: older }, { PartNumber: 2, LastModified: newer }] },
      };
      const send = sinon.stub(client, 'send').callsFake(async (command: unknown) => {
        const c = command as { constructor: { name: string }; input: { UploadId?: string } };
        if (c.constructor.name === 'ListMultipartUploadsCommand') return pages.shift();
        if (c.constructor.name === 'ListPartsCommand') {
          const answer = parts[c.input.UploadId!];
          if (!answer) throw new NoSuchUpload({ $metadata: { httpStatusCode: 404 }, message: 'gone' });
          return answer;
        }
        throw new Error(`unexpected ${c.constructor.name}`);
      });
      const found = [];
      for await (const l of store.leftovers('recordings/', cutoff)) found.push(l);
      expect(found).to.deep.equal([
        { id: 'recordings/2026/11/30/a?uploadId=u1', kind: 'multipart-upload', key: 'recordings/2026/11/30/a', lastModified: new Date('2026-11-30T01:10:00Z') },
        { id: 'recordings/2026/11/30/c?uploadId=u%2B3%2F%3D', kind: 'multipart-upload', key: 'recordings/2026/11/30/c', lastModified: older },
      ]);
      const lists = send.getCalls().map((c) => c.args[0] as unknown as { constructor: { name: string }; input: Record<string, unknown> }).filter((c) => c.constructor.name === 'ListMultipartUploadsCommand');
      expect(lists).to.have.length(2);
      expect(lists[0]!.input).to.include({ Bucket: server.bucket, Prefix: 'recordings/' });
      expect(lists[1]!.input).to.include({ KeyMarker: 'recordings/2026/11/30/b', UploadIdMarker: 'u2' });
    });

    it('aborts an unfinished multipart upload and counts it removed only once ListParts no longer finds it', async () => {
      const send = sinon.stub(client, 'send');
      send.onFirstCall().resolves({} as never); // AbortMultipartUpload
      send.onSecondCall().resolves({ Parts: [{ PartNumber: 1 }] } as never); // a part upload still finishing
      const id = 'recordings/2026/11/30/a?uploadId=u%2B1';
      const first = await store.removeLeftovers([id]);
      expect(first.deleted).to.deep.equal([]);
      expect(first.failed.map((f) => f.key)).to.deep.equal([id]);
      const sent = send.getCalls().map((c) => c.args[0] as unknown as { constructor: { name: string }; input: Record<string, unknown> });
      expect(sent[0]!.constructor.name).to.equal('AbortMultipartUploadCommand');
      expect(sent[0]!.input).to.include({ Bucket: server.bucket, Key: 'recordings/2026/11/30/a', UploadId: 'u+1' });
      expect(sent[1]!.constructor.name).to.equal('ListPartsCommand');
    });

    it('lists no leftovers on s3rver itself, which does not implement ListMultipartUploads', async () => {
      const found = [];
      for await (const l of store.leftovers('recordings/', new Date(Date.now() + 3_600_000))) found.push(l);
      expect(found).to.deep.equal([]);
    });

    it('detects that s3rver has no versioning and deletes without version ids', async () => {
      const spy = sinon.spy(client, 'send');
      const key = `recordings/2024/05/01/${randomUUID()}`;
      await store.put(key, Readable.from([Buffer.from('v')]), { contentType: 'audio/wav' });
      expect(await store.delete([key])).to.deep.equal({ deleted: [key], failed: [] });
      expect(await store.delete([key])).to.deep.equal({ deleted: [key], failed: [] });
      const names = sentCommands(spy);
      expect(names.filter((n) => n === 'GetBucketVersioningCommand')).to.have.length(1); // cached
      expect(names).to.not.include('ListObjectVersionsCommand');
    });
  });
});
