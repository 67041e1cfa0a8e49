import { expect } from 'chai';
import request from 'supertest';
import { DAY_MS } from '../../src/shared/clock.js';
import { auditEntries } from '../helpers/retention.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';

describe('pending call opt-outs expire after the retention period', () => {
  let t: TestApp;
  let phone: string;
  beforeEach(async () => {
    t = await startTestApp();
    phone = await t.token('phone-system');
  });
  afterEach(async () => t.close());

  const optOutCall = (callId: string) => request(t.app).post(`/v1/calls/${encodeURIComponent(callId)}/opt-out`).set('Authorization', `Bearer ${phone}`).send({ source: 'ivr' });

  it('forgets an opt-out of a call that never arrived once the retention period has passed, audited in the retention run, and keeps the others', async () => {
    const pending = await optOutCall('call-that-never-came');
    expect(pending.status).to.equal(202);
    const arrived = callMeta(t.clock.now());
    const { body, contentType } = recordingBody(arrived, fixture('call-8k.mp3'));
    expect((await request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body)).status).to.equal(201);
    const done = await optOutCall(arrived.callId);
    expect(done.body.status).to.equal('deleted');

    // One day short of the retention period: still awaited.
    t.clock.advance(29 * DAY_MS);
    const early = await t.services.retention.run();
    expect(early.expiredCallOptOuts).to.deep.equal([]);
    expect(await t.db('call_opt_outs').where({ id: pending.body.id }).first()).to.not.equal(undefined);

    t.clock.advance(DAY_MS + 1000);
    const later = await t.services.retention.run();
    expect(later.expiredCallOptOuts).to.deep.equal([pending.body.id]);
    expect(await t.db('call_opt_outs').where({ id: pending.body.id }).first()).to.equal(undefined);
    expect(await t.db('call_opt_outs').where({ id: done.body.id }).first()).to.include({ call_id: arrived.callId });
    const expired = await auditEntries(t.db, 'call.opt-out-expired');
    expect(expired).to.have.length(1);
    expect(expired[0]).to.include({ actor: 'system:retention', subject: 'call:call-that-never-came' });
    expect(expired[0]!.details).to.include({ callOptOutId: pending.body.id, callId: 'call-that-never-came', source: 'ivr' });
    expect(expired[0]!.details.requestedAt).to.be.a('string');

    // Nothing left to expire: a second run appends nothing.
    expect((await t.services.retention.run()).expiredCallOptOuts).to.deep.equal([]);
    expect(await auditEntries(t.db, 'call.opt-out-expired')).to.have.length(1);
  });

  it('lists what would expire on a dry run without forgetting it', async () => {
    const pending = await optOutCall('call-still-awaited');
    t.clock.advance(31 * DAY_MS);
    const dry = await t.services.retention.run({ dryRun: true });
    expect(dry.expiredCallOptOuts).to.deep.equal([pending.body.id]);
    expect(await t.db('call_opt_outs').where({ id: pending.body.id }).first()).to.not.equal(undefined);
    expect(await auditEntries(t.db, 'call.opt-out-expired')).to.have.length(0);
  });
});
