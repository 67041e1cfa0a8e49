import { expect } from 'chai';
import request from 'supertest';
import { startTestApp, TEST_DATABASE, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';

/** The SQL statements (transaction control included) that one request sends to the database. */
async function statementsOf(t: TestApp, send: () => Promise<request.Response>): Promise<{ status: number; sql: string[] }> {
  const sql: string[] = [];
  const onQuery = (q: { sql: string }) => sql.push(q.sql);
  t.db.on('query', onQuery);
  try {
    const res = await send();
    return { status: res.status, sql };
  } finally {
    t.db.off('query', onQuery);
  }
}

function upload(t: TestApp, meta: ReturnType<typeof callMeta>) {
  const { body, contentType } = recordingBody(meta, fixture('call-pcm16-8k.wav'));
  return request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body);
}

for (const dialect of [TEST_DATABASE]) {
  describe(`ingest's database round trips (${dialect})`, () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await startTestApp();
    });
    afterEach(async () => {
      await t.close();
    });

    // Before the audio: is it a retry, which retention rule holds for its queue, has the call opted
    // out. After it: the transaction that checks the opt-outs and the rule again under their locks,
    // writes the row, wraps its data key under the deadline period's key (an upsert counting the
    // recordings the key covers, a read of its state, the wrapped key), and appends the audit entry
    // with its Merkle tree nodes (the peaks read, the new nodes written).
    const expected = dialect === 'sqlite' ? 15 : 17;
    it(`stores a recording in ${expected} statements: three reads before the audio, one transaction after it`, async () => {
      // Warm: the first upload may load what later ones find at hand.
      await upload(t, callMeta(t.clock.now()));
      const { status, sql } = await statementsOf(t, () => upload(t, callMeta(t.clock.now())));
      expect(status).to.equal(201);
      expect(sql, sql.join('\n')).to.have.length(expected);
      expect(sql.filter((q) => /^(BEGIN|COMMIT)/i.test(q)), 'one transaction').to.have.length(2);
    });

    it('answers a retry of a stored call from one read', async () => {
      const meta = callMeta(t.clock.now());
      expect((await upload(t, meta)).status).to.equal(201);
      const { status, sql } = await statementsOf(t, () => upload(t, meta));
      expect(status).to.equal(200);
      expect(sql.length, sql.join('\n')).to.equal(1);
    });
  });
}
