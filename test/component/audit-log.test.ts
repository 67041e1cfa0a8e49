import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync, readFileSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import sinon from 'sinon';
import request from 'supertest';
import { scheduleAuditCheckpoints } from '../../jobs/audit-checkpoint.js';
import { readStoredPages } from '../../src/audit-log/audit-repository.js';
import { verifyAuditPages, type AuditEntry } from '../../src/audit-log/index.js';
import { readAll as readAuditEntries } from '../../src/audit-log/audit-repository.js';
import { itOn, secretsEnv, startTestApp, type TestApp } from '../helpers/test-app.js';
import { asTx } from '../../src/shared/database.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const newKey = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

async function entries(t: TestApp): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  for await (const e of readAuditEntries(t.db)) out.push(e);
  return out;
}

/** Appends n entries the way the service does, one transaction each. */
async function seed(t: TestApp, n: number, action = 'recording.played'): Promise<void> {
  for (let i = 0; i < n; i++) {
    await t.db.transaction((trx) => t.services.audit.append(asTx(trx), { actor: 'trainer:tok_seed', action, subject: `recording:r${i}`, details: { i, note: 'a "quoted", comma' } }));
    t.clock.advance(1000);
  }
}

const parseNdjson = (text: string) => text.trim().split('\n').map((l) => JSON.parse(l) as AuditEntry);

describe('the audit log API (/v1/audit)', () => {
  let t: TestApp;
  let auditor: string;
  beforeEach(async () => {
    t = await startTestApp({ config: { auditSigningKey: newKey() } });
    auditor = await t.token('auditor');
    await seed(t, 5);
  });
  afterEach(async () => {
    sinon.restore();
    await t.close();
  });

  it('streams the log as NDJSON with seq, prevHash and hash, and audits the export with the actor', async () => {
    const res = await request(t.app).get('/v1/audit').set('Authorization', `Bearer ${auditor}`).expect(200);
    expect(res.type).to.equal('application/x-ndjson');
    const lines = parseNdjson(res.text);
    const stored = await entries(t);
    expect(lines).to.deep.equal(stored);
    const last = lines.at(-1)!;
    expect(last.action).to.equal('audit.exported');
    expect(last.actor).to.match(/^auditor:/);
    expect(last.details).to.deep.equal({ format: 'ndjson', filter: {} });
    for (const l of lines) expect(l).to.have.keys('seq', 'at', 'actor', 'action', 'subject', 'details', 'prevHash', 'hash');
  });

  it('answers CSV for Swedish Excel (BOM, ";") for format=csv and for Accept: text/csv, quoting as RFC 4180 does', async () => {
    const a = await request(t.app).get('/v1/audit?format=csv').set('Authorization', `Bearer ${auditor}`).expect(200);
    const b = await request(t.app).get('/v1/audit').set('Accept', 'text/csv').set('Authorization', `Bearer ${auditor}`).expect(200);
    for (const res of [a, b]) {
      expect(res.type).to.equal('text/csv');
      expect([...Buffer.from(res.text).subarray(0, 3)], 'UTF-8 byte-order mark').to.deep.equal([0xef, 0xbb, 0xbf]);
      const rows = res.text.replace(/^\uFEFF/, '').trimEnd().split('\r\n');
      expect(rows[0]).to.equal('seq;at;actor;action;subject;details;prevHash;hash');
      expect(rows.some((r) => r.includes('"{""i"":0,""note"":""a \\""quoted\\"", comma""}"'))).to.equal(true);
    }
    const all = await entries(t);
    expect(all.filter((e) => e.action === 'audit.exported').map((e) => e.details.format)).to.deep.equal(['csv', 'csv']);
  });

  it('filters by action, subject and time, and pages by seq with after and limit', async () => {
    const auth = { Authorization: `Bearer ${auditor}` };
    const bySubject = parseNdjson((await request(t.app).get('/v1/audit?subject=recording:r2').set(auth).expect(200)).text);
    expect(bySubject.map((e) => e.subject)).to.deep.equal(['recording:r2']);
    const byAction = parseNdjson((await request(t.app).get('/v1/audit?action=token.created').set(auth).expect(200)).text);
    expect(byAction).to.have.length(1);
    const all = await entries(t);
    const from = all[2]!.at;
    const to = all[4]!.at;
    const byTime = parseNdjson((await request(t.app).get(`/v1/audit?from=${from}&to=${to}`).set(auth).expect(200)).text);
    expect(byTime.map((e) => e.seq)).to.deep.equal([all[2]!.seq, all[3]!.seq]);
    const page1 = parseNdjson((await request(t.app).get('/v1/audit?limit=2').set(auth).expect(200)).text);
    const page2 = parseNdjson((await request(t.app).get(`/v1/audit?limit=2&after=${page1.at(-1)!.seq}`).set(auth).expect(200)).text);
    expect([...page1, ...page2].map((e) => e.seq)).to.deep.equal([1, 2, 3, 4]);
  });

  it('refuses a bad query naming the field, and other roles or no token', async () => {
    const res = await request(t.app).get('/v1/audit?from=yesterday&after=-1').set('Authorization', `Bearer ${auditor}`).expect(422);
    expect(res.type).to.equal('application/problem+json');
    expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).to.have.members(['/from', '/after']);
    await request(t.app).get('/v1/audit').set('Authorization', `Bearer ${await t.token('trainer')}`).expect(403);
    await request(t.app).get('/v1/audit/verify').expect(401);
    expect((await entries(t)).some((e) => e.action === 'audit.exported')).to.equal(false);
  });

  it('verifies a clean log and audits the verification', async () => {
    const res = await request(t.app).get('/v1/audit/verify').set('Authorization', `Bearer ${auditor}`).expect(200);
    expect(res.body).to.include({ ok: true, entries: 6 });
    expect(res.body.head.seq).to.equal(6);
    const last = (await entries(t)).at(-1)!;
    expect(last).to.include({ action: 'audit.verified' });
    expect(last.details).to.include({ ok: true, entries: 6, headSeq: 6 });
  });

  it('locates an entry edited in the database behind the service’s back', async () => {
    await t.db('audit_entries').where({ seq: 3 }).update({ actor: 'admin:someone-else' });
    const res = await request(t.app).get('/v1/audit/verify').set('Authorization', `Bearer ${auditor}`).expect(200);
    expect(res.body.ok).to.equal(false);
    expect(res.body.firstProblem).to.include({ seq: 3, kind: 'hash-mismatch' });
  });

  it('counts even a re-formatted but equal details text in the database as an edit', async () => {
    const row = await t.db('audit_entries').where({ seq: 4 }).first();
    await t.db('audit_entries').where({ seq: 4 }).update({ details: JSON.stringify(JSON.parse(row.details), null, 1) });
    const v = await t.services.auditCheckpoints.verify();
    expect(v.firstProblem).to.include({ seq: 4, kind: 'hash-mismatch' });
  });

  itOn('sqlite')('reads the SQLite table a page at a time and locates an edit, a removal, a NUL, a text seq or a BLOB on either side of a page boundary', async () => {
    // Text that JSON escapes, or that is not ASCII, reaches the hash exactly as stored.
    await t.db.transaction((trx) => t.services.audit.append(asTx(trx), { actor: 'trainer:tok_åäö', action: 'recording.played', subject: 'recording:r😀', details: { note: 'tab\t nl\n \u0001 \u2028 "q" \\ 😀 ö' } }));
    await seed(t, 13); // 20 entries: pages of 4 are seq 1–4, 5–8, …, 17–20
    const verifyInPagesOf4 = () => verifyAuditPages(readStoredPages(t.db, 4, 3), [], null);
    const clean = await verifyInPagesOf4();
    expect(clean).to.include({ ok: true, entries: 20 });
    expect(clean.head).to.deep.equal({ seq: 20, hash: (await entries(t)).at(-1)!.hash });

    /** Changes one row, verifies, and puts the row back. */
    const tampered = async (seq: number, change: (row: Record<string, unknown>) => Promise<unknown>) => {
      const row = await t.db('audit_entries').where({ seq }).first();
      await change(row);
      const v = await verifyInPagesOf4();
      await t.db('audit_entries').where({ seq }).del();
      await t.db('audit_entries').insert(row);
      return v;
    };
    for (const seq of [8, 9, 20]) {
      const v = await tampered(seq, () => t.db('audit_entries').where({ seq }).update({ details: '{"i":99}' }));
      expect(v.firstProblem, `edit of ${seq}`).to.include({ seq, kind: 'hash-mismatch' });
      expect(v.entries).to.equal(seq - 1);
    }
    for (const seq of [4, 5, 12]) {
      const v = await tampered(seq, () => t.db('audit_entries').where({ seq }).del());
      expect(v.firstProblem, `removal of ${seq}`).to.include({ seq, kind: 'seq-gap' });
    }
    // A NUL and what follows it must reach the hash: C string functions would stop at the NUL and hide the tail.
    const nul = await tampered(14, (row) => t.db('audit_entries').where({ seq: 14 }).update({ actor: `${row.actor}\u0000x` }));
    expect(nul.firstProblem).to.include({ seq: 14, kind: 'hash-mismatch' });
    // The separator of the page text inside a value: that page is read as rows, and the edit still found.
    const separator = await tampered(15, (row) => t.db('audit_entries').where({ seq: 15 }).update({ actor: `${row.actor}\u001f` }));
    expect(separator.firstProblem).to.include({ seq: 15, kind: 'hash-mismatch' });
    // A seq written as text that reads as the same number ("0x10" is 16) is not the entry that was hashed.
    await t.db('audit_entries').where({ seq: 16 }).update({ seq: '0x10' });
    expect((await verifyInPagesOf4()).firstProblem).to.include({ seq: 16, kind: 'seq-gap' });
    await t.db('audit_entries').where({ seq: '0x10' }).update({ seq: 16 });
    // SQLite keeps a BLOB even in a text column.
    const blob = await tampered(10, () => t.db('audit_entries').where({ seq: 10 }).update({ actor: Buffer.from('trainer:tok_other') }));
    expect(blob.firstProblem).to.include({ seq: 10, kind: 'hash-mismatch' });
    expect(await verifyInPagesOf4()).to.include({ ok: true, entries: 20 });
  });

  it('verifies entries whose text holds the separator of the page text, and still locates an edit among them', async () => {
    // A callId is the phone system's text; nothing stops it from holding U+001F.
    for (let i = 0; i < 3; i++) {
      await t.db.transaction((trx) => t.services.audit.append(asTx(trx), { actor: 'phone-system:webhook', action: 'recording.ingested', subject: `call:odd\u001fid-${i}`, details: { callId: `odd\u001fid-${i}` } }));
    }
    expect(await verifyAuditPages(readStoredPages(t.db, 4, 3), [], null)).to.include({ ok: true, entries: 9 });
    expect(await t.services.auditCheckpoints.verify()).to.include({ ok: true, entries: 9 });
    await t.db('audit_entries').where({ seq: 7 }).update({ subject: 'call:odd\u001fid-9' });
    expect((await t.services.auditCheckpoints.verify()).firstProblem).to.include({ seq: 7, kind: 'hash-mismatch' });
  });

  it('locates a BLOB written into a text column through the service’s own verification', async () => {
    await t.db('audit_entries').where({ seq: 2 }).update({ details: Buffer.from('{"i":1,"note":"a \\"quoted\\", comma!"}') });
    const v = await t.services.auditCheckpoints.verify();
    expect(v.firstProblem).to.include({ seq: 2, kind: 'hash-mismatch' });
  });

  it('signs checkpoints into the table and the store, lists them and serves the public key', async () => {
    const cp = await t.services.auditCheckpoints.create();
    expect(cp!.seq).to.equal(6);
    expect(await t.services.auditCheckpoints.create()).to.equal(null); // head unchanged: nothing to sign
    expect(await t.db('audit_checkpoints').count({ n: '*' }).first()).to.deep.equal({ n: 1 });
    expect(await t.store.exists('audit-checkpoints/000000000006.json')).to.equal(true);
    const list = await request(t.app).get('/v1/audit/checkpoints').set('Authorization', `Bearer ${auditor}`).expect(200);
    expect(list.body.checkpoints).to.deep.equal([cp]);
    const key = await request(t.app).get('/v1/audit/public-key').set('Authorization', `Bearer ${auditor}`).expect(200);
    expect(key.text).to.match(/^-----BEGIN PUBLIC KEY-----/);
    expect(key.headers['x-key-id']).to.equal(cp!.keyId);
  });

  it('signs the head once more when the checkpoint job stops (service shutdown)', async () => {
    const job = scheduleAuditCheckpoints({ checkpoints: t.services.auditCheckpoints, logger: t.services.logger });
    await job.stop();
    const rows = await t.db('audit_checkpoints').select('seq');
    expect(rows.map((r: { seq: number }) => Number(r.seq))).to.deep.equal([6]);
  });

  it('detects a tail truncated behind a checkpoint even when the checkpoint rows are deleted too', async () => {
    await seed(t, 3);
    await t.services.auditCheckpoints.create(); // head 9
    await t.db('audit_entries').where('seq', '>', 4).del();
    await t.db('audit_checkpoints').del(); // the copy in the store still tells
    const v = await t.services.auditCheckpoints.verify();
    expect(v.ok).to.equal(false);
    expect(v.firstProblem).to.include({ seq: 5, kind: 'truncated' });
  });

  it('detects a tail rewritten with fresh hashes behind a checkpoint', async () => {
    await t.services.auditCheckpoints.create(); // head 6
    await seed(t, 2);
    const all = await entries(t);
    // Rewrite entry 4 onwards with correct hashes, as someone with write access to the table could.
    const { hashEntry } = await import('../../src/audit-log/index.js');
    let prev = all[2]!.hash;
    for (const e of all.slice(3)) {
      const unsigned = { ...e, details: { ...e.details, rewritten: true }, prevHash: prev };
      delete (unsigned as Partial<AuditEntry>).hash;
      const hash = hashEntry(unsigned);
      await t.db('audit_entries').where({ seq: e.seq }).update({ details: JSON.stringify(unsigned.details), prev_hash: prev, hash });
      prev = hash;
    }
    const v = await t.services.auditCheckpoints.verify();
    expect(v.firstProblem).to.include({ seq: 6, kind: 'checkpoint-mismatch', earliestSeq: 1 });
  });

  it('npm run audit:verify exits 0 on a clean log and non-zero naming the first broken entry', async function () {
    this.timeout(120_000);
    await t.services.auditCheckpoints.create();
    const env = { ...process.env, DATA_DIR: t.dir, DATABASE_URL: t.config.databaseUrl, ...secretsEnv(t.config), AUDIT_SIGNING_KEY: t.config.auditSigningKey, LOG_LEVEL: 'silent' };
    const ok = await run(process.execPath, ['--import', 'tsx', 'scripts/audit-verify.ts'], { cwd: ROOT, env });
    expect(JSON.parse(ok.stdout)).to.include({ ok: true, entries: 6 });
    await t.db('audit_entries').where({ seq: 2 }).del();
    const err = await run(process.execPath, ['--import', 'tsx', 'scripts/audit-verify.ts'], { cwd: ROOT, env }).then(
      () => expect.fail('should have failed'),
      (e: { code: number; stderr: string }) => e,
    );
    expect(err.code).to.equal(1);
    expect(err.stderr).to.match(/BROKEN at seq 2 \(seq-gap\)/);
  });

  it('exports over HTTP and verifies offline with scripts/verify-audit-export and openssl, as documented', async function () {
    this.timeout(120_000);
    await t.services.auditCheckpoints.create();
    const dir = path.join(t.dir, 'auditor');
    mkdirSync(path.join(dir, 'checkpoints'), { recursive: true });
    const auth = { Authorization: `Bearer ${auditor}` };
    writeFileSync(path.join(dir, 'audit.ndjson'), (await request(t.app).get('/v1/audit').set(auth).expect(200)).text);
    writeFileSync(path.join(dir, 'audit-public.pem'), (await request(t.app).get('/v1/audit/public-key').set(auth).expect(200)).text);
    // The checkpoint objects exactly as the store holds them.
    const cpDir = path.join(t.dir, 'objects', 'audit-checkpoints');
    for (const f of readdirSync(cpDir).filter((f) => /^\d{12}\.json$/.test(f))) copyFileSync(path.join(cpDir, f), path.join(dir, 'checkpoints', f));

    const args = ['--import', 'tsx', 'scripts/verify-audit-export.ts', '--export', path.join(dir, 'audit.ndjson'), '--public-key', path.join(dir, 'audit-public.pem'), '--checkpoints', path.join(dir, 'checkpoints')];
    const ok = await run(process.execPath, args, { cwd: ROOT });
    const verdict = JSON.parse(ok.stdout);
    expect(verdict).to.include({ ok: true, entries: 7 });
    expect(verdict.checkpoints.valid).to.equal(1);

    // docs/audit-log.md, "Checking a checkpoint with openssl": the same commands, run by a shell.
    const cpFile = path.join(dir, 'checkpoints', '000000000006.json');
    const sh = `
      set -e
      CP=${cpFile}
      printf '{"at":"%s","hash":"%s","seq":%s}' "$(jq -r .at "$CP")" "$(jq -r .hash "$CP")" "$(jq -r .seq "$CP")" > checkpoint.msg
      jq -r .signature "$CP" | base64 -d > checkpoint.sig
      openssl pkeyutl -verify -pubin -inkey audit-public.pem -rawin -in checkpoint.msg -sigfile checkpoint.sig
    `;
    const good = await run('sh', ['-c', sh], { cwd: dir });
    expect(good.stdout).to.match(/Signature Verified Successfully/);

    // Tamper with one line of the export: the offline verifier names it; a forged checkpoint fails openssl.
    const lines = readFileSync(path.join(dir, 'audit.ndjson'), 'utf8').trim().split('\n');
    lines[3] = lines[3]!.replace('trainer:tok_seed', 'trainer:tok_other');
    writeFileSync(path.join(dir, 'audit.ndjson'), lines.join('\n') + '\n');
    const bad = await run(process.execPath, args, { cwd: ROOT }).then(() => expect.fail('should fail'), (e: { code: number; stderr: string }) => e);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.match(/BROKEN at seq 4 \(hash-mismatch\)/);
    const cp = JSON.parse(readFileSync(cpFile, 'utf8'));
    writeFileSync(cpFile, JSON.stringify({ ...cp, seq: 5 }));
    const forged = await run('sh', ['-c', sh], { cwd: dir }).then(() => expect.fail('should fail'), (e: { code: number; stdout: string }) => e);
    expect(forged.stdout).to.match(/Signature Verification Failure/);
  });
});
