import type { S3Client } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import sinon from 'sinon';
import { ManualClock } from '../../src/shared/clock.js';
import { createS3ObjectStore } from '../../src/storage/index.js';
import { auditEntries } from '../helpers/retention.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { storageKeyFor, type Recording } from '../../src/recordings/index.js';
import * as recordingRepository from '../../src/recordings/recording-repository.js';
import { randomUUID } from 'node:crypto';

interface Command {
  constructor: { name: string };
  input: Record<string, any>;
}

/**
 * A versioned bucket behind `S3Client.send` (s3rver has no versioning): each key keeps its versions
 * and delete markers, newest first. A plain DeleteObject without a version id would only add a marker.
 */
class VersionedBucket {
  readonly versions = new Map<string, { VersionId: string; marker: boolean }[]>();
  readonly calls: Command[] = [];

  add(key: string, ...ids: string[]): void {
    this.versions.set(key, [...ids.map((id) => ({ VersionId: id, marker: id.startsWith('dm') })), ...(this.versions.get(key) ?? [])]);
  }

  async send(cmd: Command): Promise<unknown> {
    this.calls.push(cmd);
    const input = cmd.input;
    switch (cmd.constructor.name) {
      case 'GetBucketVersioningCommand':
        return { Status: 'Enabled' };
      case 'ListObjectVersionsCommand': {
        const found = [...this.versions.entries()].filter(([k]) => k.startsWith(input.Prefix));
        const all = found.flatMap(([Key, vs]) => vs.map((v, i) => ({ Key, VersionId: v.VersionId, IsLatest: i === 0, marker: v.marker })));
        return {
          Versions: all.filter((v) => !v.marker).map(({ marker: _m, ...v }) => v),
          DeleteMarkers: all.filter((v) => v.marker).map(({ marker: _m, ...v }) => v),
          IsTruncated: false,
        };
      }
      case 'DeleteObjectsCommand':
        for (const o of input.Delete.Objects as { Key: string; VersionId?: string }[]) {
          const vs = this.versions.get(o.Key) ?? [];
          if (o.VersionId === undefined) vs.unshift({ VersionId: `dm-${randomUUID()}`, marker: true });
          else vs.splice(vs.findIndex((v) => v.VersionId === o.VersionId) >>> 0, 1);
          if (vs.length) this.versions.set(o.Key, vs);
          else this.versions.delete(o.Key);
        }
        return { Errors: [] };
      case 'HeadObjectCommand': {
        const current = this.versions.get(input.Key)?.[0];
        if (!current || current.marker) throw Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
        return {};
      }
      case 'ListObjectsCommand':
        return {
          Contents: [...this.versions.entries()].filter(([k, vs]) => k.startsWith(input.Prefix ?? '') && !vs[0]!.marker).map(([Key]) => ({ Key, LastModified: new Date() })),
          IsTruncated: false,
        };
      case 'HeadBucketCommand':
        return {};
      default:
        throw new Error(`VersionedBucket does not implement ${cmd.constructor.name}`);
    }
  }
}

describe('retention on a versioned bucket', () => {
  let t: TestApp;
  let bucket: VersionedBucket;

  beforeEach(async () => {
    bucket = new VersionedBucket();
    const client = { send: sinon.stub().callsFake((cmd: Command) => bucket.send(cmd)) } as unknown as S3Client;
    const store = createS3ObjectStore({ client, bucket: 'gallra', sse: 'none' });
    t = await startTestApp({ clock: new ManualClock('2026-11-23T10:00:00.000Z'), store });
  });
  afterEach(async () => {
    sinon.restore();
    await t.close();
  });

  it('removes every version and delete marker of a due recording before writing the tombstone', async () => {
    const now = t.clock.now();
    const id = randomUUID();
    const key = storageKeyFor(id, new Date(now.getTime() - 86_400_000));
    // Three versions (a re-upload, an overwrite) and a delete marker hiding the newest from HEAD.
    bucket.add(key, 'v1', 'v2', 'v3', 'dm-1');
    const neighbour = `${key}-other`;
    bucket.add(neighbour, 'n1');
    const r: Recording = {
      id, callId: `call-${id}`, startedAt: new Date(now.getTime() - 30 * 86_400_000 + 20 * 60_000).toISOString(), endedAt: now.toISOString(),
      queue: null, agentId: null, callerKey: null, storageKey: key, contentType: 'audio/wav', bytes: 1, sha256: 'c'.repeat(64), durationMs: null,
      status: 'stored', reason: null, deadline: new Date(now.getTime() + 20 * 60_000).toISOString(), deletedAt: null, createdAt: now.toISOString(), updatedAt: now.toISOString(),
    };
    await t.db.transaction((trx) => recordingRepository.insert(trx, r));

    const report = await t.services.retention.run();
    expect(report.deleted).to.deep.equal([id]);
    expect(bucket.versions.has(key)).to.equal(false, 'no version or marker of the key may survive');
    expect(bucket.versions.has(neighbour)).to.equal(true, 'a key that merely shares the prefix is untouched');
    const deleteCalls = bucket.calls.filter((c) => c.constructor.name === 'DeleteObjectsCommand');
    const sent = deleteCalls.flatMap((c) => c.input.Delete.Objects as { Key: string; VersionId?: string }[]).filter((o) => o.Key === key);
    expect(sent.map((o) => o.VersionId).sort()).to.deep.equal(['dm-1', 'v1', 'v2', 'v3']);
    expect((await recordingRepository.findById(t.db, id))!.status).to.equal('deleted');
    expect(await auditEntries(t.db, 'recording.deleted')).to.have.length(1);
  });
});
