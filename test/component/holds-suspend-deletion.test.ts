import { expect } from 'chai';
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';

describe('a hold suspends every deletion, not only the retention job', () => {
  let t: TestApp;
  let admin: string;
  beforeEach(async () => {
    t = await startTestApp();
    admin = await t.token('admin');
  });
  afterEach(async () => t.close());

  async function ingest(caller: string): Promise<{ id: string; callId: string }> {
    const meta = callMeta(t.clock.now(), { caller });
    const { body, contentType } = recordingBody(meta, fixture('call-8k.mp3'));
    const res = await request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body);
    expect(res.status).to.equal(201);
    return { id: res.body.id, callId: meta.callId };
  }

  it('keeps a held recording when its caller opts out with deleteExisting, deletes the rest, and never plays it again', async () => {
    const held = await ingest('070-123 45 67');
    const other = await ingest('+46701234567');
    const hold = await request(t.app).post(`/v1/recordings/${held.id}/hold`).set('Authorization', `Bearer ${admin}`).send({ reason: 'public records request' });
    expect(hold.status).to.be.oneOf([200, 201]);

    const res = await request(t.app).post('/v1/opt-outs').set('Authorization', `Bearer ${admin}`).send({ number: '0701234567', deleteExisting: true });
    expect(res.status).to.equal(201);
    expect(res.body).to.include({ deletedRecordings: 1, keptUnderHold: 1 });

    const rows = await t.db('recordings').whereIn('id', [held.id, other.id]).select('id', 'status');
    expect(Object.fromEntries(rows.map((r) => [r.id, r.status]))).to.deep.equal({ [held.id]: 'stored', [other.id]: 'deleted' });
    const row = await t.db('recordings').where({ id: held.id }).first();
    expect(await t.store.exists(row.storage_key)).to.equal(true);

    const trainer = await t.token('trainer');
    const play = await request(t.app).get(`/v1/recordings/${held.id}/audio`).set('Authorization', `Bearer ${trainer}`);
    expect(play.status).to.equal(410);
  });

  it('answers a call opt-out of a held recording with status held and keeps the recording', async () => {
    const rec = await ingest('+46463550000');
    await request(t.app).post(`/v1/recordings/${rec.id}/hold`).set('Authorization', `Bearer ${admin}`).send({ reason: 'complaint under review' });
    const res = await request(t.app).post(`/v1/calls/${rec.callId}/opt-out`).set('Authorization', `Bearer ${admin}`).send({});
    expect(res.status).to.be.oneOf([200, 201]);
    expect(res.body.status).to.equal('held');
    expect((await t.db('recordings').where({ id: rec.id }).first()).status).to.equal('stored');
    expect(await t.db('audit_entries').where({ action: 'recording.deleted' }).count({ n: '*' })).to.deep.equal([{ n: 0 }]);
  });
});
