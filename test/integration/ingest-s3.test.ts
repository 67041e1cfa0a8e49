import { createHash } from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import { createS3Client, createS3ObjectStore } from '../../src/storage/index.js';
import { startS3Server, s3ConfigFor, type S3TestServer } from '../helpers/s3-server.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('ingest through the S3 adapter to a local S3-compatible server', function () {
  this.timeout(60_000);
  let s3: S3TestServer;
  let t: TestApp;
  before(async () => {
    s3 = await startS3Server();
  });
  after(async () => s3.close());
  afterEach(async () => t.close());

  it('stores a recording larger than one part byte for byte (multipart upload)', async () => {
    const client = createS3Client(s3ConfigFor(s3));
    const store = createS3ObjectStore({ client, bucket: s3.bucket, sse: 'none', partSize: 5 * 1024 * 1024 });
    t = await startTestApp({ store, config: { maxRecordingBytes: 32 * 1024 * 1024 } });
    const wav = fixture('call-pcm16-8k.wav');
    // ~12 MB: the fixture's header, then its samples repeated → three parts of 5 MiB.
    const audio = Buffer.concat([wav, ...Array.from({ length: 65 }, () => wav.subarray(44))]);
    const { body, contentType } = recordingBody(callMeta(t.clock.now()), audio);
    const res = await request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body.sha256).to.equal(sha(audio));

    const row = await t.db('recordings').where({ id: res.body.id }).first();
    // Read through the service's store, which decrypts (the bucket holds the encrypted object).
    const got = await t.services.store.get(row.storage_key);
    const chunks: Buffer[] = [];
    for await (const c of got.body) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).length).to.equal(audio.length);
    expect(sha(Buffer.concat(chunks))).to.equal(sha(audio));
  });

  it('sends a recording that fits in one part as one PutObject signed with its own SHA-256, byte for byte', async () => {
    const client = createS3Client(s3ConfigFor(s3));
    // What went over the wire, after signing: the request the store actually received.
    const sent: { method: string; headers: Record<string, string> }[] = [];
    client.middlewareStack.add(
      (next) => async (args) => {
        const r = args.request as { method: string; headers: Record<string, string> };
        sent.push({ method: r.method, headers: { ...r.headers } });
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'recordRequests' },
    );
    const store = createS3ObjectStore({ client, bucket: s3.bucket, sse: 'none' });
    t = await startTestApp({ store });
    const audio = fixture('call-pcm16-8k.wav');
    const { body, contentType } = recordingBody(callMeta(t.clock.now()), audio);
    const res = await request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);

    const puts = sent.filter((r) => r.method === 'PUT');
    expect(puts, 'one PutObject, no multipart upload').to.have.length(1);
    expect(puts[0]!.headers.authorization).to.match(/SignedHeaders=[^,]*x-amz-content-sha256/);
    expect(sent.filter((r) => r.method === 'GET'), 'the duration comes from the WAV header, not a read-back').to.have.length(0);
    const row = await t.db('recordings').where({ id: res.body.id }).first();
    // The bucket holds the encrypted object, signed with its own SHA-256; the service reads the audio back.
    const raw = await store.get(row.storage_key);
    const sealed: Buffer[] = [];
    for await (const c of raw.body) sealed.push(c as Buffer);
    expect(puts[0]!.headers['x-amz-content-sha256']).to.equal(sha(Buffer.concat(sealed))).and.not.equal(sha(audio));
    const got = await t.services.store.get(row.storage_key);
    const chunks: Buffer[] = [];
    for await (const c of got.body) chunks.push(c as Buffer);
    expect(sha(Buffer.concat(chunks))).to.equal(sha(audio));
    expect(row.duration_ms).to.equal(11_487);
  });
});
