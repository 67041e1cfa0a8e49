import { expect } from 'chai';
import sinon from 'sinon';
import request from 'supertest';
import { createDatabase } from '../../src/shared/database.js';
import { itOn, startTestApp, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders, type CallMeta } from '../helpers/webhook.js';

function upload(t: TestApp, meta: CallMeta) {
  const { body, contentType } = recordingBody(meta, fixture('call-pcm16-8k.wav'));
  return request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body);
}

describe('opt-outs under concurrent requests', () => {
  let t: TestApp;
  let phone: string;
  beforeEach(async () => {
    t = await startTestApp();
    phone = await t.token('phone-system');
  });
  afterEach(async () => {
    sinon.restore();
    await t.close();
  });

  it('registers, checks and removes a number in any of its formats', async () => {
    const auth = { Authorization: `Bearer ${phone}` };
    const reg = await request(t.app).post('/v1/opt-outs').set(auth).send({ number: '070-123 45 67' });
    expect(reg.status).to.equal(201);
    expect((await request(t.app).post('/v1/opt-outs').set(auth).send({ number: '0046701234567' })).body.id).to.equal(reg.body.id);
    expect((await request(t.app).post('/v1/opt-outs/check').set(auth).send({ number: '+46701234567' })).body).to.deep.equal({ optedOut: true, record: false, reason: 'caller-opted-out' });
    expect((await request(t.app).post('/v1/opt-outs/remove').set(auth).send({ number: '+46701234567' })).body.removed).to.equal(true);
    expect((await request(t.app).post('/v1/opt-outs/check').set(auth).send({ number: '+46701234567' })).body).to.deep.equal({ optedOut: false, record: true });
  });

  itOn('postgres')('answers a check on one instance for a number registered or removed on another at once (two instances on PostgreSQL: no in-memory copy)', async () => {
    // A second instance: its own app and connection pool, the same database and caller-key secret.
    const pg2 = createDatabase(t.config.databaseUrl);
    const other = await startTestApp({ db: pg2, config: { callerKeySecret: t.config.callerKeySecret } });
    try {
      const here = { Authorization: `Bearer ${phone}` };
      const there = { Authorization: `Bearer ${await other.token('phone-system')}` };
      const check = async () => (await request(other.app).post('/v1/opt-outs/check').set(there).send({ number: '070-123 45 67' })).body;
      expect(await check()).to.deep.equal({ optedOut: false, record: true }); // the other instance has answered once before the registration
      expect((await request(t.app).post('/v1/opt-outs').set(here).send({ number: '+46701234567' })).status).to.equal(201);
      expect(await check()).to.deep.equal({ optedOut: true, record: false, reason: 'caller-opted-out' });
      expect((await request(t.app).post('/v1/opt-outs/remove').set(here).send({ number: '+46701234567' })).body.removed).to.equal(true);
      expect(await check()).to.deep.equal({ optedOut: false, record: true });
    } finally {
      await other.close();
    }
  });

  it('leaves nothing of the number stored when deleteExisting lands in the middle of many concurrent uploads', async () => {
    const metas = Array.from({ length: 12 }, () => callMeta(t.clock.now(), { caller: '+46701234567' }));
    const uploads = metas.map((m) => upload(t, m).then((r) => r));
    const reg = request(t.app).post('/v1/opt-outs').set('Authorization', `Bearer ${phone}`).send({ number: '0701234567', deleteExisting: true }).then((r) => r);
    const results = await Promise.all(uploads);
    expect((await reg).status).to.be.oneOf([200, 201]);
    for (const r of results) expect(r.status, JSON.stringify(r.body)).to.be.oneOf([200, 201]);

    const stored = await t.db('recordings').where({ status: 'stored' });
    expect(stored, 'recordings of an opted-out number still stored').to.have.length(0);
    const keys: string[] = [];
    for await (const o of t.store.list('recordings/')) keys.push(o.key);
    expect(keys).to.deep.equal([]);
    const rows = await t.db('recordings').select('status', 'reason');
    expect(rows).to.have.length(12);
    for (const r of rows) expect(r.reason).to.equal('number-opted-out');
  });

  it('discards an upload whose call was opted out concurrently, whichever commits first', async () => {
    const metas = Array.from({ length: 8 }, () => callMeta(t.clock.now()));
    const all = await Promise.all([
      ...metas.map((m) => upload(t, m).then((r) => r)),
      ...metas.map((m) => request(t.app).post(`/v1/calls/${m.callId}/opt-out`).set('Authorization', `Bearer ${phone}`).send({}).then((r) => r)),
    ]);
    for (const r of all) expect(r.status, JSON.stringify(r.body)).to.be.oneOf([200, 201, 202]);
    expect(await t.db('recordings').where({ status: 'stored' })).to.have.length(0);
    const keys: string[] = [];
    for await (const o of t.store.list('recordings/')) keys.push(o.key);
    expect(keys).to.deep.equal([]);
  });
});
