import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import sinon from 'sinon';
import request from 'supertest';
import { createDatabase } from '../../src/shared/database.js';
import { createPostgresDatabase } from '../helpers/postgres.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

describe('the audit log on PostgreSQL (concurrent appends, checkpoints, verification, report)', () => {
  let t: TestApp;
  let drop: () => Promise<void>;
  beforeEach(async () => {
    const pg = await createPostgresDatabase();
    drop = pg.drop;
    const key = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    t = await startTestApp({ db: createDatabase(pg.url), config: { auditSigningKey: key } });
  });
  afterEach(async () => {
    sinon.restore();
    await t.close();
    await drop();
  });

  it('keeps one unbroken chain under concurrent appends, checkpoints it, and detects a truncated tail', async () => {
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => t.db.transaction((trx) => t.services.audit.append(trx, { actor: 'system:test', action: 'recording.played', subject: `recording:r${i}`, details: { i } }))),
    );
    const [a, b] = await Promise.all([t.services.auditCheckpoints.create(), t.services.auditCheckpoints.create()]);
    expect([a, b].filter(Boolean)).to.have.length(1); // both try the same head: one row, no error
    const auditor = await t.token('auditor');
    const ok = await request(t.app).get('/v1/audit/verify').set('Authorization', `Bearer ${auditor}`).expect(200);
    expect(ok.body).to.include({ ok: true, entries: 41 });
    expect(ok.body.checkpoints.valid).to.equal(1);
    const lines = (await request(t.app).get('/v1/audit?limit=5&after=10').set('Authorization', `Bearer ${auditor}`).expect(200)).text.trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).seq)).to.deep.equal([11, 12, 13, 14, 15]);
    await request(t.app).get('/v1/reports/retention?from=2026-01-01&to=2027-01-01').set('Authorization', `Bearer ${auditor}`).expect(200);

    await t.db('audit_entries').where('seq', '>', 30).del();
    const v = await t.services.auditCheckpoints.verify();
    expect(v.firstProblem).to.include({ seq: 31, kind: 'truncated' });
  });
});
