import { expect } from 'chai';
import sinon from 'sinon';
import request from 'supertest';
import { DAY_MS } from '../../src/shared/clock.js';
import type { Role } from '../../src/shared/principal.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders, type CallMeta } from '../helpers/webhook.js';

async function ingest(t: TestApp, overrides: Partial<CallMeta>, minutesAgo = 10): Promise<string> {
  const { body, contentType } = recordingBody(callMeta(t.clock.now(), overrides, minutesAgo), fixture('call-pcm16-8k.wav'));
  const res = await request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body);
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body.id;
}

describe('The pickers of the recording list, case-insensitive filters and the list of holds', () => {
  let t: TestApp;
  const tokens = {} as Record<Role, string>;
  beforeEach(async () => {
    t = await startTestApp();
    for (const r of ['trainer', 'auditor', 'admin', 'phone-system'] as const) tokens[r] = await t.token(r);
  });
  afterEach(async () => {
    sinon.restore();
    await t.close();
  });
  const as = (role: Role) => ({ Authorization: `Bearer ${tokens[role]}` });

  it('offers the queues and agents that occur, sorted and once each; a trainer only those of calls still there to hear', async () => {
    await ingest(t, { queue: 'Bygglov', agentId: 'agent-2' });
    await ingest(t, { queue: 'Bygglov', agentId: 'agent-1' }, 20);
    await ingest(t, { queue: 'Äldreomsorg', agentId: 'agent-1' }, 30);
    const gone = await ingest(t, { queue: 'Skola', agentId: 'agent-9' }, 40);
    const del = await request(t.app).delete(`/v1/recordings/${gone}`).set(as('admin')).send({ reason: 'Fel samtal' });
    expect(del.status, JSON.stringify(del.body)).to.equal(200);

    const admin = await request(t.app).get('/v1/recordings/filters').set(as('admin'));
    expect(admin.status).to.equal(200);
    expect(admin.headers['cache-control']).to.equal('no-store');
    expect(admin.body.queues).to.have.members(['Bygglov', 'Skola', 'Äldreomsorg']).and.have.length(3);
    expect(admin.body.agentIds).to.deep.equal(['agent-1', 'agent-2', 'agent-9']);
    const trainer = await request(t.app).get('/v1/recordings/filters').set(as('trainer'));
    expect(trainer.body.queues, 'a deleted call is nothing a trainer can find').to.have.members(['Bygglov', 'Äldreomsorg']).and.have.length(2);
    expect(trainer.body.agentIds).to.deep.equal(['agent-1', 'agent-2']);
    expect((await request(t.app).get('/v1/recordings/filters').set(as('phone-system'))).status).to.equal(403);
    expect((await request(t.app).get('/v1/recordings/filters')).status).to.equal(401);
  });

  it('finds a queue or an agent whatever the case it is typed in, å, ä and ö included, and only a whole name', async () => {
    const bygglov = await ingest(t, { queue: 'Bygglov', agentId: 'Agent-17' });
    const aldre = await ingest(t, { queue: 'Äldreomsorg', agentId: 'agent-3' }, 20);
    await ingest(t, { queue: 'bygglov-tillsyn', agentId: 'agent-4' }, 30);
    const ids = async (query: Record<string, string>, role: Role = 'trainer') => {
      const res = await request(t.app).get('/v1/recordings').query(query).set(as(role));
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      return res.body.items.map((i: { id: string }) => i.id);
    };
    expect(await ids({ queue: 'bygglov' })).to.deep.equal([bygglov]);
    expect(await ids({ queue: 'BYGGLOV' }, 'admin')).to.deep.equal([bygglov]);
    expect(await ids({ queue: 'ÄLDREOMSORG' })).to.deep.equal([aldre]);
    expect(await ids({ queue: 'äldreomsorg', agentId: 'AGENT-3' })).to.deep.equal([aldre]);
    expect(await ids({ agentId: 'agent-17' })).to.deep.equal([bygglov]);
    expect(await ids({ queue: 'bygg' }), 'a part of a name is not the name').to.deep.equal([]);
    expect(await ids({ queue: 'bygglov', agentId: 'agent-3' })).to.deep.equal([]);
  });

  it('finds one call by the phone system\'s call id', async () => {
    const wanted = await ingest(t, { callId: 'mc-2026-0024', queue: 'Bygglov' });
    await ingest(t, { callId: 'mc-2026-0025', queue: 'Bygglov' }, 20);
    const res = await request(t.app).get('/v1/recordings').query({ callId: 'mc-2026-0024' }).set(as('admin'));
    expect(res.body.items.map((i: { id: string; callId: string }) => [i.id, i.callId])).to.deep.equal([[wanted, 'mc-2026-0024']]);
    expect((await request(t.app).get('/v1/recordings').query({ callId: 'mc-2026-9999' }).set(as('admin'))).body.items).to.deep.equal([]);
    const tooLong = await request(t.app).get('/v1/recordings').query({ callId: 'x'.repeat(129) }).set(as('admin'));
    expect(tooLong.status).to.equal(422);
    expect(tooLong.headers['content-type']).to.match(/problem\+json/);
  });

  it('lists the holds in force with their call, reason and end, and no longer once released', async () => {
    const kept = await ingest(t, { queue: 'Bygglov', agentId: 'agent-1', callId: 'mc-2026-0024' });
    const open = await ingest(t, { queue: 'Skola', agentId: 'agent-2' }, 20);
    const until = new Date(t.clock.now().getTime() + 10 * DAY_MS).toISOString();
    expect((await request(t.app).post(`/v1/recordings/${kept}/hold`).set(as('admin')).send({ reason: 'Begäran om utlämnande', until })).status).to.equal(201);
    expect((await request(t.app).post(`/v1/recordings/${open}/hold`).set(as('admin')).send({ reason: 'Tvist' })).status).to.equal(201);

    const res = await request(t.app).get('/v1/holds').set(as('admin'));
    expect(res.status).to.equal(200);
    expect(res.headers['cache-control']).to.equal('no-store');
    expect(res.body.items.map((h: { recordingId: string }) => h.recordingId), 'the one that ends first, first').to.deep.equal([kept, open]);
    expect(res.body.items[0]).to.include({ recordingId: kept, callId: 'mc-2026-0024', reason: 'Begäran om utlämnande', until, manual: true, releasedAt: null });
    expect(res.body.items[0].deadline).to.be.a('string');
    expect(res.body.items[1]).to.include({ recordingId: open, reason: 'Tvist', until: null });
    expect(JSON.stringify(res.body)).not.to.match(/caller/i);

    expect((await request(t.app).delete(`/v1/recordings/${kept}/hold`).set(as('admin'))).status).to.equal(200);
    const after = await request(t.app).get('/v1/holds').set(as('admin'));
    expect(after.body.items.map((h: { recordingId: string }) => h.recordingId)).to.deep.equal([open]);
    for (const role of ['trainer', 'auditor', 'phone-system'] as const) expect((await request(t.app).get('/v1/holds').set(as(role))).status, role).to.equal(403);
  });
});
