import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { readAll as readAuditEntries } from '../../src/audit-log/audit-repository.js';
import { createServices } from '../../src/services.js';
import { ManualClock, systemClock } from '../../src/shared/clock.js';
import { secretFingerprint, SecretMismatch } from '../../src/secrets/index.js';
import { createDatabase, type Database } from '../../src/shared/database.js';
import { createLogger } from '../../src/shared/logger.js';
import { createFsObjectStore } from '../../src/storage/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { TEST_DATABASE, testConfig } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const NUMBER = '070-765 43 21';

interface Secrets {
  CALLER_KEY_SECRET: string;
  WEBHOOK_SECRETS: string;
  AUDIT_SIGNING_KEY: string;
}
const newSecrets = (): Secrets => ({
  CALLER_KEY_SECRET: randomBytes(32).toString('hex'),
  WEBHOOK_SECRETS: `whsec_${randomBytes(32).toString('base64')}`,
  AUDIT_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
});

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/**
 * The service as it is deployed (src/main.ts, its own process) on the shared database. Resolves when it
 * listens, or with its exit code and output when it refuses to start.
 */
function startInstance(env: Record<string, string>): Promise<Started | { code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c) => (output += c));
  child.stderr!.on('data', (c) => (output += c));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the instance neither listened nor exited:\n${output}`));
    }, 90_000);
    child.stdout!.on('data', () => {
      const line = output.split('\n').find((l) => l.includes('gallra is listening'));
      if (!line) return;
      clearTimeout(timer);
      resolve({ child, url: `http://127.0.0.1:${JSON.parse(line).port}`, output: () => output });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function listening(s: Awaited<ReturnType<typeof startInstance>>): Started {
  if (!('child' in s)) expect.fail(`the instance refused to start (exit ${s.code}):\n${s.output}`);
  return s;
}

function refused(s: Awaited<ReturnType<typeof startInstance>>): { code: number | null; output: string } {
  if ('child' in s) {
    s.child.kill('SIGKILL');
    expect.fail('the instance started although its secrets differ from the database’s');
  }
  return s;
}

async function stop(s: Started): Promise<void> {
  if (s.child.exitCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await exited;
}

describe(`several instances on one database agree on their secrets (${TEST_DATABASE})`, function () {
  this.timeout(300_000);
  let dir: string;
  // The key store apart from the database's directory (a SQLite file sits in `dir`), as the service requires.
  let keyDir: string;
  let shared: TestDatabase;
  let db: Database;
  const running: Started[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gallra-instances-'));
    keyDir = mkdtempSync(path.join(tmpdir(), 'gallra-instances-keys-'));
    shared = await createTestDatabase(dir);
    db = shared.db;
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map(stop));
    await shared.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(keyDir, { recursive: true, force: true });
  });

  const envFor = (name: string, secrets: Secrets) => ({ DATA_DIR: path.join(dir, name), DATABASE_URL: shared.url, KEY_STORE_DIR: keyDir, ...secrets });

  it('refuses to start an instance whose caller-key or webhook secret differs, naming the variable in one line; the same secrets start, and an opt-out registered on one is honoured by the other', async () => {
    const secrets = newSecrets();
    const a = listening(await startInstance(envFor('a', secrets)));
    running.push(a);

    const otherCallerKey = refused(await startInstance(envFor('b', { ...secrets, CALLER_KEY_SECRET: newSecrets().CALLER_KEY_SECRET })));
    expect(otherCallerKey.code).to.equal(2);
    const callerLines = otherCallerKey.output.trim().split('\n').filter((l) => /CALLER_KEY_SECRET/.test(l));
    expect(callerLines, otherCallerKey.output).to.have.length(1);
    expect(otherCallerKey.output).to.not.include(secrets.CALLER_KEY_SECRET);

    const otherWebhook = refused(await startInstance(envFor('c', { ...secrets, WEBHOOK_SECRETS: newSecrets().WEBHOOK_SECRETS })));
    expect(otherWebhook.code).to.equal(2);
    expect(otherWebhook.output).to.match(/WEBHOOK_SECRETS/).and.not.match(/CALLER_KEY_SECRET/);

    const b = listening(await startInstance(envFor('b', secrets)));
    running.push(b);

    // A token for the phone system, made in the shared database (as `npm run token` would).
    const services = createServices({
      config: testConfig(dir, { databaseUrl: shared.url, callerKeySecret: secrets.CALLER_KEY_SECRET, webhookSecrets: [secrets.WEBHOOK_SECRETS], auditSigningKey: secrets.AUDIT_SIGNING_KEY }),
      db,
      store: createFsObjectStore({ root: path.join(dir, 'unused') }),
      logger: createLogger({ level: 'silent' }),
      clock: systemClock,
    });
    const { token } = await services.tokens.create({ role: 'phone-system', name: 'växel' }, 'system:test');
    const auth = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };

    const registered = await fetch(`${a.url}/v1/opt-outs`, { method: 'POST', headers: auth, body: JSON.stringify({ number: NUMBER }) });
    expect(registered.status).to.equal(201);
    const check = await fetch(`${b.url}/v1/opt-outs/check`, { method: 'POST', headers: auth, body: JSON.stringify({ number: '+46707654321' }) });
    expect(await check.json()).to.deep.include({ optedOut: true });

    const meta = callMeta(new Date(), { caller: '+46707654321' });
    const { body, contentType } = recordingBody(meta, fixture('call-pcm16-8k.wav'));
    const upload = await fetch(`${b.url}/v1/recordings`, {
      method: 'POST',
      headers: { ...signedHeaders(body, new Date(), { secret: secrets.WEBHOOK_SECRETS }), 'Content-Type': contentType },
      body: new Uint8Array(body),
    });
    expect(upload.status).to.equal(200);
    expect(await upload.json()).to.include({ callId: meta.callId, status: 'discarded' });
    // A discarded call leaves a row that proves it arrived and was dropped, and nothing in any store.
    expect(await db('recordings').where({ call_id: meta.callId }).first()).to.include({ status: 'discarded', caller_key: null });
    for (const name of ['a', 'b']) {
      const keys: string[] = [];
      for await (const o of createFsObjectStore({ root: path.join(dir, name, 'objects') }).list('')) keys.push(o.key);
      expect(keys.filter((k) => !k.startsWith('audit-checkpoints/')), name).to.deep.equal([]);
    }

    const actions: string[] = [];
    for await (const e of readAuditEntries(db)) actions.push(e.action);
    expect(actions.filter((x) => x === 'secrets.registered')).to.have.length(2);
  });

  it('rotates webhook secrets through an overlap (old and new, then new), keeps no secret in the database, and never lets the caller-key secret change', async () => {
    const [old, next, stranger] = [newSecrets(), newSecrets(), newSecrets()];
    const clock = new ManualClock('2026-11-30T10:00:00.000Z');
    const services = createServices({
      config: testConfig(dir, { databaseUrl: shared.url }),
      db,
      store: createFsObjectStore({ root: path.join(dir, 'objects') }),
      logger: createLogger({ level: 'silent' }),
      clock,
    });
    const start = (caller: string, webhooks: string[]) => services.secretFingerprints.verify({ CALLER_KEY_SECRET: caller, WEBHOOK_SECRETS: webhooks });
    const variableOf = (p: Promise<unknown>) => p.then(() => expect.fail('started'), (err: SecretMismatch) => (expect(err).to.be.instanceOf(SecretMismatch), err.details.variable));

    await start(old.CALLER_KEY_SECRET, [old.WEBHOOK_SECRETS]);
    await start(old.CALLER_KEY_SECRET, [old.WEBHOOK_SECRETS, next.WEBHOOK_SECRETS]);
    await start(old.CALLER_KEY_SECRET, [old.WEBHOOK_SECRETS]);
    await start(old.CALLER_KEY_SECRET, [next.WEBHOOK_SECRETS, old.WEBHOOK_SECRETS]);
    await start(old.CALLER_KEY_SECRET, [next.WEBHOOK_SECRETS]);
    // Once every instance has moved on, one still holding only the retired secret would refuse the phone system.
    expect(await variableOf(start(old.CALLER_KEY_SECRET, [old.WEBHOOK_SECRETS]))).to.equal('WEBHOOK_SECRETS');
    expect(await variableOf(start(old.CALLER_KEY_SECRET, [stranger.WEBHOOK_SECRETS]))).to.equal('WEBHOOK_SECRETS');
    expect(await variableOf(start(next.CALLER_KEY_SECRET, [next.WEBHOOK_SECRETS]))).to.equal('CALLER_KEY_SECRET');

    const rows = await db('secret_fingerprints').orderBy('variable');
    expect(rows.map((r) => [r.variable, r.fingerprint])).to.deep.equal([
      ['CALLER_KEY_SECRET', secretFingerprint('CALLER_KEY_SECRET', old.CALLER_KEY_SECRET)],
      ['WEBHOOK_SECRETS', secretFingerprint('WEBHOOK_SECRETS', next.WEBHOOK_SECRETS)],
    ]);
    const contents = (await shared.contents()).toString('latin1');
    for (const secret of [old.CALLER_KEY_SECRET, old.WEBHOOK_SECRETS, next.WEBHOOK_SECRETS]) expect(contents).to.not.include(secret);

    const registrations: Record<string, unknown>[] = [];
    for await (const e of readAuditEntries(db)) if (e.action === 'secrets.registered') registrations.push(e.details);
    expect(registrations.map((d) => [d.variable, d.reason])).to.deep.equal([
      ['CALLER_KEY_SECRET', 'first start'],
      ['WEBHOOK_SECRETS', 'first start'],
      ['WEBHOOK_SECRETS', 'rotation'],
      ['WEBHOOK_SECRETS', 'rotation'],
      ['WEBHOOK_SECRETS', 'rotation'],
      ['WEBHOOK_SECRETS', 'rotation'],
    ]);
  });
});
