import { expect } from 'chai';
import sinon from 'sinon';
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';

// A number used nowhere else (not even in the service's own help texts), in every way it is written.
const FORMATS = ['073-555 12 34', '073-5551234', '073 555 12 34', '0735551234', '+46735551234', '+46 73 555 12 34', '0046735551234', '46735551234', '735551234'];

/** The bytes also as UTF-16 (SQLite may store text so) and without separators, to catch any encoding of the digits. */
function needles(n: string): Buffer[] {
  return [Buffer.from(n, 'utf8'), Buffer.from(n, 'utf16le')];
}

describe('opt-outs never keep a caller number in clear', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(async () => {
    sinon.restore();
    await t.close();
  });

  it('leaves no format of the number in the database file, the logs or the audit log after every opt-out path', async () => {
    const phone = await t.token('phone-system');
    const auth = { Authorization: `Bearer ${phone}` };
    const upload = async (caller: string, extra: object = {}) => {
      const meta = callMeta(t.clock.now(), { caller, ...extra });
      const { body, contentType } = recordingBody(meta, fixture('call-pcm16-8k.wav'));
      const res = await request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body);
      expect(res.status).to.be.oneOf([200, 201]);
      return meta;
    };

    // Stored before any opt-out, then deleted by deleteExisting; one more kept for after-the-fact opt-out.
    await upload(FORMATS[0]!);
    const kept = await upload(FORMATS[4]!);
    for (const n of FORMATS) {
      expect((await request(t.app).post('/v1/opt-outs/check').set(auth).send({ number: n })).body.optedOut).to.equal(false);
    }
    expect((await request(t.app).post(`/v1/calls/${kept.callId}/opt-out`).set(auth).send({ source: 'agent' })).status).to.equal(200);
    for (const n of FORMATS) {
      const res = await request(t.app).post('/v1/opt-outs').set(auth).send({ number: n, deleteExisting: true, source: 'web' });
      expect(res.status, n).to.be.oneOf([200, 201]);
    }
    for (const n of FORMATS) await upload(n); // all discarded by the registry
    for (const n of FORMATS) expect((await request(t.app).post('/v1/opt-outs/check').set(auth).send({ number: n })).body.optedOut).to.equal(true);
    expect((await request(t.app).post('/v1/opt-outs/remove').set(auth).send({ number: FORMATS[6] })).body.removed).to.equal(true);
    await upload(FORMATS[2]!);
    await upload(FORMATS[3]!, { optOut: true });
    // Malformed input echoing the number elsewhere in the body must not leak it either.
    await request(t.app).post('/v1/opt-outs').set(auth).send({ number: FORMATS[1], source: 'fax' });

    const rows = await t.db('recordings').select('status');
    expect(rows.filter((r) => r.status === 'stored')).to.have.length(1);

    const callerKey = t.services.callerKeys.of(FORMATS[4]!);
    const auditText = JSON.stringify(await t.db('audit_entries').select());
    expect(auditText, 'audit table').not.to.include(callerKey);
    expect(t.logs(), 'logs').not.to.include(callerKey);

    const dbBytes = await t.databaseContents();
    const logs = Buffer.from(t.logs(), 'utf8');
    // The search does find what is there: the call id is in the file and the logs.
    expect(dbBytes.includes(Buffer.from(kept.callId))).to.equal(true);
    for (const n of FORMATS) {
      for (const needle of needles(n)) {
        expect(dbBytes.includes(needle), `database file holds ${n}`).to.equal(false);
        expect(logs.includes(needle), `logs hold ${n}`).to.equal(false);
      }
      expect(auditText.includes(n), `audit log holds ${n}`).to.equal(false);
    }
  });
});
