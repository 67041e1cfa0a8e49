import type { S3Client } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import sinon from 'sinon';
import { Unavailable } from '../../src/shared/errors.js';
import { errorFacts } from '../../src/shared/logger.js';
import { createS3Client, createS3ObjectStore, type S3ObjectStoreOptions } from '../../src/storage/s3-object-store.js';
import { loadConfig, type S3Config } from '../../src/config.js';

/** A command as the fake sees it: dispatched on the constructor's name, like the SDK's own middleware. */
interface Command {
  constructor: { name: string };
  input: Record<string, any>;
}

interface Version {
  VersionId: string;
  deleteMarker: boolean;
}

function sdkError(name: string, status: number, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status, requestId: 'req-1' } });
}

/**
 * Just enough of a (possibly versioned) S3 bucket behind `client.send`. Versions of a key are kept
 * newest first, as S3 lists them; ListObjectVersions pages two entries at a time to exercise paging.
 */
class FakeBucket {
  readonly objects = new Map<string, Version[]>();
  readonly calls: Command[] = [];
  versioning: 'Enabled' | 'Suspended' | undefined | Error = undefined;
  /** Per-key errors DeleteObjects reports (and the keys it then leaves alone). */
  deleteErrors = new Map<string, { Code: string; Message: string }>();
  /** A store that acknowledges deletes but keeps these keys. */
  ignoresDeleteOf = new Set<string>();
  private nextVersion = 1;

  add(key: string, ...versions: (string | { marker: string })[]): void {
    const list = this.objects.get(key) ?? [];
    for (const v of versions) {
      list.unshift(typeof v === 'string' ? { VersionId: v, deleteMarker: false } : { VersionId: v.marker, deleteMarker: true });
    }
    this.objects.set(key, list);
  }

  named(name: string): Command[] {
    return this.calls.filter((c) => c.constructor.name === name);
  }

  async send(cmd: Command): Promise<unknown> {
    this.calls.push(cmd);
    const input = cmd.input;
    switch (cmd.constructor.name) {
      case 'GetBucketVersioningCommand':
        if (this.versioning instanceof Error) throw this.versioning;
        return { Status: this.versioning };
      case 'ListObjectVersionsCommand':
        return this.listVersions(input.Prefix, input.KeyMarker, input.VersionIdMarker);
      case 'DeleteObjectsCommand':
        return this.deleteObjects(input.Delete.Objects);
      case 'HeadObjectCommand': {
        const current = this.objects.get(input.Key)?.[0];
        if (!current || current.deleteMarker) throw sdkError('NotFound', 404, 'UnknownError');
        return { ContentLength: 1 };
      }
      case 'ListObjectsCommand': {
        // v1: keys after the marker in key order, MaxKeys (at most 1000) a page; the marker is a key.
        const keys = this.currentKeys(input.Prefix).filter((k) => input.Marker === undefined || k > input.Marker);
        const page = keys.slice(0, Math.min(input.MaxKeys ?? 1000, 1000));
        return { Contents: page.map((Key) => ({ Key })), IsTruncated: page.length < keys.length };
      }
      case 'PutObjectCommand': {
        const current = this.objects.get(input.Key)?.[0];
        if (input.IfNoneMatch === '*' && current && !current.deleteMarker) throw sdkError('PreconditionFailed', 412);
        this.add(input.Key, `v${this.nextVersion++}`);
      }
        return { ETag: '"etag"' };
      case 'HeadBucketCommand':
        throw sdkError('Forbidden', 403, 'The request signature we calculated does not match: AKIASECRET wJalrSECRET');
      default:
        throw new Error(`FakeBucket does not implement ${cmd.constructor.name}`);
    }
  }

  /** Current, non-deleted keys under the prefix, in key order. */
  private currentKeys(prefix: string | undefined): string[] {
    return [...this.objects.entries()]
      .filter(([key, versions]) => key.startsWith(prefix ?? '') && versions[0] && !versions[0].deleteMarker)
      .map(([key]) => key)
      .sort();
  }

  private listVersions(prefix: string, keyMarker?: string, versionIdMarker?: string) {
    const entries = [...this.objects.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .flatMap(([key, versions]) => versions.map((v) => ({ key, ...v })));
    let start = 0;
    if (keyMarker !== undefined) {
      start = entries.findIndex((e) => e.key === keyMarker && e.VersionId === versionIdMarker) + 1;
    }
    const page = entries.slice(start, start + 2);
    const truncated = start + 2 < entries.length;
    const last = page[page.length - 1];
    return {
      Versions: page.filter((e) => !e.deleteMarker).map((e) => ({ Key: e.key, VersionId: e.VersionId })),
      DeleteMarkers: page.filter((e) => e.deleteMarker).map((e) => ({ Key: e.key, VersionId: e.VersionId })),
      IsTruncated: truncated,
      NextKeyMarker: truncated ? last?.key : undefined,
      NextVersionIdMarker: truncated ? last?.VersionId : undefined,
    };
  }

  private deleteObjects(objects: { Key: string; VersionId?: string }[]) {
    const Errors = [];
    for (const { Key, VersionId } of objects) {
      const refused = this.deleteErrors.get(Key);
      if (refused) {
        Errors.push({ Key, VersionId, ...refused });
        continue;
      }
      if (this.ignoresDeleteOf.has(Key)) continue;
      const versions = this.objects.get(Key);
      if (!versions) continue;
      if (VersionId !== undefined) {
        const left = versions.filter((v) => v.VersionId !== VersionId);
        if (left.length) this.objects.set(Key, left);
        else this.objects.delete(Key);
      } else if (this.versioning === 'Enabled') {
        this.add(Key, { marker: `dm${this.nextVersion++}` }); // what S3 does: hide, not remove
      } else {
        this.objects.delete(Key);
      }
    }
    return Errors.length ? { Errors } : {};
  }
}

const config: S3Config = {
  ...loadConfig({ S3_BUCKET: 'calls' }).s3!,
  bucket: 'calls',
  endpoint: 'http://127.0.0.1:9',
  region: 'eu-north-1',
  forcePathStyle: true,
  sse: 'none',
  credentials: { accessKeyId: 'AKIASECRET', secretAccessKey: 'wJalrSECRET' },
  requestChecksum: 'when_required',
};

describe('S3 object store (SDK-level fake)', () => {
  let client: S3Client;
  let bucket: FakeBucket;

  function store(opts: Partial<S3ObjectStoreOptions> = {}) {
    return createS3ObjectStore({ client, bucket: 'calls', sse: 'none', ...opts });
  }

  beforeEach(() => {
    client = createS3Client(config);
    bucket = new FakeBucket();
    sinon.stub(client, 'send').callsFake(((cmd: Command) => bucket.send(cmd)) as never);
  });
  afterEach(() => {
    sinon.restore();
    client.destroy();
  });

  describe('on a versioned bucket', () => {
    const a = 'recordings/2024/05/01/call-a';
    const b = 'recordings/2024/05/01/call-b';
    const neighbour = 'recordings/2024/05/01/call-a-2'; // shares a's prefix; must survive

    beforeEach(() => {
      bucket.versioning = 'Enabled';
      bucket.add(a, 'a1', 'a2', { marker: 'a-dm' }, 'a3');
      bucket.add(neighbour, 'n1');
      bucket.add(b, { marker: 'b-dm' }); // only a delete marker left
    });

    it('deletes every version and delete marker by version id, and nothing of a neighbouring key', async () => {
      const result = await store().delete([a, b]);

      expect(result).to.deep.equal({ deleted: [a, b], failed: [] });
      const deletes = bucket.named('DeleteObjectsCommand');
      expect(deletes).to.have.length(1);
      expect(deletes[0]!.input).to.deep.equal({
        Bucket: 'calls',
        Delete: {
          // In listing order, page by page: [a3, a-dm], [a2, a1], then b's marker.
          Objects: [
            { Key: a, VersionId: 'a3' },
            { Key: a, VersionId: 'a-dm' },
            { Key: a, VersionId: 'a2' },
            { Key: a, VersionId: 'a1' },
            { Key: b, VersionId: 'b-dm' },
          ],
          Quiet: true,
        },
      });
      expect([...bucket.objects.keys()]).to.deep.equal([neighbour]);
      // Listing paged through a's versions and its neighbour's (two entries a page).
      expect(bucket.named('ListObjectVersionsCommand').length).to.be.greaterThan(2);
    });

    it('detects versioning once and remembers it', async () => {
      const s = store();
      await s.delete([a]);
      await s.delete([b]);
      expect(bucket.named('GetBucketVersioningCommand')).to.have.length(1);
    });

    it('also treats a suspended bucket as versioned', async () => {
      bucket.versioning = 'Suspended';
      expect(await store().delete([a])).to.deep.equal({ deleted: [a], failed: [] });
      expect(bucket.objects.has(a)).to.equal(false);
    });

    it('skips detection when told the bucket is versioned', async () => {
      await store({ versioned: true }).delete([a]);
      expect(bucket.named('GetBucketVersioningCommand')).to.have.length(0);
      expect(bucket.objects.has(a)).to.equal(false);
    });

    it('reports a key whose versions are still listed after the delete as failed', async () => {
      bucket.ignoresDeleteOf.add(a);
      const result = await store().delete([a, b]);
      expect(result.deleted).to.deep.equal([b]);
      expect(result.failed).to.have.length(1);
      expect(result.failed[0]!.key).to.equal(a);
    });

    it('finds the old versions under a delete marker that HeadObject cannot see', async () => {
      bucket.ignoresDeleteOf.add(b); // b is "missing" to HeadObject but a version-less marker stays
      const result = await store().delete([b]);
      expect(result).to.deep.equal({ deleted: [], failed: [{ key: b, error: 'versions left after delete' }] });
    });
  });

  describe('versioning detection', () => {
    it('treats a store without GetBucketVersioning as unversioned', async () => {
      bucket.versioning = sdkError('NotImplemented', 501);
      bucket.add('recordings/x', 'null');
      const s = store();
      expect(await s.delete(['recordings/x'])).to.deep.equal({ deleted: ['recordings/x'], failed: [] });
      await s.delete(['recordings/x']);
      expect(bucket.named('GetBucketVersioningCommand')).to.have.length(1);
      expect(bucket.named('ListObjectVersionsCommand')).to.have.length(0);
      expect(bucket.named('DeleteObjectsCommand')[0]!.input.Delete.Objects).to.deep.equal([{ Key: 'recordings/x' }]);
    });

    it('uses the version-aware path when detection fails for another reason, and asks again next time', async () => {
      bucket.versioning = sdkError('AccessDenied', 403);
      bucket.add('recordings/x', 'v1', 'v2');
      const s = store();
      expect(await s.delete(['recordings/x'])).to.deep.equal({ deleted: ['recordings/x'], failed: [] });
      await s.delete(['recordings/y']);
      expect(bucket.named('GetBucketVersioningCommand')).to.have.length(2);
      expect(bucket.named('DeleteObjectsCommand')[0]!.input.Delete.Objects).to.deep.equal([
        { Key: 'recordings/x', VersionId: 'v2' },
        { Key: 'recordings/x', VersionId: 'v1' },
      ]);
    });
  });

  describe('create (checkpoints: never replaced)', () => {
    const key = 'audit-checkpoints/000000000060.json';
    const body = Buffer.from('{"seq":60}\n');

    it('puts conditionally with If-None-Match: * and an SHA-256 checksum, without Object Lock unless asked', async () => {
      expect(await store().create(key, body, { contentType: 'application/json' })).to.deep.equal({ created: true });
      const [put] = bucket.named('PutObjectCommand');
      expect(put!.input.IfNoneMatch).to.equal('*');
      expect(put!.input.ChecksumSHA256).to.equal(createHash('sha256').update(body).digest('base64'));
      expect(put!.input).to.not.have.property('ObjectLockMode');
      expect(put!.input).to.not.have.property('ObjectLockRetainUntilDate');
    });

    it('asks for a compliance-mode Object Lock retention when given retainUntil', async () => {
      const until = new Date('2036-11-23T10:00:00.000Z');
      await store().create(key, body, { contentType: 'application/json', retainUntil: until });
      const [put] = bucket.named('PutObjectCommand');
      expect(put!.input.ObjectLockMode).to.equal('COMPLIANCE');
      expect(put!.input.ObjectLockRetainUntilDate).to.deep.equal(until);
    });

    it('reports a taken key without sending a put when the object is already there', async () => {
      bucket.add(key, 'v-original');
      expect(await store().create(key, body, { contentType: 'application/json' })).to.deep.equal({ created: false });
      expect(bucket.named('PutObjectCommand')).to.have.length(0);
      expect(bucket.objects.get(key)!.map((v) => v.VersionId)).to.deep.equal(['v-original']);
    });

    it('reports a taken key when the object appears between the check and the put (the conditional put refuses)', async () => {
      // The HEAD says missing; another writer then stores the key before our PUT arrives.
      (client.send as sinon.SinonStub).callsFake(async (cmd: Command) => {
        if (cmd.constructor.name === 'PutObjectCommand' && !bucket.objects.has(key)) bucket.add(key, 'v-other-writer');
        return bucket.send(cmd);
      });
      expect(await store().create(key, body, { contentType: 'application/json' })).to.deep.equal({ created: false });
      expect(bucket.objects.get(key)!.map((v) => v.VersionId)).to.deep.equal(['v-other-writer']);
    });

    it('turns other put failures into Unavailable', async () => {
      (client.send as sinon.SinonStub).callsFake(async (cmd: Command) => {
        if (cmd.constructor.name === 'PutObjectCommand') throw sdkError('InternalError', 500);
        return bucket.send(cmd);
      });
      try {
        await store().create(key, body, { contentType: 'application/json' });
        expect.fail('create resolved');
      } catch (err) {
        expect(err).to.be.instanceOf(Unavailable);
      }
    });
  });

  describe('on an unversioned bucket', () => {
    it('deletes 2500 keys in three DeleteObjects calls of at most 1000', async () => {
      const keys = Array.from({ length: 2500 }, (_, i) => `recordings/2024/05/01/k${String(i).padStart(4, '0')}`);
      for (const key of keys) bucket.add(key, 'null');

      const result = await store({ versioned: false }).delete(keys);

      const sizes = bucket.named('DeleteObjectsCommand').map((c) => c.input.Delete.Objects.length);
      expect(sizes).to.deep.equal([1000, 1000, 500]);
      const sent = bucket.named('DeleteObjectsCommand').flatMap((c) => c.input.Delete.Objects.map((o: { Key: string }) => o.Key));
      expect(sent).to.deep.equal(keys);
      expect(bucket.named('DeleteObjectsCommand').every((c) => c.input.Delete.Quiet === true)).to.equal(true);
      expect(result.deleted).to.deep.equal(keys);
      expect(result.failed).to.deep.equal([]);
      expect(bucket.objects.size).to.equal(0);
      // Verified with one listing of the shared folder's key range, not 2500 HEAD requests.
      expect(bucket.named('HeadObjectCommand')).to.have.length(0);
      expect(bucket.named('ListObjectsCommand')).to.have.length(1);
    });

    it('verifies a contiguous range with one short listing, however many keys follow it in the folder', async () => {
      const keys = Array.from({ length: 3000 }, (_, i) => `recordings/2024/05/03/k${String(i).padStart(4, '0')}`);
      for (const key of keys) bucket.add(key, 'null');

      const result = await store({ versioned: false }).delete(keys.slice(1000, 2000));

      expect(result.deleted).to.have.length(1000);
      const lists = bucket.named('ListObjectsCommand');
      expect(lists).to.have.length(1);
      expect(lists[0]!.input).to.deep.include({ Prefix: 'recordings/2024/05/03/', MaxKeys: 8 });
      expect(lists[0]!.input.Marker < keys[1000]! && lists[0]!.input.Marker > keys[999]!).to.equal(true);
    });

    it('finds a key left behind deep inside a range interleaved with other recordings, paging past the first page', async () => {
      // Due and not-yet-due recordings alternate in the folder; one due key survives its delete.
      const due = Array.from({ length: 400 }, (_, i) => `recordings/2024/05/04/k${String(i).padStart(4, '0')}a`);
      const notDue = Array.from({ length: 400 }, (_, i) => `recordings/2024/05/04/k${String(i).padStart(4, '0')}b`);
      for (const key of [...due, ...notDue]) bucket.add(key, 'null');
      bucket.ignoresDeleteOf.add(due[390]!);

      const result = await store({ versioned: false }).delete(due);

      expect(result.failed).to.deep.equal([{ key: due[390], error: 'still present after delete' }]);
      expect(result.deleted).to.have.length(399);
      expect(bucket.named('ListObjectsCommand').map((c) => c.input.MaxKeys)).to.deep.equal([8, 1000]);
      expect(bucket.objects.size).to.equal(401); // the other recordings untouched
    });

    it('checks each folder of a batch that spans several on its own', async () => {
      const keys = ['recordings/2024/05/05/a', 'recordings/2024/05/06/b', 'recordings/2024/05/05/c', 'recordings/2024/05/06/d'];
      for (const key of [...keys, 'recordings/2024/05/05/b']) bucket.add(key, 'null');
      bucket.ignoresDeleteOf.add('recordings/2024/05/06/d');

      const result = await store({ versioned: false }).delete(keys);

      expect(result.failed).to.deep.equal([{ key: 'recordings/2024/05/06/d', error: 'still present after delete' }]);
      expect(result.deleted.sort()).to.deep.equal(['recordings/2024/05/05/a', 'recordings/2024/05/05/c', 'recordings/2024/05/06/b']);
      expect(bucket.named('ListObjectsCommand').map((c) => c.input.Prefix).sort()).to.deep.equal(['recordings/2024/05/05/', 'recordings/2024/05/06/']);
    });

    it('reports a key that a listing still shows after the delete as failed, not deleted', async () => {
      const keys = Array.from({ length: 100 }, (_, i) => `recordings/2024/05/02/k${String(i).padStart(3, '0')}`);
      for (const key of keys) bucket.add(key, 'null');
      bucket.add('recordings/2024/05/02/other', 'null');
      bucket.ignoresDeleteOf.add(keys[42]!);

      const result = await store({ versioned: false }).delete(keys);

      expect(result.failed).to.deep.equal([{ key: keys[42], error: 'still present after delete' }]);
      expect(result.deleted).to.have.length(99);
      expect(result.deleted).to.not.include(keys[42]);
    });

    it('reports a per-key error from DeleteObjects as failed and still deletes the rest', async () => {
      bucket.add('recordings/a', 'null');
      bucket.add('recordings/b', 'null');
      bucket.deleteErrors.set('recordings/b', { Code: 'AccessDenied', Message: 'Access Denied' });

      const result = await store({ versioned: false }).delete(['recordings/a', 'recordings/b']);

      expect(result).to.deep.equal({
        deleted: ['recordings/a'],
        failed: [{ key: 'recordings/b', error: 'AccessDenied: Access Denied' }],
      });
    });

    it('reports an object still present after a delete that claimed success as failed', async () => {
      bucket.add('recordings/a', 'null');
      bucket.add('recordings/b', 'null');
      bucket.ignoresDeleteOf.add('recordings/a');

      const result = await store({ versioned: false }).delete(['recordings/a', 'recordings/b']);

      expect(result).to.deep.equal({
        deleted: ['recordings/b'],
        failed: [{ key: 'recordings/a', error: 'still present after delete' }],
      });
    });

    it('counts keys that never existed as deleted and sends each key once', async () => {
      const result = await store({ versioned: false }).delete(['recordings/gone', 'recordings/gone']);
      expect(result).to.deep.equal({ deleted: ['recordings/gone'], failed: [] });
      expect(bucket.named('DeleteObjectsCommand')[0]!.input.Delete.Objects).to.deep.equal([{ Key: 'recordings/gone' }]);
    });

    it('fails the whole batch when DeleteObjects itself fails, without the SDK message', async () => {
      bucket.add('recordings/a', 'null');
      const send = client.send as unknown as sinon.SinonStub;
      send.callsFake((async (cmd: Command) => {
        if (cmd.constructor.name === 'DeleteObjectsCommand') {
          throw sdkError('SignatureDoesNotMatch', 403, 'StringToSign AKIASECRET wJalrSECRET');
        }
        return bucket.send(cmd);
      }) as never);

      const result = await store({ versioned: false }).delete(['recordings/a']);

      expect(result).to.deep.equal({
        deleted: [],
        failed: [{ key: 'recordings/a', error: 'SignatureDoesNotMatch (HTTP 403)' }],
      });
    });
  });

  it('maps other SDK errors to Unavailable: a neutral message for the client, name and status only in the cause for the log', async () => {
    try {
      await store().ping();
      expect.fail('ping succeeded');
    } catch (err) {
      expect(err).to.be.instanceOf(Unavailable);
      const e = err as Unavailable;
      expect(e.message).to.equal('The object store cannot be reached now; retry later');
      expect(e.details).to.deep.equal({});
      expect((e.cause as { code?: string }).code).to.equal('HeadBucket: Forbidden (HTTP 403) request req-1');
      expect(JSON.stringify({ message: e.message, details: e.details, cause: errorFacts(e.cause) })).to.not.match(/SECRET/);
    }
  });

  it('asks for server-side encryption with the KMS key on uploads', async () => {
    await store({ sse: 'aws:kms', sseKmsKeyId: 'arn:aws:kms:eu-north-1:111122223333:key/k1' }).put(
      'recordings/enc',
      Readable.from([Buffer.from('audio')]),
      { contentType: 'audio/wav' },
    );
    const put = bucket.named('PutObjectCommand')[0]!;
    expect(put.input).to.include({
      Bucket: 'calls',
      Key: 'recordings/enc',
      ContentType: 'audio/wav',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:aws:kms:eu-north-1:111122223333:key/k1',
    });
  });

  it('asks for AES256 without a key id', async () => {
    await store({ sse: 'AES256' }).put('recordings/enc', Readable.from([Buffer.from('audio')]), { contentType: 'audio/wav' });
    const input = bucket.named('PutObjectCommand')[0]!.input;
    expect(input.ServerSideEncryption).to.equal('AES256');
    expect(input).to.not.have.property('SSEKMSKeyId');
  });
});

describe('createS3Client', () => {
  it("computes request checksums only when required with requestChecksum 'when_required'", async () => {
    const client = createS3Client(config);
    try {
      expect(await client.config.requestChecksumCalculation()).to.equal('WHEN_REQUIRED');
      expect(await client.config.responseChecksumValidation()).to.equal('WHEN_REQUIRED');
    } finally {
      client.destroy();
    }
  });

  it("keeps the SDK default with requestChecksum 'when_supported'", async () => {
    const client = createS3Client({ ...config, requestChecksum: 'when_supported' });
    try {
      expect(await client.config.requestChecksumCalculation()).to.equal('WHEN_SUPPORTED');
      expect(await client.config.responseChecksumValidation()).to.equal('WHEN_SUPPORTED');
    } finally {
      client.destroy();
    }
  });

  it('uses the configured endpoint, region, path style and credentials', async () => {
    const client = createS3Client(config);
    try {
      expect(await client.config.region()).to.equal('eu-north-1');
      expect(client.config.forcePathStyle).to.equal(true);
      const endpoint = await client.config.endpoint!();
      expect(`${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}`).to.equal('http://127.0.0.1:9');
      const credentials = await client.config.credentials();
      expect(credentials.accessKeyId).to.equal('AKIASECRET');
    } finally {
      client.destroy();
    }
  });
});
