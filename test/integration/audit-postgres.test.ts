import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import sinon from 'sinon';
import request from 'supertest';
import { readStoredPages } from '../../src/audit-log/audit-repository.js';
import { verifyAuditPages } from '../../src/audit-log/index.js';
import { createDatabase, asTx } from '../../src/shared/database.js';
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
      Array.from({ length: 40 }, (_, i) => t.db.transaction((trx) => t.services.audit.append(asTx(trx), { actor: 'system:test', action: 'recording.played', subject: `recording:r${i}`, details: { i } }))),
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

  it('reads the table a page at a time as text joined by PostgreSQL, and locates an edit, a NULL or a separator in a later page', async () => {
    for (let i = 0; i < 30; i++) {
      await t.db.transaction((trx) => t.services.audit.append(asTx(trx), { actor: 'system:test', action: 'recording.played', subject: i % 3 ? `recording:r${i}` : null, details: { i, note: 'åäö "quoted" \\ 😀' } }));
    }
    const verifyInPagesOf7 = () => verifyAuditPages(readStoredPages(t.db, 7, 3), [], null);
    expect(await verifyInPagesOf7()).to.include({ ok: true, entries: 30 });
    expect(await t.services.auditCheckpoints.verify()).to.include({ ok: true, entries: 30 });

    await t.db('audit_entries').where({ seq: 22 }).update({ details: '{"i": 21}' });
    let v = await verifyInPagesOf7();
    expect(v.firstProblem).to.include({ seq: 22, kind: 'hash-mismatch' });
    expect(v.entries).to.equal(21);

    // A NULL drops its row from the page text. A forger who hides the original row inside the values of
    // the row before would line the text up again; counting the NULLs sends that page to be read as rows.
    await t.db.raw('alter table audit_entries alter column actor drop not null');
    const [r15, r16] = [await t.db('audit_entries').where({ seq: 15 }).first(), await t.db('audit_entries').where({ seq: 16 }).first()];
    const subject16 = r16.subject === null ? 'n' : `s${r16.subject}`;
    const hiding = [r15.details, r15.prev_hash, r15.hash, r16.seq, r16.at, r16.actor, r16.action, subject16, r16.details].join('\u001f');
    await t.db('audit_entries').where({ seq: 15 }).update({ details: hiding, prev_hash: r16.prev_hash, hash: r16.hash });
    await t.db('audit_entries').where({ seq: 16 }).update({ actor: null, action: 'recording.deleted' });
    v = await verifyInPagesOf7();
    expect(v.ok).to.equal(false);
    expect(v.firstProblem).to.include({ seq: 15, kind: 'broken-link' });

    await t.db('audit_entries').where({ seq: 9 }).update({ action: 'recording.played\u001f' });
    v = await verifyInPagesOf7();
    expect(v.firstProblem).to.include({ seq: 9, kind: 'hash-mismatch' });
  });
});
