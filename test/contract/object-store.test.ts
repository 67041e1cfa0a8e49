import type { S3Client } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import sinon from 'sinon';
import { createFsObjectStore } from '../../src/storage/fs-object-store.js';
import { InvalidKey, type ObjectStore } from '../../src/storage/object-store.js';
import { createS3Client, createS3ObjectStore } from '../../src/storage/s3-object-store.js';
import { s3ConfigFor, startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { objectStoreContract } from './object-store.contract.js';

const MiB = 1024 * 1024;

async function walkFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => !e.isDirectory()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

describe('ObjectStore contract: filesystem adapter', () => {
  objectStoreContract(async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'gallra-fs-store-'));
    return {
      store: createFsObjectStore({ root }),
      strayFiles: async () => (await walkFiles(root)).filter((f) => path.basename(f).startsWith('.tmp-')),
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
      return {
        store: createS3ObjectStore({ client, bucket: server.bucket, sse: 'none', partSize: 5 * MiB }),
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
