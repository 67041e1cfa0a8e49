import { expect } from 'chai';
import sinon from 'sinon';
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';

/** The spellings an attack run got into the database, the audit log and the logs (issue #23). */
const SPELLINGS = ['070,123,45,67', '070_123_45_67', '070:123:45:67', '070*123*45*67', '070|1234567', '070#1234567', '０７０１２３４５６７', 'call-0701234567', '46701234567'];
/** Those a call id's or request id's character set lets through: only the number detector stops them. */
const ID_SHAPED = ['070_123_45_67', '070:123:45:67', 'call-0701234567', '46701234567'];

async function upload(t: TestApp, over: Record<string, unknown>) {
  const { body, contentType } = recordingBody(callMeta(t.clock.now(), over), fixture('call-8k.mp3'));
  return request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body);
}

const TABLES = ['recordings', 'holds', 'subject_requests', 'access_tokens', 'call_opt_outs', 'audit_entries'] as const;

describe('numbers in any spelling, in any field, are refused 422 and stored nowhere (issue #23)', () => {
  let t: TestApp;
  let admin: string;
  let phone: string;
  let recordingId: string;
  const counts = async () => Object.fromEntries(await Promise.all(TABLES.map(async (table) => [table, Number((await t.db(table).count({ n: '*' }))[0]!.n)] as const)));

  before(async () => {
    t = await startTestApp();
    admin = await t.token('admin');
    phone = await t.token('phone-system');
    const stored = await upload(t, {});
    expect(stored.status).to.equal(201);
    recordingId = stored.body.id;
  });
  afterEach(() => sinon.restore());
  after(async () => {
    // Nothing any refused request sent is anywhere in the database or the logs.
    const contents = (await t.databaseContents()).toString('latin1') + (await t.databaseContents()).toString('utf8');
    const logs = t.logs();
    for (const s of [...SPELLINGS, '0701234567', '701234567']) {
      expect(contents, s).not.to.contain(s);
      expect(logs, s).not.to.contain(s);
    }
    await t.close();
  });

  function expectRefused(res: request.Response, pointer: string, value: string) {
    expect(res.status, JSON.stringify(res.body)).to.equal(422);
    expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
    expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).to.include(pointer);
    expect(JSON.stringify(res.body)).not.to.contain(value);
  }

  for (const s of SPELLINGS) {
    it(`refuses queue and agentId ${JSON.stringify(s)} at the webhook, storing nothing`, async () => {
      const start = await counts();
      expectRefused(await upload(t, { queue: s }), '/queue', s);
      expectRefused(await upload(t, { agentId: `agent ${s}` }), '/agentId', s);
      // An authentic upload's refusal is audited, without the call's metadata.
      expect(await counts()).to.deep.equal({ ...start, audit_entries: start.audit_entries! + 2 });
      const refusals = await t.db('audit_entries').where('seq', '>', start.audit_entries!).select('action', 'subject');
      expect(refusals).to.deep.equal([{ action: 'recording.refused', subject: null }, { action: 'recording.refused', subject: null }]);
    });

    it(`refuses the hold and deletion reason ${JSON.stringify(s)}, storing nothing`, async () => {
      const start = await counts();
      expectRefused(await request(t.app).post(`/v1/recordings/${recordingId}/hold`).set('Authorization', `Bearer ${admin}`).send({ reason: `ring ${s}` }), '/reason', s);
      expectRefused(await request(t.app).delete(`/v1/recordings/${recordingId}`).set('Authorization', `Bearer ${admin}`).send({ reason: s }), '/reason', s);
      expect(await counts()).to.deep.equal(start);
    });

    it(`refuses the subject-request reference and note ${JSON.stringify(s)}, storing nothing`, async () => {
      const start = await counts();
      const open = (extra: Record<string, unknown>) =>
        request(t.app).post('/v1/subject-requests').set('Authorization', `Bearer ${admin}`).send({ kind: 'access', number: '+46 46 35 50 00', receivedAt: '2026-11-02', reference: 'KS 2026/1234', ...extra });
      expectRefused(await open({ reference: s }), '/reference', s);
      expectRefused(await open({ note: `Kunden nås på ${s}` }), '/note', s);
      expect(await counts()).to.deep.equal(start);
    });

    it(`refuses the audit acknowledgement reason and the token name ${JSON.stringify(s)}`, async () => {
      const start = await counts();
      expectRefused(await request(t.app).post('/v1/audit/acknowledgements').set('Authorization', `Bearer ${admin}`).send({ seq: 1, kind: 'checkpoint-mismatch', reason: `se ${s}` }), '/reason', s);
      // Tokens are made by the token CLI, through this use case.
      const err = await t.services.tokens.create({ role: 'trainer', name: `Anna ${s}` }, 'system:test').then(() => undefined, (e: unknown) => e);
      expect((err as { details?: { errors?: { pointer: string }[] } })?.details?.errors?.[0]?.pointer).to.equal('/name');
      expect(await counts()).to.deep.equal(start);
    });
  }

  for (const s of ID_SHAPED) {
    it(`refuses the call id ${JSON.stringify(s)} with 422 saying it holds a phone number, storing nothing`, async () => {
      const start = await counts();
      const res = await upload(t, { callId: s });
      expectRefused(res, '/callId', s);
      expect(res.body.errors.find((e: { pointer: string }) => e.pointer === '/callId').detail).to.match(/must not contain a phone number/);
      expectRefused(await request(t.app).post(`/v1/calls/${encodeURIComponent(s)}/opt-out`).set('Authorization', `Bearer ${phone}`).send({}), '/callId', s);
      expect(await counts()).to.deep.equal({ ...start, audit_entries: start.audit_entries! + 1 });
    });

    it(`replaces the request id ${JSON.stringify(s)} by a generated one, never echoed`, async () => {
      const res = await request(t.app).get('/healthz').set('X-Request-Id', s);
      expect(res.headers['x-request-id']).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    });
  }

  it('still echoes a request id that holds no number, and accepts call ids in generated shapes', async () => {
    expect((await request(t.app).get('/healthz').set('X-Request-Id', 'req-2026-12-07-0001')).headers['x-request-id']).to.equal('req-2026-12-07-0001');
    expect((await upload(t, { callId: 'CA0812345678a0812345678a08123456ab', queue: 'bygglov2', agentId: 'KS 2026/1234' })).status).to.equal(201);
    expect((await upload(t, { callId: '07012345-6789-4abc-8def-0123456789ab' })).status).to.equal(201);
  });
});
