import { expect } from 'chai';
import sinon from 'sinon';
import request from 'supertest';
import { readAll as readAuditEntries } from '../../src/audit-log/audit-repository.js';
import type { Role } from '../../src/shared/principal.js';
import * as recordingRepository from '../../src/recordings/recording-repository.js';
import { DAY_MS } from '../../src/shared/clock.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders, type CallMeta } from '../helpers/webhook.js';

const CALLER = '+46701234567';

async function auditActions(t: TestApp, action: string) {
  const out = [];
  for await (const e of readAuditEntries(t.db)) if (e.action === action) out.push(e);
  return out;
}

async function ingest(t: TestApp, overrides: Partial<CallMeta> = {}, file = 'call-pcm16-8k.wav', minutesAgo = 10): Promise<string> {
  const meta = callMeta(t.clock.now(), overrides, minutesAgo);
  const { body, contentType } = recordingBody(meta, fixture(file));
  const res = await request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body);
  expect(res.status, JSON.stringify(res.body)).to.be.oneOf([200, 201]);
  return res.body.id ?? res.body.callId;
}

const ROLES: Role[] = ['trainer', 'auditor', 'admin', 'phone-system'];

describe('Playback API: listing, metadata and audio', () => {
  let t: TestApp;
  const tokens = {} as Record<Role, string>;
  beforeEach(async () => {
    t = await startTestApp();
    for (const r of ROLES) tokens[r] = await t.token(r);
  });
  afterEach(async () => {
    sinon.restore();
    await t.close();
  });
  const as = (role: Role) => ({ Authorization: `Bearer ${tokens[role]}` });

  describe('role matrix', () => {
    const matrix: [string, string, Role[]][] = [
      ['GET', '/v1/recordings', ['trainer', 'auditor', 'admin']],
      ['GET', '/v1/recordings/:id', ['trainer', 'admin']],
      ['GET', '/v1/recordings/:id/audio', ['trainer', 'admin']],
      ['HEAD', '/v1/recordings/:id/audio', ['trainer', 'admin']],
    ];
    for (const [method, path, allowed] of matrix) {
      it(`${method} ${path} answers 401 without credentials, 403 to ${ROLES.filter((r) => !allowed.includes(r)).join(', ')} and 200 to ${allowed.join(', ')}`, async () => {
        const id = await ingest(t);
        const url = path.replace(':id', id);
        const send = (h: Record<string, string>) => (method === 'HEAD' ? request(t.app).head(url) : request(t.app).get(url)).set(h);
        expect((await send({})).status).to.equal(401);
        for (const role of ROLES) {
          const res = await send(as(role));
          expect(res.status, `${role} ${method} ${url}`).to.equal(allowed.includes(role) ? 200 : 403);
          if (!allowed.includes(role) && method !== 'HEAD') expect(res.headers['content-type']).to.match(/application\/problem\+json/);
        }
      });
    }
  });

  it('lists a call with its duration, deadline and days left, and never a caller field', async () => {
    const id = await ingest(t, { queue: 'bygglov', agentId: 'agent-17' });
    for (const role of ['trainer', 'auditor', 'admin'] as const) {
      const res = await request(t.app).get('/v1/recordings').set(as(role));
      expect(res.status).to.equal(200);
      expect(res.headers['cache-control']).to.equal('no-store');
      const item = res.body.items.find((i: { id: string }) => i.id === id);
      expect(item).to.include({ queue: 'bygglov', agentId: 'agent-17', contentType: 'audio/wav', status: 'stored', daysLeft: 30 });
      expect(item.durationMs, t.logs().split("\n").filter((l) => /duration/.test(l)).join("\n")).to.be.within(11_400, 11_600);
      expect(Object.keys(item).some((k) => /caller/i.test(k)), Object.keys(item).join()).to.equal(false);
      expect(JSON.stringify(res.body)).not.to.contain('4670');
    }
    const meta = await request(t.app).get(`/v1/recordings/${id}`).set(as('trainer'));
    expect(Object.keys(meta.body).some((k) => /caller/i.test(k))).to.equal(false);
    const row = await t.db('recordings').where({ id }).first();
    expect(row.caller_key, 'the key is kept for opt-outs, just never shown').to.be.a('string');
  });

  it('stores the duration read from the audio for every supported format', async () => {
    for (const file of ['call-8k.mp3', 'call.opus', 'call-16k.flac', 'call-alaw-8k.wav']) {
      const id = await ingest(t, {}, file);
      const r = await recordingRepository.findById(t.db, id);
      expect(r!.durationMs, file).to.be.within(11_000, 12_000);
    }
  });

  it('filters by queue, agent and start time and pages with a cursor, newest first', async () => {
    for (let i = 0; i < 5; i++) await ingest(t, { queue: i % 2 ? 'skola' : 'bygglov', agentId: `agent-${i}` }, 'call-pcm16-8k.wav', 10 + i * 60);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: request.Response = await request(t.app).get('/v1/recordings').query({ limit: 2, ...(cursor ? { cursor } : {}) }).set(as('trainer'));
      expect(res.status).to.equal(200);
      expect(res.body.items.length).to.be.at.most(2);
      seen.push(...res.body.items.map((i: { startedAt: string }) => i.startedAt));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).to.have.length(5);
    expect([...seen].sort().reverse()).to.deep.equal(seen);

    const skola = await request(t.app).get('/v1/recordings').query({ queue: 'skola' }).set(as('trainer'));
    expect(skola.body.items.map((i: { queue: string }) => i.queue)).to.deep.equal(['skola', 'skola']);
    const agent = await request(t.app).get('/v1/recordings').query({ agentId: 'agent-3' }).set(as('trainer'));
    expect(agent.body.items).to.have.length(1);
    const from = new Date(t.clock.now().getTime() - 75 * 60_000).toISOString();
    const recent = await request(t.app).get('/v1/recordings').query({ from }).set(as('trainer'));
    expect(recent.body.items).to.have.length(2);
  });

  it('refuses a bad cursor, limit or date naming the field', async () => {
    for (const [q, pointer] of [[{ cursor: 'nonsense' }, '/cursor'], [{ limit: '0' }, '/limit'], [{ from: 'yesterday' }, '/from']] as const) {
      const res = await request(t.app).get('/v1/recordings').query(q).set(as('trainer'));
      expect(res.status).to.equal(422);
      expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).to.include(pointer);
    }
  });

  it('serves the whole audio with Accept-Ranges and no-store, and audits the listening once', async () => {
    const id = await ingest(t);
    const audio = fixture('call-pcm16-8k.wav');
    const res = await request(t.app).get(`/v1/recordings/${id}/audio`).set(as('trainer')).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    expect(res.status).to.equal(200);
    expect(res.headers).to.include({ 'content-type': 'audio/wav', 'accept-ranges': 'bytes', 'cache-control': 'no-store', 'content-length': String(audio.length) });
    expect(Buffer.compare(res.body as Buffer, audio)).to.equal(0);
    const played = await auditActions(t, 'recording.played');
    expect(played).to.have.length(1);
    expect(played[0]!.subject).to.equal(`recording:${id}`);
    expect(played[0]!.actor).to.match(/^trainer:tok_/);
    expect(JSON.stringify(played[0]!.details)).not.to.match(/4670|caller/i);
  });

  it('answers a single range with 206 and Content-Range, auditing only the range that starts at 0', async () => {
    const id = await ingest(t);
    const audio = fixture('call-pcm16-8k.wav');
    const first = await request(t.app).get(`/v1/recordings/${id}/audio`).set(as('trainer')).set('Range', 'bytes=0-99');
    expect(first.status).to.equal(206);
    expect(first.headers['content-range']).to.equal(`bytes 0-99/${audio.length}`);
    expect(first.headers['content-length']).to.equal('100');
    const seek = await request(t.app).get(`/v1/recordings/${id}/audio`).set(as('trainer')).set('Range', 'bytes=1000-').buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    expect(seek.status).to.equal(206);
    expect(seek.headers['content-range']).to.equal(`bytes 1000-${audio.length - 1}/${audio.length}`);
    expect(Buffer.compare(seek.body as Buffer, audio.subarray(1000))).to.equal(0);
    expect(await auditActions(t, 'recording.played')).to.have.length(1);
  });

  it('answers an unsatisfiable range with 416 and the size, without auditing', async () => {
    const id = await ingest(t);
    const size = fixture('call-pcm16-8k.wav').length;
    const res = await request(t.app).get(`/v1/recordings/${id}/audio`).set(as('trainer')).set('Range', `bytes=${size + 10}-`);
    expect(res.status).to.equal(416);
    expect(res.headers['content-range']).to.equal(`bytes */${size}`);
    expect(res.headers['content-type']).to.match(/problem\+json/);
    expect(await auditActions(t, 'recording.played')).to.have.length(0);
  });

  it('answers HEAD with the length and range support, without a body or an audit entry', async () => {
    const id = await ingest(t);
    const res = await request(t.app).head(`/v1/recordings/${id}/audio`).set(as('admin'));
    expect(res.status).to.equal(200);
    expect(res.headers).to.include({ 'accept-ranges': 'bytes', 'content-length': String(fixture('call-pcm16-8k.wav').length), 'content-type': 'audio/wav' });
    expect(await auditActions(t, 'recording.played')).to.have.length(0);
  });

  it('checks the store on HEAD as GET does: 503 while the store is down, 410 when the object is gone', async () => {
    const id = await ingest(t);
    const exists = sinon.stub(t.store, 'exists').rejects(new Error('connect ECONNREFUSED'));
    const down = await request(t.app).head(`/v1/recordings/${id}/audio`).set(as('admin'));
    expect(down.status).to.equal(503);
    exists.resolves(false);
    expect((await request(t.app).head(`/v1/recordings/${id}/audio`).set(as('admin'))).status).to.equal(410);
  });

  it('answers 410 for a deleted recording and hides it from trainers but not from auditors', async () => {
    const id = await ingest(t);
    const rec = await recordingRepository.findById(t.db, id);
    const report = await t.services.deleteRecordings([rec!], { reason: 'test', actor: 'system:test' });
    expect(report.deleted).to.deep.equal([id]);
    const audio = await request(t.app).get(`/v1/recordings/${id}/audio`).set(as('trainer'));
    expect(audio.status).to.equal(410);
    expect(audio.body.type).to.match(/recording-deleted$/);
    expect((await request(t.app).get(`/v1/recordings/${id}`).set(as('trainer'))).status).to.equal(410);
    expect((await request(t.app).get(`/v1/recordings/${id}`).set(as('admin'))).body).to.include({ status: 'deleted' });
    const trainer = await request(t.app).get('/v1/recordings').set(as('trainer'));
    expect(trainer.body.items.map((i: { id: string }) => i.id)).not.to.include(id);
    const auditor = await request(t.app).get('/v1/recordings').set(as('auditor'));
    expect(auditor.body.items.map((i: { id: string }) => i.id)).to.include(id);
    expect(await auditActions(t, 'recording.played')).to.have.length(0);
  });

  it('hides a discarded call from trainers and answers 410 for its audio', async () => {
    await ingest(t, { optOut: true });
    const row = await t.db('recordings').where({ status: 'discarded' }).first();
    expect((await request(t.app).get('/v1/recordings').set(as('trainer'))).body.items).to.have.length(0);
    expect((await request(t.app).get(`/v1/recordings/${row.id}/audio`).set(as('admin'))).status).to.equal(410);
  });

  it('answers 410 for a recording whose caller has since opted out, and no longer lists it for trainers', async () => {
    const id = await ingest(t, { caller: CALLER });
    const optOut = await request(t.app).post('/v1/opt-outs').set(as('admin')).send({ number: CALLER, deleteExisting: false });
    expect(optOut.status, JSON.stringify(optOut.body)).to.be.oneOf([200, 201]);
    const res = await request(t.app).get(`/v1/recordings/${id}/audio`).set(as('trainer'));
    expect(res.status).to.equal(410);
    expect((await request(t.app).get('/v1/recordings').set(as('trainer'))).body.items.map((i: { id: string }) => i.id)).not.to.include(id);
    expect(await auditActions(t, 'recording.played')).to.have.length(0);
  });

  it('no longer lists or plays a recording to trainers once its deadline has passed, while an admin still can', async () => {
    const id = await ingest(t);
    t.clock.advance(30 * DAY_MS);
    expect((await request(t.app).get('/v1/recordings').set(as('trainer'))).body.items).to.have.length(0);
    const res = await request(t.app).get(`/v1/recordings/${id}/audio`).set(as('trainer'));
    expect(res.status).to.equal(410);
    expect(res.body.type).to.match(/recording-expired$/);
    expect((await request(t.app).head(`/v1/recordings/${id}/audio`).set(as('admin'))).status).to.equal(200);
  });

  it('counts days left from the injected clock', async () => {
    const id = await ingest(t);
    t.clock.advance(20 * DAY_MS);
    const res = await request(t.app).get(`/v1/recordings/${id}`).set(as('trainer'));
    expect(res.body.daysLeft).to.equal(10);
  });

  it('answers 404 for an unknown recording and 422 for an id that is not a uuid', async () => {
    expect((await request(t.app).get('/v1/recordings/3b241101-e2bb-4255-8caf-4136c566a962/audio').set(as('trainer'))).status).to.equal(404);
    const bad = await request(t.app).get('/v1/recordings/not-an-id').set(as('trainer'));
    expect(bad.status).to.equal(422);
    expect(bad.body.errors[0].pointer).to.equal('/id');
  });
});
