import { createHash } from 'node:crypto';
import path from 'node:path';
import { expect } from 'chai';
import sinon from 'sinon';
import request from 'supertest';
import { verifyChain } from '../../src/audit-log/index.js';
import { readAll as readAuditEntries } from '../../src/audit-log/audit-repository.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, multipartBody, recordingBody, signedHeaders } from '../helpers/webhook.js';
import { filesUnder } from '../helpers/files.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function audit(t: TestApp) {
  const out = [];
  for await (const e of readAuditEntries(t.db)) out.push(e);
  return out;
}

function post(t: TestApp, meta: object | string, audio: Buffer, sign: { secret?: string; timestamp?: number } = {}) {
  const { body, contentType } = recordingBody(meta as never, audio);
  return request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now(), sign)).set('Content-Type', contentType).send(body);
}

describe('POST /v1/recordings (webhook ingest)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(async () => {
    sinon.restore();
    await t.close();
  });

  for (const [file, type] of [
    ['call-pcm16-8k.wav', 'audio/wav'],
    ['call-alaw-8k.wav', 'audio/wav'],
    ['call-ulaw-8k.wav', 'audio/wav'],
    ['call-stereo-8k.wav', 'audio/wav'],
    ['call-8k.mp3', 'audio/mpeg'],
    ['call.opus', 'audio/ogg'],
    ['call-16k.flac', 'audio/flac'],
  ] as const) {
    it(`stores a ${file} byte for byte, with its row and one audit entry`, async () => {
      const audio = fixture(file);
      const meta = callMeta(t.clock.now());
      const res = await post(t, meta, audio);
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body).to.include({ callId: meta.callId, status: 'stored', bytes: audio.length, sha256: sha(audio) });
      const deadline = new Date(new Date(meta.startedAt).getTime() + 30 * 86_400_000).toISOString();
      expect(res.body.deadline).to.equal(deadline);

      const row = await t.db('recordings').where({ id: res.body.id }).first();
      expect(row).to.include({ call_id: meta.callId, status: 'stored', content_type: type, sha256: sha(audio), deadline });
      expect(row.storage_key).to.match(new RegExp(`^recordings/\\d{4}/\\d{2}/\\d{2}/\\d{9}-${res.body.id}$`));
      const stored = await t.services.store.get(row.storage_key); // decrypted: the service's view of what was stored
      const chunks: Buffer[] = [];
      for await (const c of stored.body) chunks.push(c as Buffer);
      expect(sha(Buffer.concat(chunks))).to.equal(sha(audio));

      const entries = await audit(t);
      const ingested = entries.filter((e) => e.action === 'recording.ingested');
      expect(ingested).to.have.length(1);
      expect(ingested[0]!.details).to.include({ recordingId: res.body.id, sha256: sha(audio), storageKey: row.storage_key });
      expect((await verifyChain(entries)).ok).to.equal(true);
    });
  }

  it('answers a retry of the same call and audio with 200 and the first body, writing no second object', async () => {
    const audio = fixture('call-8k.mp3');
    const meta = callMeta(t.clock.now());
    const first = await post(t, meta, audio);
    const put = sinon.spy(t.store, 'put');
    const again = await post(t, meta, audio);
    expect(again.status).to.equal(200);
    expect(again.body).to.deep.equal(first.body);
    expect(put.called).to.equal(false);
    expect(await t.db('recordings').count({ n: '*' })).to.deep.equal([{ n: 1 }]);
    expect(filesUnder(path.join(t.dir, 'objects')).filter((f) => !f.endsWith('.meta.json'))).to.have.length(1);
  });

  it('refuses the same call id with other audio with 409 and keeps the first', async () => {
    const meta = callMeta(t.clock.now());
    const first = await post(t, meta, fixture('call-8k.mp3'));
    const other = await post(t, meta, fixture('call-16k.flac'));
    expect(other.status).to.equal(409);
    expect(other.type).to.equal('application/problem+json');
    expect(other.body.type).to.match(/call-id-conflict$/);
    const row = await t.db('recordings').where({ call_id: meta.callId }).first();
    expect(row.sha256).to.equal(first.body.sha256);
  });

  it('refuses audio that is not a phone-system format with 415 and stores nothing', async () => {
    const put = sinon.spy(t.store, 'put');
    const res = await post(t, callMeta(t.clock.now()), Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(8000, 7)]));
    expect(res.status).to.equal(415);
    expect(res.type).to.equal('application/problem+json');
    expect(res.body.detail).to.match(/WAV/);
    expect(put.called).to.equal(false);
    expect(await t.db('recordings').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
    const refused = (await audit(t)).filter((e) => e.action === 'recording.refused');
    expect(refused).to.have.length(1);
    expect(refused[0]!.details).to.include({ status: 415 });
  });

  it('refuses a WAV in a codec phone systems do not use (IEEE float) with 415', async () => {
    const wav = Buffer.from(fixture('call-pcm16-8k.wav'));
    wav.writeUInt16LE(3, 20); // fmt chunk at 12: tag at 20 → 3 = IEEE float
    const res = await post(t, callMeta(t.clock.now()), wav);
    expect(res.status).to.equal(415);
  });

  it('refuses a recording over MAX_RECORDING_BYTES with 413 and leaves nothing behind', async () => {
    await t.close();
    t = await startTestApp({ config: { maxRecordingBytes: 64 * 1024 } });
    const big = Buffer.concat([fixture('call-pcm16-8k.wav')]); // ~180 KB > 64 KiB
    const res = await post(t, callMeta(t.clock.now()), big);
    expect(res.status).to.equal(413);
    expect(res.type).to.equal('application/problem+json');
    expect(await t.db('recordings').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
    expect(filesUnder(path.join(t.dir, 'objects'))).to.deep.equal([]);
  });

  const invalid: [string, (m: ReturnType<typeof callMeta>) => unknown, string][] = [
    ['a missing callId', (m) => ({ ...m, callId: undefined }), '/callId'],
    ['a callId with a slash', (m) => ({ ...m, callId: 'a/b' }), '/callId'],
    ['a startedAt without offset', (m) => ({ ...m, startedAt: '2026-11-23T09:00:00' }), '/startedAt'],
    ['endedAt before startedAt', (m) => ({ ...m, endedAt: new Date(new Date(m.startedAt).getTime() - 1000).toISOString() }), '/endedAt'],
    ['a caller that is not a number', (m) => ({ ...m, caller: 'kalle anka' }), '/caller'],
    ['optOut that is not a boolean', (m) => ({ ...m, optOut: 'yes' }), '/optOut'],
  ];
  for (const [what, change, pointer] of invalid) {
    it(`answers 422 naming ${pointer} for ${what}, and changes nothing`, async () => {
      const put = sinon.spy(t.store, 'put');
      const res = await post(t, change(callMeta(t.clock.now())) as object, fixture('call-8k.mp3'));
      expect(res.status).to.equal(422);
      expect(res.type).to.equal('application/problem+json');
      expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).to.include(pointer);
      expect(put.called).to.equal(false);
      expect(await t.db('recordings').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
    });
  }

  it('answers 400 when the metadata is not JSON, or comes after the audio, or is missing', async () => {
    expect((await post(t, '{nope', fixture('call-8k.mp3'))).status).to.equal(400);
    const audioFirst = multipartBody([
      { name: 'audio', value: fixture('call-8k.mp3'), filename: 'a.mp3' },
      { name: 'metadata', value: JSON.stringify(callMeta(t.clock.now())) },
    ]);
    const r1 = await request(t.app).post('/v1/recordings').set(signedHeaders(audioFirst.body, t.clock.now())).set('Content-Type', audioFirst.contentType).send(audioFirst.body);
    expect(r1.status).to.equal(400);
    expect(r1.body.type).to.match(/metadata-first$/);
    const noMeta = multipartBody([{ name: 'audio', value: fixture('call-8k.mp3'), filename: 'a.mp3' }]);
    const r2 = await request(t.app).post('/v1/recordings').set(signedHeaders(noMeta.body, t.clock.now())).set('Content-Type', noMeta.contentType).send(noMeta.body);
    expect(r2.status).to.equal(400);
  });

  it('reads and throws away the audio of a caller who declined recording: the store is never called', async () => {
    const put = sinon.spy(t.store, 'put');
    const exists = sinon.spy(t.store, 'exists');
    const meta = callMeta(t.clock.now(), { optOut: true });
    const res = await post(t, meta, fixture('call-pcm16-8k.wav'));
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ callId: meta.callId, status: 'discarded', reason: 'caller-opted-out' });
    expect(put.called).to.equal(false);
    expect(exists.called).to.equal(false);
    expect(filesUnder(path.join(t.dir, 'objects'))).to.deep.equal([]);
    const row = await t.db('recordings').where({ call_id: meta.callId }).first();
    expect(row).to.include({ status: 'discarded', reason: 'caller-opted-out', storage_key: null, caller_key: null });
    const discarded = (await audit(t)).filter((e) => e.action === 'recording.discarded');
    expect(discarded).to.have.length(1);
    expect(discarded[0]!.details).to.include({ reason: 'caller-opted-out', callId: meta.callId });
  });

  it('discards a call whose deadline has already passed', async () => {
    const meta = callMeta(t.clock.now(), {}, 31 * 24 * 60);
    const put = sinon.spy(t.store, 'put');
    const res = await post(t, meta, fixture('call-8k.mp3'));
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ status: 'discarded', reason: 'retention-expired' });
    expect(put.called).to.equal(false);
  });

  it('refuses a wrong signature, a stale timestamp and a rotated-out secret with 401 and keeps nothing', async () => {
    const rotatedOut = 'whsec_' + Buffer.from('an-old-secret-that-was-retired!!').toString('base64');
    const cases = [
      await post(t, callMeta(t.clock.now()), fixture('call-8k.mp3'), { secret: rotatedOut }),
      await post(t, callMeta(t.clock.now()), fixture('call-8k.mp3'), { timestamp: Math.floor(t.clock.now().getTime() / 1000) - 301 }),
    ];
    const tampered = recordingBody(callMeta(t.clock.now()), fixture('call-8k.mp3'));
    const headers = signedHeaders(tampered.body, t.clock.now());
    tampered.body[tampered.body.length - 100] ^= 0xff;
    cases.push(await request(t.app).post('/v1/recordings').set(headers).set('Content-Type', tampered.contentType).send(tampered.body));
    cases.push(await request(t.app).post('/v1/recordings').set('Content-Type', tampered.contentType).send(tampered.body));
    for (const res of cases) {
      expect(res.status).to.equal(401);
      expect(res.type).to.equal('application/problem+json');
    }
    expect(await t.db('recordings').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
    expect(filesUnder(path.join(t.dir, 'objects')).filter((f) => !path.basename(f).startsWith('.'))).to.deep.equal([]);
    // Nobody was authenticated: counted, not audited (anyone could grow the chain otherwise).
    expect((await audit(t)).filter((e) => e.action === 'recording.refused')).to.deep.equal([]);
    const metrics = await t.services.metrics.metrics();
    const counted = [...metrics.matchAll(/^gallra_unauthenticated_refusals_total\{[^}]*route="webhook"[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(counted).to.equal(4);
  });

  it('accepts a signature made with any of several configured secrets (rotation)', async () => {
    await t.close();
    const next = 'whsec_' + Buffer.from('the-next-secret-being-rolled-in!').toString('base64');
    t = await startTestApp({ config: { webhookSecrets: ['whsec_' + Buffer.from('the-previous-secret-still-valid!').toString('base64'), next] } });
    const res = await post(t, callMeta(t.clock.now()), fixture('call-8k.mp3'), { secret: next });
    expect(res.status).to.equal(201);
  });

  it('keeps the caller number out of the database file and the logs, in every format', async () => {
    for (const [i, caller] of ['070-123 45 67', '+46701234567', '0046701234567'].entries()) {
      const res = await post(t, callMeta(t.clock.now(), { callId: `fmt-${i}`, caller }), fixture('call-8k.mp3'));
      expect(res.status).to.equal(201);
    }
    const keys = await t.db('recordings').pluck('caller_key');
    expect(new Set(keys).size).to.equal(1); // every format is the same caller
    const dbBytes = await t.databaseContents();
    const haystacks = [dbBytes.toString('latin1'), t.logs()];
    for (const needle of ['701234567', '70-123', '070-123 45 67', '+46701234567', '0046701234567', '123 45 67']) {
      for (const h of haystacks) expect(h.includes(needle), `found ${needle}`).to.equal(false);
    }
  });
});

describe('ingest against a store that fails', () => {
  let t: TestApp;
  afterEach(async () => {
    sinon.restore();
    await t.close();
  });

  it('answers 503 and leaves no row when the store is down', async () => {
    t = await startTestApp();
    sinon.stub(t.store, 'put').rejects(new Error('connect ECONNREFUSED'));
    const res = await post(t, callMeta(t.clock.now()), fixture('call-8k.mp3'));
    expect(res.status).to.equal(503);
    expect(res.type).to.equal('application/problem+json');
    expect(await t.db('recordings').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
  });

  it('removes the stored object when the database commit fails', async () => {
    t = await startTestApp();
    const appendStub = sinon.stub(t.services.audit, 'append').rejects(new Error('disk I/O error'));
    const res = await post(t, callMeta(t.clock.now()), fixture('call-8k.mp3'));
    expect(appendStub.called).to.equal(true);
    expect(res.status).to.equal(500);
    expect(res.body.detail).to.not.match(/disk I\/O/); // internal messages stay in the log
    expect(await t.db('recordings').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
    expect(filesUnder(path.join(t.dir, 'objects')).filter((f) => !path.basename(f).startsWith('.'))).to.deep.equal([]);
  });
});
