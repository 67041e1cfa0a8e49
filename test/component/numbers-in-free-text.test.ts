import { expect } from 'chai';
import sinon from 'sinon';
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';

async function upload(t: TestApp, over: Record<string, unknown>) {
  const { body, contentType } = recordingBody(callMeta(t.clock.now(), over), fixture('call-8k.mp3'));
  return request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body);
}

describe('numbers in free text and paths never reach storage or the logs', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(async () => {
    sinon.restore();
    await t.close();
  });

  for (const [field, value] of [
    ['queue', '046-35 50 00'],
    ['queue', 'ring 070 123 45 67'],
    ['agentId', '+4646355000'],
    ['agentId', 'agent0046701234567'],
  ] as const) {
    it(`refuses ${field} ${JSON.stringify(value)} with 422 naming /${field}, and stores nothing`, async () => {
      const res = await upload(t, { [field]: value });
      expect(res.status).to.equal(422);
      expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).to.include(`/${field}`);
      expect(JSON.stringify(res.body)).not.to.contain(value);
      expect(await t.db('recordings').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
    });
  }

  it('still accepts ordinary queue names and agent ids', async () => {
    expect((await upload(t, { queue: 'bygglov 2', agentId: 'agent-17' })).status).to.equal(201);
  });

  for (const reason of ['ring tillbaka 046/355000', 'kund 070-123 45 67', 'nr +46 (0)46 35 50 00']) {
    it(`refuses the hold reason ${JSON.stringify(reason)} with 422 naming /reason, leaving holds and the audit log untouched`, async () => {
      const stored = await upload(t, {});
      const admin = await t.token('admin');
      const before = await t.db('audit_entries').count({ n: '*' });
      const res = await request(t.app).post(`/v1/recordings/${stored.body.id}/hold`).set('Authorization', `Bearer ${admin}`).send({ reason });
      expect(res.status).to.equal(422);
      expect(res.body.errors[0].pointer).to.equal('/reason');
      expect(await t.db('holds').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
      expect(await t.db('audit_entries').count({ n: '*' })).to.deep.equal(before);
      const del = await request(t.app).delete(`/v1/recordings/${stored.body.id}`).set('Authorization', `Bearer ${admin}`).send({ reason });
      expect(del.status).to.equal(422);
    });
  }

  it('refuses an access token named with a number', async () => {
    let err: unknown;
    try {
      await t.services.tokens.create({ role: 'trainer', name: 'Anna 070-123 45 67' }, 'system:test');
    } catch (e) {
      err = e;
    }
    expect((err as { details?: { errors?: { pointer: string }[] } }).details?.errors?.[0]?.pointer).to.equal('/name');
  });

  it('logs request paths with ids masked, so a number put in a URL is not written', async () => {
    const phone = await t.token('phone-system');
    await request(t.app).post('/v1/calls/0701234567/opt-out').set('Authorization', `Bearer ${phone}`).send({});
    await request(t.app).get('/v1/recordings/046355000').set('Authorization', `Bearer ${phone}`);
    await request(t.app).get('/no/such/070-1234567');
    const logs = t.logs();
    expect(logs).to.contain('"path":"/v1/calls/:id/opt-out"');
    for (const needle of ['0701234567', '046355000', '070-1234567']) expect(logs, needle).not.to.contain(needle);
  });
});
