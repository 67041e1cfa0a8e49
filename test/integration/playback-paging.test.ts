import { expect } from 'chai';
import sinon from 'sinon';
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';

describe('playback and sessions', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(async () => {
    sinon.restore();
    await t.close();
  });

  it('pages the list with a cursor, serves a range and keeps a session', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const meta = callMeta(t.clock.now(), { queue: 'bygglov' }, 10 + i);
      const { body, contentType } = recordingBody(meta, fixture('call-8k.mp3'));
      const res = await request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body);
      expect(res.status).to.equal(201);
      ids.push(res.body.id);
    }
    const login = await request(t.app).post('/v1/session').send({ token: await t.token('trainer') });
    expect(login.status).to.equal(201);
    const cookie = ([] as string[]).concat(login.headers['set-cookie'] ?? [])[0]!.split(';')[0]!;

    const first = await request(t.app).get('/v1/recordings').query({ limit: 2 }).set('Cookie', cookie);
    expect(first.status).to.equal(200);
    const second = await request(t.app).get('/v1/recordings').query({ limit: 2, cursor: first.body.nextCursor }).set('Cookie', cookie);
    expect([...first.body.items, ...second.body.items].map((i: { id: string }) => i.id)).to.deep.equal(ids);
    expect(second.body.nextCursor).to.equal(null);
    expect(first.body.items[0].durationMs).to.be.within(11_000, 12_000);

    const range = await request(t.app).get(`/v1/recordings/${ids[0]}/audio`).set('Cookie', cookie).set('Range', 'bytes=0-9');
    expect(range.status).to.equal(206);
    expect(range.headers['content-range']).to.equal(`bytes 0-9/${fixture('call-8k.mp3').length}`);
    expect(await t.db('audit_entries').where({ action: 'recording.played' }).count({ n: '*' }).first()).to.satisfy((r: { n: string | number }) => Number(r.n) === 1);
  });
});
