import { expect } from 'chai';
import request from 'supertest';
import { NUMBERS_MASKED } from '../../src/stored-numbers/index.js';
import { containsPhoneNumber, identifierHoldsPhoneNumber } from '../../src/shared/phone-number-text.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';

/** Digits of every number the rows below were given: none may be left anywhere once masked. */
const DIGITS = ['0701234567', '701234567', '46701234567', '070,123', '070_123', '070|123', '０７０'];

describe('numbers stored before every field was checked are masked, and the masking is audited (issue #23)', () => {
  let t: TestApp;
  let admin: string;
  beforeEach(async () => {
    t = await startTestApp();
    admin = await t.token('admin');
  });
  afterEach(async () => {
    await t.close();
  });

  async function upload(over: Record<string, unknown> = {}): Promise<string> {
    const { body, contentType } = recordingBody(callMeta(t.clock.now(), over), fixture('call-8k.mp3'));
    const res = await request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.id as string;
  }
  const auth = () => ({ Authorization: `Bearer ${admin}` });

  /** Rows as the attack run left them: the values went in before the fields were checked. */
  async function seedLegacyRows() {
    const withNumbers = await upload();
    const clean = await upload({ queue: 'bygglov2', agentId: 'agent-17' });
    await t.db('recordings').where({ id: withNumbers }).update({
      call_id: 'call-0701234567', queue: '070,123,45,67', agent_id: 'agent ０７０１２３４５６７',
      // A manual deletion's claim, its reason kept until the deletion is finished.
      deletion_details: JSON.stringify({ note: 'ringde från 070*123*45*67', callOptOutId: 'cop_0701234567ab' }),
    });
    const phone = await t.token('phone-system');
    expect((await request(t.app).post('/v1/calls/call-pending-1/opt-out').set('Authorization', `Bearer ${phone}`).send({})).status).to.equal(202);
    await t.db('call_opt_outs').where({ call_id: 'call-pending-1' }).update({ call_id: 'call-0701234567' });
    expect((await request(t.app).post(`/v1/recordings/${clean}/hold`).set(auth()).send({ reason: 'placeholder' })).status).to.equal(201);
    await t.db('holds').update({ reason: 'Kunden vill bli uppringd på 070|1234567' });
    // The service's own reason for a case's hold is left alone, whatever digits its id holds.
    await t.db('holds').insert({ id: 'hold_sr', recording_id: withNumbers, reason: 'subject-request:sr_0812345678abcdef', placed_at: t.clock.now().toISOString(), placed_by: 'system:test' });
    const opened = await request(t.app).post('/v1/subject-requests').set(auth()).send({ kind: 'access', number: '+46 46 35 50 00', receivedAt: '2026-11-02', reference: 'KS 2026/1234' });
    expect(opened.status).to.equal(201);
    await t.db('subject_requests').where({ id: opened.body.id }).update({ reference: 'KS 2026/1234 070_123_45_67', note: 'ring 46701234567 efter 14:00' });
    const { accessToken } = await t.services.tokens.create({ role: 'trainer', name: 'Anna' }, 'system:test');
    await t.db('access_tokens').where({ id: accessToken.id }).update({ name: 'Anna 070-123 45 67' });
    return { withNumbers, clean, caseId: opened.body.id as string, tokenId: accessToken.id };
  }

  it('masks queue, agent, call id, hold reason, case reference and note and token name, with one audit entry of counts and ids', async () => {
    const rows = await seedLegacyRows();
    const entriesBefore = Number((await t.db('audit_entries').count({ n: '*' }))[0]!.n);

    const summary = await t.services.maskStoredNumbers('system:test');

    expect(summary.counts).to.deep.equal({
      'recordings.callId': 1, 'recordings.queue': 1, 'recordings.agentId': 1, 'recordings.deletionNote': 1, 'call_opt_outs.callId': 1, 'holds.reason': 1,
      'subject_requests.reference': 1, 'subject_requests.note': 1, 'access_tokens.name': 1,
    });
    const rec = await t.db('recordings').where({ id: rows.withNumbers }).first();
    expect(rec.queue).to.equal('[nummer]');
    expect(rec.agent_id).to.equal('agent [nummer]');
    expect(rec.call_id).to.match(/^masked-[0-9a-f-]{36}$/);
    expect(JSON.parse(rec.deletion_details)).to.deep.equal({ note: 'ringde från [nummer]', callOptOutId: 'cop_0701234567ab' });
    expect(identifierHoldsPhoneNumber(rec.call_id)).to.equal(false);
    // The call opted out and its recording keep the same (masked) call id.
    expect((await t.db('call_opt_outs').first()).call_id).to.equal(rec.call_id);
    const cleanRec = await t.db('recordings').where({ id: rows.clean }).first();
    expect([cleanRec.queue, cleanRec.agent_id]).to.deep.equal(['bygglov2', 'agent-17']);
    expect((await t.db('holds').whereNot({ id: 'hold_sr' }).first()).reason).to.equal('Kunden vill bli uppringd på [nummer]');
    expect((await t.db('holds').where({ id: 'hold_sr' }).first()).reason).to.equal('subject-request:sr_0812345678abcdef');
    const sr = await t.db('subject_requests').where({ id: rows.caseId }).first();
    expect([sr.reference, sr.note]).to.deep.equal(['KS 2026/1234 [nummer]', 'ring [nummer] efter 14:00']);
    expect((await t.db('access_tokens').where({ id: rows.tokenId }).first()).name).to.equal('Anna [nummer]');

    const entries = await t.db('audit_entries').where('seq', '>', entriesBefore).orderBy('seq');
    expect(entries.map((e: { action: string }) => e.action)).to.deep.equal([NUMBERS_MASKED]);
    const details = JSON.parse(entries[0].details);
    expect(details.masked).to.equal(9);
    expect(details.rows.recordings).to.deep.equal([rows.withNumbers]);
    expect(details.rows.subject_requests).to.deep.equal([rows.caseId]);
    expect(details.rows.access_tokens).to.deep.equal([rows.tokenId]);
    for (const d of DIGITS) expect(entries[0].details, d).not.to.contain(d);

    // Nowhere in the database any more (the chain was never given these values: they went in behind it),
    // but the service's own ids, whatever digits they hold, are left alone).
    const contents = (await t.databaseContents()).toString('utf8').replaceAll('cop_0701234567ab', '');
    for (const d of DIGITS) expect(contents, d).not.to.contain(d);
    for (const value of [rec.queue, rec.agent_id, sr.reference, sr.note]) expect(containsPhoneNumber(value)).to.equal(false);
    const verify = await request(t.app).get('/v1/audit/verify').set(auth());
    expect(verify.body.ok, JSON.stringify(verify.body)).to.equal(true);
  });

  it('changes nothing and audits nothing when nothing stored holds a number (every start runs it)', async () => {
    await seedLegacyRows();
    await t.services.maskStoredNumbers('system:test');
    const entries = Number((await t.db('audit_entries').count({ n: '*' }))[0]!.n);
    const again = await t.services.maskStoredNumbers('system:test');
    expect(again).to.deep.equal({ masked: 0, counts: {}, rows: {} });
    expect(Number((await t.db('audit_entries').count({ n: '*' }))[0]!.n)).to.equal(entries);
  });

  it('pages through more rows than one page holds', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await upload());
    const rows = await t.db('recordings').select('id').orderBy('id');
    // A thousand and more rows would make the test slow: the page size is the repository's limit, asked here directly.
    const source = (await import('../../src/recordings/index.js')).createRecordingStoredText(t.db);
    const first = await source.page(null, 2);
    expect(first.next).to.equal(rows[1].id);
    const second = await source.page(first.next, 2);
    expect(second.next).to.equal(null);
    expect(second.values.map((v) => v.row)).to.include(rows[2].id);
  });
});
