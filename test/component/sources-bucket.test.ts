import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  GetObjectTaggingCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
  type Tag,
} from '@aws-sdk/client-s3';
import { expect } from 'chai';
import sinon from 'sinon';
import request from 'supertest';
import type { Recording } from '../../src/recordings/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createBucketSource, type BucketSourceConfig, type SourceConfig } from '../../src/sources/index.js';
import { createS3Client, createS3SourceBucket } from '../../src/storage/index.js';
import { s3ConfigFor, startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { withVersioning } from '../helpers/s3-versioned-fake.js';
import { auditOf, sourceSettings, storedBytes } from '../helpers/sources.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { fixture } from '../helpers/webhook.js';

const NOW = '2026-11-23T10:00:00.000Z';
const SETTLE = 10_000;
const WAV = fixture('call-pcm16-8k.wav');
const ALAW = fixture('call-alaw-8k.wav');
const ORG = '9b5a2c1e-1111-4222-8333-444455556666';

async function recordingsOf(t: TestApp): Promise<Recording[]> {
  const { fromRow } = await import('../../src/recordings/recording-repository.js');
  return (await t.db('recordings').orderBy('call_id')).map(fromRow);
}

/** The platform's bucket: an s3rver of its own, never gallra's store. */
describe('sources: a platform bucket (Genesys Cloud export, Amazon Connect) polled for recordings', () => {
  let t: TestApp;
  let s3: S3TestServer;
  let client: S3Client;

  function bucketConfig(name: string, metadata: SourceConfig['metadata'], prefix: string): BucketSourceConfig {
    return {
      ...sourceSettings(name, { metadata }),
      adapter: 'bucket',
      bucket: s3.bucket,
      prefix,
      region: 'eu-north-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      requestChecksum: 'when_required',
      // Two keys a page: every listing here pages.
      listPageSize: 2,
      residency: { region: 'eu-north-1', eea: true, place: 'Stockholm, Sweden' },
    };
  }

  async function start(cfg: BucketSourceConfig, sourceClient?: S3Client) {
    const adapter = createBucketSource(
      cfg,
      sourceClient
        ? createS3SourceBucket({ ...cfg, client: sourceClient, pageSize: cfg.listPageSize })
        : undefined,
    );
    t = await startTestApp({ clock: new ManualClock(NOW), sources: [{ config: cfg, adapter }] });
    return t.services.sources.pollers[0]!;
  }

  async function pollTwice() {
    const p = t.services.sources.pollers[0]!;
    await p.poll();
    t.clock.advance(SETTLE);
    return p.poll();
  }

  async function put(key: string, body: Buffer | string, extra: { Metadata?: Record<string, string> } = {}) {
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body, ...extra }));
  }

  async function keysInBucket(): Promise<string[]> {
    const out = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket }));
    return (out.Contents ?? []).map((o) => o.Key!);
  }

  function genesysKey(conversationId: string, recordingId: string): string {
    return `${ORG}/year=2026/month=11/day=23/hour=8/conversation_id=${conversationId}/${recordingId}`;
  }

  async function genesysRecording(conversationId: string, audio: Buffer, fields: Record<string, unknown> = {}) {
    const recordingId = randomUUID();
    const base = genesysKey(conversationId, recordingId);
    const metadata = {
      mediaType: 'Call',
      provider: 'edge',
      conversationId,
      recordingId,
      conversationStartTime: '2026-11-23T08:15:00.000Z',
      conversationEndTime: '2026-11-23T08:20:00.000Z',
      ani: 'tel:+46701234567',
      dnis: 'tel:+46851234567',
      queueNames: ['bygglov'],
      queueIds: [randomUUID()],
      userIds: ['agent-17'],
      ...fields,
    };
    await put(`${base}.wav`, audio);
    await put(`${base}_metadata.json`, JSON.stringify(metadata));
    return { audioKey: `${base}.wav`, metadataKey: `${base}_metadata.json` };
  }

  beforeEach(async () => {
    s3 = await startS3Server();
    client = createS3Client(s3ConfigFor(s3));
  });

  afterEach(async () => {
    sinon.restore();
    await t?.close();
    client.destroy();
    await s3.close();
  });

  it('imports a Genesys Cloud bulk export byte for byte with its metadata, paging the listing, and leaves nothing in the bucket', async () => {
    await start(bucketConfig('genesys', { preset: 'genesys-bulk-export' }, `${ORG}/`));
    const a = randomUUID();
    const b = randomUUID();
    await genesysRecording(a, WAV);
    await genesysRecording(b, ALAW, { ani: '+46707654321', queueNames: undefined, queueIds: ['q-support'] });
    // Outside the prefix: another organisation's export is not this source's.
    await put(`other-org/year=2026/month=11/day=23/hour=8/conversation_id=${randomUUID()}/x.wav`, WAV);

    const report = await pollTwice();
    expect(report).to.include({ listed: 2, taken: 2, deleted: 2, pending: 0, rejected: 0 });

    const recs = await recordingsOf(t);
    const byCall = new Map(recs.map((r) => [r.callId, r]));
    expect(byCall.get(a)).to.include({ source: 'genesys', status: 'stored', queue: 'bygglov', agentId: 'agent-17', startedAt: '2026-11-23T08:15:00.000Z', endedAt: '2026-11-23T08:20:00.000Z' });
    expect(byCall.get(a)!.callerKey).to.equal(t.services.callerKeys.of('+46701234567'));
    expect(byCall.get(b)).to.include({ queue: 'q-support' });
    expect(byCall.get(b)!.callerKey).to.equal(t.services.callerKeys.of('+46707654321'));
    expect((await storedBytes(t, byCall.get(a)!.storageKey!)).equals(WAV)).to.equal(true);
    expect((await storedBytes(t, byCall.get(b)!.storageKey!)).equals(ALAW)).to.equal(true);
    expect((await keysInBucket()).filter((k) => k.startsWith(ORG))).to.deep.equal([]);

    const entries = await auditOf(t);
    expect(entries.filter((e) => e.action === 'recording.ingested')).to.have.length(2);
    expect(entries.filter((e) => e.action === 'source.deleted')).to.have.length(2);
    // Neither the number nor a key of the bucket is in the audit log.
    const audit = JSON.stringify(entries);
    expect(audit).not.to.include('701234567');
    expect(audit).not.to.include(ORG);
  });

  it('imports an Amazon Connect recording with the caller from its tag or metadata, and one without as unknown caller', async () => {
    await start(bucketConfig('connect', { preset: 'amazon-connect' }, 'connect/kommun/'));
    const tagged = randomUUID();
    const withMeta = randomUUID();
    const bare = randomUUID();
    const dir = 'connect/kommun/CallRecordings/2026/11/23';
    await put(`${dir}/${tagged}_20261123T08:15_UTC.wav`, WAV);
    await client.send(new PutObjectTaggingCommand({ Bucket: s3.bucket, Key: `${dir}/${tagged}_20261123T08:15_UTC.wav`, Tagging: { TagSet: [{ Key: 'caller', Value: '+46701234567' }, { Key: 'queue', Value: 'bygglov' }] } }));
    await put(`${dir}/${withMeta}_20261123T08:30_UTC.wav`, ALAW, { Metadata: { caller: '0707654321' } });
    await put(`${dir}/${bare}_20261123T08:45_UTC.wav`, WAV);

    const report = await pollTwice();
    expect(report).to.include({ listed: 3, taken: 3, deleted: 3, pending: 0, rejected: 0 });
    const byCall = new Map((await recordingsOf(t)).map((r) => [r.callId, r]));
    expect(byCall.get(tagged)).to.include({ status: 'stored', startedAt: '2026-11-23T08:15:00.000Z', queue: 'bygglov' });
    expect(byCall.get(tagged)!.callerKey).to.equal(t.services.callerKeys.of('+46701234567'));
    expect(byCall.get(withMeta)!.callerKey).to.equal(t.services.callerKeys.of('+46707654321'));
    expect(byCall.get(bare)).to.include({ status: 'stored', callerKey: null });
    // The end is the start plus the audio's duration.
    expect(Date.parse(byCall.get(bare)!.endedAt) - Date.parse(byCall.get(bare)!.startedAt)).to.equal(byCall.get(bare)!.durationMs);
    expect((await storedBytes(t, byCall.get(withMeta)!.storageKey!)).equals(ALAW)).to.equal(true);
    expect(await keysInBucket()).to.deep.equal([]);

    const ingested = (await auditOf(t)).filter((e) => e.action === 'recording.ingested');
    expect(ingested.filter((e) => e.details.callerUnknown === true).map((e) => e.details.callId)).to.deep.equal([bare]);

    // The compliance overview counts the calls kept without a caller.
    const auditor = await t.token('auditor');
    const overview = await request(t.app).get('/v1/reports/overview').query({ from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z' }).set('Authorization', `Bearer ${auditor}`).expect(200);
    expect(overview.body.stored.unknownCaller).to.deep.equal({ count: 1, bySource: [{ source: 'connect', count: 1 }] });
  });

  it("supplies Connect's caller with the documented tagging function (docs/integrations), so the call is no unknown caller", async () => {
    await start(bucketConfig('connect', { preset: 'amazon-connect' }, 'connect/kommun/'));
    const contact = randomUUID();
    const key = `connect/kommun/CallRecordings/2026/11/23/${contact}_20261123T08:15_UTC.wav`;
    await put(key, WAV);
    await client.send(new PutObjectTaggingCommand({ Bucket: s3.bucket, Key: key, Tagging: { TagSet: [{ Key: 'department', Value: 'bygg' }] } }));
    const doc = path.resolve(import.meta.dirname, '../../docs/integrations/amazon-connect-tag-recording.mjs');
    const { tagRecording } = (await import(pathToFileURL(doc).href)) as {
      tagRecording: (o: { bucket: string; key: string }, deps: Record<string, (...a: never[]) => Promise<unknown>>) => Promise<string>;
    };
    // Connect's GetContactAttributes is faked (no Connect here); the tags go to the bucket for real.
    const asked: string[] = [];
    const deps = {
      getAttributes: async (id: string) => (asked.push(id), { caller: '+46701234567' }),
      getTags: async (bucket: string, k: string) => (await client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: k }))).TagSet ?? [],
      putTags: (bucket: string, k: string, TagSet: Tag[]) => client.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: k, Tagging: { TagSet } })),
    };
    // The key as an S3 event gives it: URL-encoded.
    expect(await tagRecording({ bucket: s3.bucket, key: encodeURIComponent(key).replace(/%2F/g, '/') }, deps)).to.equal('tagged');
    expect(await tagRecording({ bucket: s3.bucket, key: 'connect/kommun/Other/notes.txt' }, deps)).to.equal('not-a-recording');
    expect(asked).to.deep.equal([contact]);
    expect(await pollTwice()).to.include({ taken: 1, deleted: 1 });
    const [r] = await recordingsOf(t);
    expect(r!.callerKey).to.equal(t.services.callerKeys.of('+46701234567'));
  });

  it("stores an unknown caller's call even when the caller opted out: no opt-out can match it", async () => {
    await start(bucketConfig('connect', { preset: 'amazon-connect' }, 'connect/kommun/'));
    await t.services.optOuts.registry.register({ number: '070-123 45 67' }, 'system:test');
    const bare = randomUUID();
    const tagged = randomUUID();
    const dir = 'connect/kommun/CallRecordings/2026/11/23';
    await put(`${dir}/${bare}_20261123T08:45_UTC.wav`, WAV);
    await put(`${dir}/${tagged}_20261123T08:50_UTC.wav`, WAV, { Metadata: { caller: '+46701234567' } });
    expect(await pollTwice()).to.include({ taken: 1, discarded: 1, deleted: 2 });
    const byCall = new Map((await recordingsOf(t)).map((r) => [r.callId, r]));
    expect(byCall.get(bare)).to.include({ status: 'stored', callerKey: null });
    expect(byCall.get(tagged)).to.include({ status: 'discarded', storageKey: null });
  });

  it('deletes every version and delete marker of the audio and its metadata object on a versioned bucket, verified gone', async () => {
    const sourceClient = createS3Client(s3ConfigFor(s3));
    const versions = withVersioning(sourceClient, s3.bucket);
    await start(bucketConfig('genesys', { preset: 'genesys-bulk-export' }, `${ORG}/`), sourceClient);
    const { audioKey, metadataKey } = await genesysRecording(randomUUID(), WAV);
    // The export was written twice (a re-run bulk action), and someone once deleted the metadata without its versions.
    versions.addOlder(audioKey, 'v1', 'v2');
    versions.addOlder(metadataKey, 'marker-old', 'v1');
    expect(await pollTwice()).to.include({ taken: 1, deleted: 1, pending: 0 });
    expect(versions.keysWithOlderVersions()).to.deep.equal([]);
    expect(await keysInBucket()).to.deep.equal([]);
    sourceClient.destroy();
  });

  it("discards an opted-out caller's export without storing it, and deletes it at the source", async () => {
    await start(bucketConfig('genesys', { preset: 'genesys-bulk-export' }, `${ORG}/`));
    await t.services.optOuts.registry.register({ number: '070-123 45 67' }, 'system:test');
    const storePut = sinon.spy(t.store, 'put');
    const conversation = randomUUID();
    await genesysRecording(conversation, WAV);
    expect(await pollTwice()).to.include({ taken: 0, discarded: 1, deleted: 1 });
    expect(storePut.called).to.equal(false);
    const [r] = await recordingsOf(t);
    expect(r).to.include({ callId: conversation, status: 'discarded', storageKey: null, callerKey: null });
    expect(await keysInBucket()).to.deep.equal([]);
    const actions = (await auditOf(t)).map((e) => e.action);
    expect(actions.filter((a) => a === 'recording.discarded')).to.have.length(1);
    expect(actions.filter((a) => a === 'source.deleted')).to.have.length(1);
  });

  it('rejects an export without its metadata file and leaves it in the bucket; the Inleverans data shows the bucket source', async () => {
    await start(bucketConfig('genesys', { preset: 'genesys-bulk-export' }, `${ORG}/`));
    const key = `${genesysKey(randomUUID(), randomUUID())}.wav`;
    await put(key, WAV);
    expect(await pollTwice()).to.include({ taken: 0, rejected: 1 });
    expect(await keysInBucket()).to.deep.equal([key]);
    const admin = await t.token('admin');
    const res = await request(t.app).get('/v1/sources').set('Authorization', `Bearer ${admin}`).expect(200);
    expect(res.body.items).to.have.length(1);
    expect(res.body.items[0]).to.include({ name: 'genesys', adapter: 'bucket', rejected: 1, copiesPending: 0, lastError: null });
    expect(res.body.items[0].rejectedItems.map((i: { reason: string }) => i.reason)).to.deep.equal(['missing-metadata']);
  });
});
