import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createServices } from '../../src/services.js';
import { systemClock } from '../../src/shared/clock.js';
import { createLogger } from '../../src/shared/logger.js';
import { createFsObjectStore } from '../../src/storage/index.js';
import { FaultyPort } from '../helpers/faulty-port.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { TEST_DATABASE, testConfig } from '../helpers/test-app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Asks until `ok` holds for the answer or `withinMs` has passed; returns the last answer. */
async function until<T>(ask: () => Promise<T>, ok: (v: T) => boolean, withinMs: number): Promise<T> {
  const deadline = performance.now() + withinMs;
  for (;;) {
    const v = await ask();
    if (ok(v) || performance.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe(`the service starts while the S3 store is unreachable (${TEST_DATABASE})`, function () {
  this.timeout(180_000);
  let dir: string;
  // The key store apart from the database's directory (a SQLite file sits in `dir`), as the service requires.
  let keyDir: string;
  let database: TestDatabase;
  let s3: S3TestServer;
  let port: FaultyPort;
  let child: ChildProcess | undefined;
  let output = '';

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gallra-nostore-'));
    keyDir = mkdtempSync(path.join(tmpdir(), 'gallra-nostore-keys-'));
    database = await createTestDatabase(dir);
    s3 = await startS3Server();
    port = await FaultyPort.open(Number(new URL(s3.endpoint).port));
  });

  afterEach(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    child = undefined;
    await port.close();
    await s3.close();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(keyDir, { recursive: true, force: true });
  });

  it('answers /healthz, the pre-call check and opt-out registration at once, uploads 503, /readyz names the pending verification; ready once the store is back', async () => {
    const secrets = {
      CALLER_KEY_SECRET: randomBytes(32).toString('hex'),
      WEBHOOK_SECRETS: `whsec_${randomBytes(32).toString('base64')}`,
      AUDIT_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
    // The phone system's token, made in the database beforehand (as `npm run token` would).
    const services = createServices({
      config: testConfig(dir, { databaseUrl: database.url, callerKeySecret: secrets.CALLER_KEY_SECRET, webhookSecrets: [secrets.WEBHOOK_SECRETS], auditSigningKey: secrets.AUDIT_SIGNING_KEY }),
      db: database.db,
      store: createFsObjectStore({ root: path.join(dir, 'unused') }),
      logger: createLogger({ level: 'silent' }),
      clock: systemClock,
    });
    const { token } = await services.tokens.create({ role: 'phone-system', name: 'växel' }, 'system:test');
    const auth = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };

    // The store's address refuses connections, as a stopped S3 endpoint does.
    await port.set('refuse');
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info',
        DATA_DIR: path.join(dir, 'data'), DATABASE_URL: database.url, KEY_STORE_DIR: keyDir, ...secrets,
        STORAGE_DRIVER: 's3', S3_BUCKET: s3.bucket, S3_ENDPOINT: `http://127.0.0.1:${port.port}`, S3_FORCE_PATH_STYLE: 'true',
        S3_ACCESS_KEY_ID: 'S3RVER', S3_SECRET_ACCESS_KEY: 'S3RVER', S3_REQUEST_CHECKSUM: 'when_required', S3_OPERATION_TIMEOUT: '2s',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (c) => (output += c));
    child.stderr!.on('data', (c) => (output += c));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the service neither listened nor exited:\n${output}`)), 90_000);
      child!.stdout!.on('data', () => {
        const line = output.split('\n').find((l) => l.includes('gallra is listening'));
        if (!line) return;
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${JSON.parse(line).port}`);
      });
      child!.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the service exited ${code} while the store was unreachable:\n${output}`));
      });
    });

    expect((await fetch(`${url}/healthz`)).status).to.equal(200);
    const started = performance.now();
    const check = await fetch(`${url}/v1/opt-outs/check`, { method: 'POST', headers: auth, body: JSON.stringify({ number: '+46701234567' }) });
    expect(check.status).to.equal(200);
    expect(await check.json()).to.deep.include({ optedOut: false });
    expect(performance.now() - started, 'the pre-call check answers within 1 s').to.be.below(1_000);
    const registered = await fetch(`${url}/v1/opt-outs`, { method: 'POST', headers: auth, body: JSON.stringify({ number: '070-765 43 21' }) });
    expect(registered.status, await registered.clone().text()).to.equal(201);

    const pending = await until(
      async () => (await (await fetch(`${url}/readyz`)).json()) as { status: string; checks: Record<string, { ok: boolean; pending?: string; attempts?: number }> },
      (r) => r.checks['audit-chain']?.pending !== undefined,
      30_000,
    );
    expect(pending.status).to.equal('not-ready');
    expect(pending.checks.store!.ok).to.equal(false);
    expect(pending.checks['audit-chain'], JSON.stringify(pending)).to.deep.include({ ok: false, verified: false });
    expect(pending.checks['audit-chain']!.pending).to.match(/start-up verification/);
    expect(pending.checks['audit-chain']!.attempts).to.be.at.least(1);
    expect(output).to.contain('the audit log could not be verified at start; retrying in the background');

    const upload = async () => {
      const now = new Date();
      const { body, contentType } = recordingBody(callMeta(now, { caller: '+46701234560' }), fixture('call-pcm16-8k.wav'));
      return fetch(`${url}/v1/recordings`, { method: 'POST', headers: { ...signedHeaders(body, now, { secret: secrets.WEBHOOK_SECRETS }), 'Content-Type': contentType }, body: new Uint8Array(body) });
    };
    const refused = await upload();
    expect(refused.status).to.equal(503);
    expect(refused.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect(refused.headers.get('retry-after')).to.match(/^\d+$/);

    // The store is back: the verification is retried and passes, the service is ready, uploads are stored.
    await port.set('pass');
    const ready = await until(() => fetch(`${url}/readyz`), (r) => r.status === 200, 60_000);
    const readyBody = (await ready.json()) as { checks: Record<string, { verified?: boolean }> };
    expect(ready.status, JSON.stringify(readyBody)).to.equal(200);
    expect(readyBody.checks['audit-chain']!.verified).to.equal(true);
    expect(output).to.contain('audit log verified at start, after waiting for its dependencies');
    const stored = await upload();
    expect(stored.status, await stored.clone().text()).to.equal(201);
  });
});
