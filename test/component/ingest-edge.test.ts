import path from 'node:path';
import { expect } from 'chai';
import sinon from 'sinon';
import request from 'supertest';
import { readAll as readAuditEntries } from '../../src/audit-log/audit-repository.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, multipartBody, recordingBody, signedHeaders } from '../helpers/webhook.js';
import { filesUnder } from '../helpers/files.js';

async function auditCount(t: TestApp): Promise<number> {
  let n = 0;
  for await (const _ of readAuditEntries(t.db)) n++;
  return n;
}

/** Posts exactly `body` (Content-Length = its length), signed unless told otherwise. */
function postRaw(t: TestApp, body: Buffer, contentType: string, opts: { forged?: boolean } = {}) {
  const headers = signedHeaders(body, t.clock.now());
  if (opts.forged) headers['webhook-signature'] = 'v1,' + Buffer.alloc(32, 1).toString('base64');
  return request(t.app).post('/v1/recordings').set(headers).set('Content-Type', contentType).timeout(5_000).send(body);
}

async function expectNothingKept(t: TestApp) {
  expect(await t.db('recordings').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
  expect(filesUnder(path.join(t.dir, 'objects'))).to.deep.equal([]);
}

describe('ingest at the edge: cut-off, malformed and implausible uploads', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(async () => {
    sinon.restore();
    await t.close();
  });

  for (const forged of [false, true]) {
    it(`answers a multipart body cut off inside the audio part (${forged ? 'forged' : 'valid'} signature) and keeps nothing`, async () => {
      const { body, contentType } = recordingBody(callMeta(t.clock.now()), fixture('call-pcm16-8k.wav'));
      const cut = body.subarray(0, Math.floor(body.length * 0.7));
      const res = await postRaw(t, cut, contentType, { forged });
      expect(res.status).to.equal(forged ? 401 : 400);
      expect(res.type).to.equal('application/problem+json');
      if (!forged) expect(res.body.type).to.match(/invalid-multipart$/);
      await expectNothingKept(t);
    });
  }

  it('answers every cut of a valid upload, wherever it stops, and keeps nothing', async () => {
    const { body, contentType } = recordingBody(callMeta(t.clock.now()), fixture('call-8k.mp3'));
    for (const at of [10, 120, 300, 5000, body.length - 60, body.length - 3]) {
      const res = await postRaw(t, body.subarray(0, at), contentType);
      expect(res.status, `cut at ${at}`).to.equal(400);
    }
    await expectNothingKept(t);
  });

  it('answers 400 naming the problem, not 401, to an authentic body with the wrong boundary', async () => {
    const { body } = recordingBody(callMeta(t.clock.now()), fixture('call-8k.mp3'));
    const res = await postRaw(t, body, 'multipart/form-data; boundary=not-the-one-used');
    expect(res.status).to.equal(400);
    expect(res.type).to.equal('application/problem+json');
    expect(res.body.type).to.match(/(invalid-multipart|missing-metadata)$/);
    await expectNothingKept(t);
  });

  it('refuses a second audio part with 400 and keeps neither', async () => {
    const put = sinon.spy(t.store, 'put');
    const twice = multipartBody([
      { name: 'metadata', value: JSON.stringify(callMeta(t.clock.now())) },
      { name: 'audio', value: fixture('call-8k.mp3'), filename: 'a.mp3' },
      { name: 'audio', value: fixture('call-pcm16-8k.wav'), filename: 'b.wav' },
    ]);
    const res = await postRaw(t, twice.body, twice.contentType);
    expect(res.status).to.equal(400);
    expect(res.body.type).to.match(/duplicate-audio$/);
    expect(put.callCount).to.be.at.most(1);
    await expectNothingKept(t);
  });

  for (const callId of ['.', '..', '...']) {
    it(`refuses the callId "${callId}" with 422 naming /callId`, async () => {
      const { body, contentType } = recordingBody(callMeta(t.clock.now(), { callId }), fixture('call-8k.mp3'));
      const res = await postRaw(t, body, contentType);
      expect(res.status).to.equal(422);
      expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).to.include('/callId');
      await expectNothingKept(t);
    });
  }

  it('refuses a call that starts further in the future than the webhook tolerance with 422 naming /startedAt', async () => {
    const start = new Date(t.clock.now().getTime() + t.config.webhookToleranceMs + 60_000);
    const meta = callMeta(t.clock.now(), { startedAt: start.toISOString(), endedAt: new Date(start.getTime() + 60_000).toISOString() });
    const { body, contentType } = recordingBody(meta, fixture('call-8k.mp3'));
    const res = await postRaw(t, body, contentType);
    expect(res.status).to.equal(422);
    expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).to.include('/startedAt');
    await expectNothingKept(t);
  });

  it('refuses a call dated in 2096 (it would never be overdue)', async () => {
    const meta = callMeta(t.clock.now(), { startedAt: '2096-11-11T09:00:00Z', endedAt: '2096-11-11T09:05:00Z' });
    const { body, contentType } = recordingBody(meta, fixture('call-8k.mp3'));
    const res = await postRaw(t, body, contentType);
    expect(res.status).to.equal(422);
    await expectNothingKept(t);
  });

  it('accepts a call that starts a little ahead of the server clock (within the tolerance)', async () => {
    const start = new Date(t.clock.now().getTime() + 60_000);
    const meta = callMeta(t.clock.now(), { startedAt: start.toISOString(), endedAt: new Date(start.getTime() + 60_000).toISOString() });
    const { body, contentType } = recordingBody(meta, fixture('call-8k.mp3'));
    expect((await postRaw(t, body, contentType)).status).to.equal(201);
  });

  it('refuses a call longer than MAX_CALL_DURATION with 422 naming /endedAt', async () => {
    const start = new Date(t.clock.now().getTime() - 30 * 3_600_000);
    const meta = callMeta(t.clock.now(), { startedAt: start.toISOString(), endedAt: new Date(start.getTime() + t.config.maxCallDurationMs + 1000).toISOString() });
    const { body, contentType } = recordingBody(meta, fixture('call-8k.mp3'));
    const res = await postRaw(t, body, contentType);
    expect(res.status).to.equal(422);
    expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).to.include('/endedAt');
    await expectNothingKept(t);
  });

  it('bounds the duration of a WAV whose header lies about its byte rate by the bytes received', async () => {
    const wav = Buffer.from(fixture('call-pcm16-8k.wav'));
    wav.writeUInt32LE(1, 28); // fmt at 12: byte rate at 28 → one byte per second
    const { body, contentType } = recordingBody(callMeta(t.clock.now()), wav);
    const res = await postRaw(t, body, contentType);
    expect(res.status).to.equal(201);
    const row = await t.db('recordings').where({ id: res.body.id }).first();
    // 8 kHz × 16 bit mono is 16 000 bytes a second; no telephone codec needs fewer than 6 kbit/s.
    expect(row.duration_ms === null || row.duration_ms <= Math.ceil((wav.length * 8 * 1000) / 6000)).to.equal(true);
  });

  it('does not audit a refusal of an unauthenticated upload, but still audits an authenticated one', async () => {
    const before = await auditCount(t);
    const { body, contentType } = recordingBody(callMeta(t.clock.now()), fixture('call-8k.mp3'));
    expect((await postRaw(t, body, contentType, { forged: true })).status).to.equal(401);
    expect((await request(t.app).post('/v1/recordings').set('Content-Type', contentType).send(body)).status).to.equal(401);
    expect(await auditCount(t)).to.equal(before);
    const bad = recordingBody(callMeta(t.clock.now(), { callId: 'a/b' }), fixture('call-8k.mp3'));
    expect((await postRaw(t, bad.body, bad.contentType)).status).to.equal(422);
    expect(await auditCount(t)).to.equal(before + 1);
    const metrics = await t.services.metrics.metrics();
    const counted = [...metrics.matchAll(/^gallra_unauthenticated_refusals_total\{[^}]*route="webhook"[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(counted).to.equal(2);
  });
});
