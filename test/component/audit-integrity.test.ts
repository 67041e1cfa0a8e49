import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import sinon from 'sinon';
import request from 'supertest';
import { scheduleAuditCheckpoints } from '../../jobs/audit-checkpoint.js';
import { createApp } from '../../src/app.js';
import { auditChainReadinessCheck, checkpointObjectBody, checkpointObjectKey, createSigner, hashEntry, type AuditEntry } from '../../src/audit-log/index.js';
import { readAll as readAuditEntries } from '../../src/audit-log/audit-repository.js';
import { createServices, type Services } from '../../src/services.js';
import { Conflict } from '../../src/shared/errors.js';
import { createLogger } from '../../src/shared/logger.js';
import { createS3Client, createS3ObjectStore, type ObjectStore } from '../../src/storage/index.js';
import { s3ConfigFor, startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { secretsEnv, startTestApp, TEST_METRICS_TOKEN, type TestApp } from '../helpers/test-app.js';
import { DATABASE_NAMES, TEST_DATABASE } from '../helpers/test-database.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

async function appendOne(s: Services, i: number): Promise<void> {
  await s.transaction((tx) => s.audit.append(tx, { actor: 'trainer:tok_seed', action: 'recording.played', subject: `recording:r${i}`, details: { i } }));
}

/** Appends until the head is at `seq`. */
async function growTo(s: Services, seq: number): Promise<void> {
  const head = (await s.db('audit_entries').max({ m: 'seq' }).first())?.m;
  for (let i = Number(head ?? 0) + 1; i <= seq; i++) await appendOne(s, i);
}

async function entries(s: Services): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  for await (const e of readAuditEntries(s.db)) out.push(e);
  return out;
}

async function objectText(store: ObjectStore, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of (await store.get(key)).body) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** What someone with write access to the table does: rewrite `from` onwards with fresh hashes, keep up to `until`. */
async function rewriteFrom(s: Services, from: number, until: number): Promise<void> {
  const all = await entries(s);
  let prev = all[from - 2]!.hash;
  for (const e of all.slice(from - 1, until)) {
    const details = e.seq === from ? { ...e.details, i: 'forged' } : e.details;
    const unsigned = { seq: e.seq, at: e.at, actor: e.actor, action: e.action, subject: e.subject, details, prevHash: prev };
    const hash = hashEntry(unsigned);
    await s.db('audit_entries').where({ seq: e.seq }).update({ details: JSON.stringify(details), prev_hash: prev, hash });
    prev = hash;
  }
  await s.db('audit_entries').where('seq', '>', until).del();
}

/** The same database and store behind a freshly built service, as after a restart; logs captured. */
function restart(t: TestApp, store: ObjectStore) {
  let logText = '';
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => (logText += c.toString('utf8')));
  const services = createServices({ config: t.config, db: t.db, store, logger: createLogger({ level: 'debug', stream: sink }), clock: t.clock });
  const app = createApp(services, { readinessChecks: [auditChainReadinessCheck(services.auditCheckpoints.state)] });
  return { services, app, logs: () => logText };
}

async function rejection(p: Promise<unknown>): Promise<Conflict> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(Conflict);
    return err as Conflict;
  }
  return expect.fail('resolved');
}

interface Variant {
  name: string;
  setUp(): Promise<{ t: TestApp; store: ObjectStore; env: Record<string, string>; tearDown(): Promise<void> }>;
}

let s3: S3TestServer | undefined;
const VARIANTS: Variant[] = [
  {
    name: `${DATABASE_NAMES[TEST_DATABASE]}, filesystem store`,
    async setUp() {
      const t = await startTestApp({ config: { auditSigningKey: KEY } });
      return { t, store: t.store, env: {}, tearDown: () => t.close() };
    },
  },
  {
    name: `${DATABASE_NAMES[TEST_DATABASE]}, S3 store (s3rver)`,
    async setUp() {
      s3 ??= await startS3Server();
      const cfg = s3ConfigFor(s3);
      const client = createS3Client(cfg);
      // Checkpoint keys are fixed, so each test gets an empty bucket of its own.
      const bucket = `audit-${Date.now()}-${Math.random().toString(16).slice(2, 8)}`;
      const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      const store = createS3ObjectStore({ client, bucket, sse: 'none' });
      const t = await startTestApp({ store, config: { auditSigningKey: KEY, storageDriver: 's3', s3: { ...cfg, bucket } } });
      const env = {
        STORAGE_DRIVER: 's3', S3_BUCKET: bucket, S3_ENDPOINT: cfg.endpoint!, S3_FORCE_PATH_STYLE: 'true', S3_ACCESS_KEY_ID: 'S3RVER',
        S3_SECRET_ACCESS_KEY: 'S3RVER', S3_REQUEST_CHECKSUM: 'when_required',
      };
      return { t, store, env, tearDown: async () => (await t.close(), client.destroy()) };
    },
  },
];

after(async () => {
  await s3?.close();
});

for (const variant of VARIANTS) {
  describe(`audit evidence against someone holding the database and the store (${variant.name})`, () => {
    let t: TestApp;
    let store: ObjectStore;
    let env: Record<string, string>;
    let tearDown: () => Promise<void>;
    beforeEach(async () => {
      ({ t, store, env, tearDown } = await variant.setUp());
    });
    afterEach(async () => {
      sinon.restore();
      await tearDown();
    });

    it('hole 1: a log rewritten behind a checkpoint is not re-signed, the original checkpoint survives, /readyz names the seq, audit:verify fails', async function () {
      this.timeout(120_000);
      const s = t.services;
      await growTo(s, 30);
      expect((await s.auditCheckpoints.create())!.seq).to.equal(30);
      await growTo(s, 60);
      expect((await s.auditCheckpoints.create())!.seq).to.equal(60);
      await growTo(s, 65);
      const original60 = await objectText(store, checkpointObjectKey(60));

      // The attack of issue #16: rewrite entry 50, drop the entries after 60 and the checkpoint rows from 60 on, restart.
      await rewriteFrom(s, 50, 60);
      await t.db('audit_checkpoints').where('seq', '>=', 60).del();
      const r = restart(t, store);
      const state = await r.services.auditCheckpoints.check('start');
      expect(state.ok).to.equal(false);
      expect(state.problem).to.include({ seq: 60, kind: 'checkpoint-mismatch', earliestSeq: 31 });
      expect(r.logs()).to.match(/audit chain does not verify/);

      const refused = await rejection(r.services.auditCheckpoints.create());
      expect(refused.code).to.equal('audit-chain-broken');
      expect(refused.details).to.include({ seq: 60, kind: 'checkpoint-mismatch' });
      expect(await objectText(store, checkpointObjectKey(60))).to.equal(original60);
      expect(await t.db('audit_checkpoints').where('seq', '>=', 60).count({ n: '*' }).first()).to.satisfy((c: { n: number | string }) => Number(c.n) === 0);

      const ready = await request(r.app).get('/readyz').expect(503);
      expect(ready.body.checks['audit-chain']).to.include({ ok: false, firstBrokenSeq: 60, kind: 'checkpoint-mismatch' });
      const metrics = await request(r.app).get('/metrics').set('Authorization', `Bearer ${TEST_METRICS_TOKEN}`).expect(200);
      expect(metrics.text).to.match(/^gallra_audit_chain_ok 0$/m);

      // The attacker holds the signing key too and signs the forged head himself: the store keeps the original.
      const forgedHead = (await entries(r.services)).at(-1)!;
      const forged = createSigner(KEY).sign({ seq: 60, hash: forgedHead.hash, at: t.clock.now().toISOString() });
      expect(await store.create(checkpointObjectKey(60), checkpointObjectBody(forged), { contentType: 'application/json' })).to.deep.equal({ created: false });
      expect(await objectText(store, checkpointObjectKey(60))).to.equal(original60);
      await t.db('audit_checkpoints').insert({ seq: 60, hash: forged.hash, at: forged.at, signature: forged.signature, key_id: forged.keyId, object_key: checkpointObjectKey(60) });
      for (let i = 61; i <= 65; i++) await appendOne(r.services, i);
      const v = await r.services.auditCheckpoints.verify();
      expect(v.ok).to.equal(false);
      expect(v.firstProblem).to.include({ seq: 60, kind: 'checkpoint-conflict' });

      const cliEnv = { ...process.env, ...env, DATA_DIR: t.dir, DATABASE_URL: t.config.databaseUrl, ...secretsEnv(t.config), AUDIT_SIGNING_KEY: KEY, LOG_LEVEL: 'silent' };
      const err = await run(process.execPath, ['--import', 'tsx', 'scripts/audit-verify.ts'], { cwd: ROOT, env: cliEnv }).then(
        () => expect.fail('audit:verify passed'),
        (e: { code: number; stderr: string }) => e,
      );
      expect(err.code).to.equal(1);
      expect(err.stderr).to.match(/BROKEN at seq 60 \(checkpoint-(conflict|mismatch)\)/);
    });

    it('hole 2: a database row and a store copy that disagree are a conflict, whichever holds the forgery', async () => {
      const s = t.services;
      await growTo(s, 8);
      const original = (await s.auditCheckpoints.create())!;
      const other = createSigner(KEY).sign({ seq: 8, hash: 'f'.repeat(64), at: original.at });
      // Forged row, original object.
      await t.db('audit_checkpoints').where({ seq: 8 }).update({ hash: other.hash, signature: other.signature });
      let v = await s.auditCheckpoints.verify();
      expect(v.firstProblem).to.include({ seq: 8, kind: 'checkpoint-conflict' });
      const listed = await s.auditCheckpoints.list();
      expect(listed.map((c) => c.hash).sort()).to.deep.equal([original.hash, other.hash].sort());
      // Original row, forged object (the store copy replaced behind the service's back).
      await t.db('audit_checkpoints').where({ seq: 8 }).update({ hash: original.hash, signature: original.signature });
      await store.delete([checkpointObjectKey(8)]);
      await store.create(checkpointObjectKey(8), checkpointObjectBody(other), { contentType: 'application/json' });
      v = await s.auditCheckpoints.verify();
      expect(v.firstProblem).to.include({ seq: 8, kind: 'checkpoint-conflict' });
      // A row and a store copy with the same hash but another signing time still disagree.
      const later = createSigner(KEY).sign({ seq: 8, hash: original.hash, at: new Date(Date.parse(original.at) + 1000).toISOString() });
      await store.delete([checkpointObjectKey(8)]);
      await store.create(checkpointObjectKey(8), checkpointObjectBody(later), { contentType: 'application/json' });
      v = await s.auditCheckpoints.verify();
      expect(v.firstProblem).to.include({ seq: 8, kind: 'checkpoint-conflict' });
      const refused = await rejection(s.auditCheckpoints.create());
      expect(refused.code).to.equal('audit-chain-broken');
    });

    it('hole 3: a store copy with an extra field, a repeated key, a non-canonical number or an unknown keyId fails, each with its reason', async () => {
      const s = t.services;
      await growTo(s, 5);
      const cp = (await s.auditCheckpoints.create())!;
      const key = checkpointObjectKey(5);
      const cases: [string, string, string][] = [
        [`{"seq":5,"hash":"${cp.hash}","at":"${cp.at}","signature":"${cp.signature}","keyId":"${cp.keyId}","note":"x"}`, 'malformed-checkpoint', 'extra-field'],
        [`{"seq":5,"hash":"${'0'.repeat(64)}","hash":"${cp.hash}","at":"${cp.at}","signature":"${cp.signature}","keyId":"${cp.keyId}"}`, 'malformed-checkpoint', 'repeated-key'],
        [`{"seq":5.0,"hash":"${cp.hash}","at":"${cp.at}","signature":"${cp.signature}","keyId":"${cp.keyId}"}`, 'malformed-checkpoint', 'non-canonical-number'],
        [`{"seq":5,"hash":"${cp.hash}","at":"${cp.at}","signature":"${cp.signature}","keyId":"${'a'.repeat(64)}"}`, 'checkpoint-key-id', ''],
      ];
      for (const [text, kind, reason] of cases) {
        await store.delete([key]);
        await store.create(key, Buffer.from(text + '\n'), { contentType: 'application/json' });
        const v = await s.auditCheckpoints.verify();
        expect(v.ok, text).to.equal(false);
        const problem = v.firstProblem!;
        expect(problem.kind, text).to.equal(kind);
        if (reason) expect(problem.reason, text).to.equal(reason);
      }
    });

    it('hole 4: verifies at start and before signing; a head regrown to the last checkpoint with another hash fails instead of being skipped', async () => {
      const s = t.services;
      await growTo(s, 12);
      await s.auditCheckpoints.create();
      // Cut back to 9 and regrow to 12 with other entries: the head is at the checkpoint's seq, with another hash.
      await t.db('audit_entries').where('seq', '>', 9).del();
      for (let i = 100; i < 103; i++) await appendOne(s, i);
      const r = restart(t, store);
      const state = await r.services.auditCheckpoints.check('start');
      expect(state.problem).to.include({ seq: 12, kind: 'checkpoint-mismatch' });
      expect(state.verifiedFrom).to.equal(12);
      const job = scheduleAuditCheckpoints({ checkpoints: r.services.auditCheckpoints, logger: r.services.logger });
      await job.stop(); // the shutdown run: refuses, and says so in the log
      expect(r.logs()).to.include('audit checkpoint failed');
      expect(await t.db('audit_checkpoints').count({ n: '*' }).first()).to.satisfy((c: { n: number | string }) => Number(c.n) === 1);
    });

    it('an admin acknowledges the problem found (naming it), which is audited; signing resumes over later entries and full verification still reports it', async () => {
      const s = t.services;
      await growTo(s, 6);
      await s.auditCheckpoints.create();
      await growTo(s, 9);
      await t.db('audit_entries').where({ seq: 8 }).update({ actor: 'trainer:tok_other' });
      const r = restart(t, store);
      await r.services.auditCheckpoints.check('start');
      const admin = (await r.services.tokens.create({ role: 'admin', name: 'dpo' }, 'system:test')).token;
      const auditor = (await r.services.tokens.create({ role: 'auditor', name: 'a' }, 'system:test')).token;
      await request(r.app).post('/v1/audit/checkpoints').set('Authorization', `Bearer ${auditor}`).expect(403);
      const refused = await request(r.app).post('/v1/audit/checkpoints').set('Authorization', `Bearer ${admin}`).expect(409);
      expect(refused.body).to.include({ status: 409 });
      expect(refused.body.type).to.match(/audit-chain-broken$/);
      await request(r.app).post('/v1/audit/acknowledgements').set('Authorization', `Bearer ${admin}`).send({ seq: 7, kind: 'hash-mismatch', reason: 'wrong one' }).expect(409);
      await request(r.app).post('/v1/audit/acknowledgements').set('Authorization', `Bearer ${admin}`).send({ seq: 8, kind: 'hash-mismatch' }).expect(422);
      const ack = await request(r.app)
        .post('/v1/audit/acknowledgements')
        .set('Authorization', `Bearer ${admin}`)
        .send({ seq: 8, kind: 'hash-mismatch', reason: 'edited by a migration script on 2026-11-28, ticket 4711' })
        .expect(201);
      expect(ack.body.acknowledged.entrySeq).to.be.a('number');
      const all = await entries(r.services);
      const entry = all.find((e) => e.seq === ack.body.acknowledged.entrySeq)!;
      expect(entry).to.include({ action: 'audit.problem-acknowledged' });
      expect(entry.details).to.include({ problemSeq: 8, problemKind: 'hash-mismatch', reason: 'edited by a migration script on 2026-11-28, ticket 4711' });
      expect((await request(r.app).get('/readyz').expect(200)).body.checks['audit-chain']).to.include({ ok: true, firstBrokenSeq: 8 });

      const signed = await request(r.app).post('/v1/audit/checkpoints').set('Authorization', `Bearer ${admin}`).expect(201);
      const head = (await entries(r.services)).at(-1)!;
      expect(head.action).to.equal('audit.checkpoint-requested');
      expect(signed.body.checkpoint).to.include({ seq: head.seq, hash: head.hash });
      expect((await r.services.auditCheckpoints.verify()).firstProblem).to.include({ seq: 8, kind: 'hash-mismatch' });
      // From the new checkpoint on, the chain verifies again.
      expect((await r.services.auditCheckpoints.check('test')).ok).to.equal(true);
    });

    it('records the repair when a chain it saw broken verifies again', async () => {
      const s = t.services;
      await growTo(s, 5);
      const row = await t.db('audit_entries').where({ seq: 3 }).first();
      await t.db('audit_entries').where({ seq: 3 }).update({ subject: 'recording:other' });
      expect((await s.auditCheckpoints.check('test')).problem).to.include({ seq: 3, kind: 'hash-mismatch' });
      await t.db('audit_entries').where({ seq: 3 }).update({ subject: row.subject }); // restored from a backup
      expect((await s.auditCheckpoints.check('test')).ok).to.equal(true);
      const repaired = (await entries(s)).filter((e) => e.action === 'audit.chain-repaired');
      expect(repaired).to.have.length(1);
      expect(repaired[0]!.details).to.include({ problemSeq: 3, problemKind: 'hash-mismatch' });
    });
  });
}

describe('checkpoint objects with S3 Object Lock', () => {
  it('asks the store for a compliance retention of the configured length on every checkpoint object', async () => {
    const t = await startTestApp({ config: { auditSigningKey: KEY, auditCheckpointRetentionMs: 10 * 365 * 86_400_000 } });
    try {
      const create = sinon.spy(t.store, 'create');
      await growTo(t.services, 3);
      await t.services.auditCheckpoints.create();
      expect(create.calledOnce).to.equal(true);
      const [key, , meta] = create.firstCall.args;
      expect(key).to.equal(checkpointObjectKey(3));
      expect(meta.retainUntil!.getTime()).to.equal(t.clock.now().getTime() + 10 * 365 * 86_400_000);
    } finally {
      sinon.restore();
      await t.close();
    }
  });
});

describe('npm run audit:checkpoint and audit:fetch-checkpoints', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp({ config: { auditSigningKey: KEY } });
  });
  afterEach(() => t.close());

  it('signs the head on demand (audited), and keeps an auditor’s copies without ever replacing one', async function () {
    this.timeout(120_000);
    await growTo(t.services, 4);
    const env = { ...process.env, DATA_DIR: t.dir, DATABASE_URL: t.config.databaseUrl, ...secretsEnv(t.config), AUDIT_SIGNING_KEY: KEY, LOG_LEVEL: 'silent' };
    const out = await run(process.execPath, ['--import', 'tsx', 'scripts/audit-checkpoint.ts'], { cwd: ROOT, env });
    const cp = JSON.parse(out.stdout);
    const head = (await entries(t.services)).at(-1)!;
    expect(head.action).to.equal('audit.checkpoint-requested');
    expect(cp).to.include({ seq: head.seq, hash: head.hash });

    const server = t.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const tokenFile = path.join(t.dir, 'token');
      writeFileSync(tokenFile, await t.token('auditor'));
      const into = path.join(t.dir, 'my-checkpoints');
      const fetchArgs = ['--import', 'tsx', 'scripts/audit-fetch-checkpoints.ts', '--into', into, '--url', url, '--token-file', tokenFile];
      const first = await run(process.execPath, fetchArgs, { cwd: ROOT });
      expect(first.stderr).to.match(/1 saved, 0 already held, 0 refused/);
      const again = await run(process.execPath, fetchArgs, { cwd: ROOT });
      expect(again.stderr).to.match(/0 saved, 1 already held, 0 refused/);

      // The service now serves another checkpoint for that seq (a rewrite): the copy is kept, the fetch fails.
      const mine = path.join(into, `${String(cp.seq).padStart(12, '0')}.json`);
      const { readFileSync } = await import('node:fs');
      const before = readFileSync(mine, 'utf8');
      const forged = createSigner(KEY).sign({ seq: cp.seq, hash: 'e'.repeat(64), at: cp.at });
      await t.db('audit_checkpoints').where({ seq: cp.seq }).update({ hash: forged.hash, signature: forged.signature });
      const refused = await run(process.execPath, fetchArgs, { cwd: ROOT }).then(() => expect.fail('fetch passed'), (e: { code: number; stderr: string }) => e);
      expect(refused.code).to.equal(1);
      expect(refused.stderr).to.match(new RegExp(`REFUSED seq ${cp.seq}: the service now serves a checkpoint that differs from your copy`));
      expect(readFileSync(mine, 'utf8')).to.equal(before);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('rotating the signing key (AUDIT_KEY_LIST)', () => {
  it('keeps verifying the old key’s checkpoints after rotation when the key list names it, and serves the key list', async () => {
    const t = await startTestApp({ config: { auditSigningKey: KEY } });
    try {
      await growTo(t.services, 4);
      const old = (await t.services.auditCheckpoints.create())!;
      const rotatedAt = t.clock.now().toISOString();
      const newKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const keyList = JSON.stringify({ keys: [{ publicKey: createSigner(KEY).publicKeyPem, notAfter: rotatedAt }] });
      const build = (keyListText?: string) =>
        createServices({ config: { ...t.config, auditSigningKey: newKey, auditKeyList: keyListText }, db: t.db, store: t.store, logger: createLogger({ level: 'silent' }), clock: t.clock });

      const without = build();
      expect((await without.auditCheckpoints.verify()).firstProblem).to.include({ seq: 4, kind: 'checkpoint-key-id' });

      const rotated = build(keyList);
      expect(await rotated.auditCheckpoints.verify()).to.include({ ok: true });
      await growTo(rotated, 7);
      t.clock.advance(60_000);
      const next = (await rotated.auditCheckpoints.create())!;
      expect(next.keyId).to.not.equal(old.keyId);
      expect(await rotated.auditCheckpoints.verify()).to.deep.include({ ok: true, checkpoints: { valid: 2, invalid: 0, last: { seq: 7, hash: next.hash, at: next.at } } });
      const app = createApp(rotated);
      const auditor = (await rotated.tokens.create({ role: 'auditor', name: 'a' }, 'system:test')).token;
      const keys = (await request(app).get('/v1/audit/public-keys').set('Authorization', `Bearer ${auditor}`).expect(200)).body.keys;
      expect(keys.map((k: { keyId: string }) => k.keyId)).to.deep.equal([next.keyId, old.keyId]);
      expect(keys[1]).to.include({ notAfter: rotatedAt });
    } finally {
      await t.close();
    }
  });
});

describe('the hourly check and the store', () => {
  it('reads each checkpoint object once for the incremental checks, and every one again for a full verification', async () => {
    const t = await startTestApp({ config: { auditSigningKey: KEY } });
    try {
      for (const seq of [3, 6, 9]) {
        await growTo(t.services, seq);
        await t.services.auditCheckpoints.create();
      }
      const get = sinon.spy(t.store, 'get');
      await t.services.auditCheckpoints.check('hourly');
      expect(get.callCount, 'incremental check').to.equal(0);
      await t.services.auditCheckpoints.verify();
      expect(get.args.map((a) => a[0]).sort()).to.deep.equal([3, 6, 9].map(checkpointObjectKey));
    } finally {
      sinon.restore();
      await t.close();
    }
  });
});
