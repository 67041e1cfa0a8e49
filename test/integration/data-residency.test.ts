import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { REGION_EXCEPTION_USED } from '../../src/data-residency/index.js';
import { auditEntries } from '../helpers/retention.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { TEST_DATABASE } from '../helpers/test-app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe(`the service starts on a store outside the EU/EEA only by a named, audited exception (${TEST_DATABASE})`, function () {
  this.timeout(120_000);
  let dir: string;
  // The key store apart from the database's directory (a SQLite file sits in `dir`), as the service requires.
  let keyDir: string;
  let database: TestDatabase;
  let s3: S3TestServer;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gallra-region-'));
    keyDir = mkdtempSync(path.join(tmpdir(), 'gallra-region-keys-'));
    database = await createTestDatabase(dir);
    s3 = await startS3Server();
  });
  afterEach(async () => {
    await s3.close();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(keyDir, { recursive: true, force: true });
  });

  // One set of secrets for every start: a database refuses an instance started with other secrets.
  const secrets = {
    CALLER_KEY_SECRET: randomBytes(32).toString('hex'),
    WEBHOOK_SECRETS: `whsec_${randomBytes(32).toString('base64')}`,
    AUDIT_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };

  /** Starts the service; resolves once it listens (then stops it) or when it exits, with its output. */
  function start(extra: Record<string, string>): Promise<{ code: number | null; output: string; listened: boolean }> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info',
        DATA_DIR: path.join(dir, 'data'), DATABASE_URL: database.url, KEY_STORE_DIR: keyDir,
        ...secrets,
        STORAGE_DRIVER: 's3', S3_BUCKET: s3.bucket, S3_ENDPOINT: s3.endpoint, S3_FORCE_PATH_STYLE: 'true',
        S3_ACCESS_KEY_ID: 'S3RVER', S3_SECRET_ACCESS_KEY: 'S3RVER', S3_REQUEST_CHECKSUM: 'when_required',
        ...extra,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let listened = false;
    child.stdout.on('data', (c) => {
      output += c;
      if (!listened && output.includes('gallra is listening')) {
        listened = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (c) => (output += c));
    return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output, listened })));
  }

  it('refuses to start on us-east-1, naming the region and ALLOW_NON_EEA_REGION; nothing is audited', async () => {
    const run = await start({ S3_REGION: 'us-east-1' });
    expect(run.listened).to.equal(false);
    expect(run.code).to.equal(2);
    expect(run.output).to.match(/S3_REGION: "us-east-1" is not a known EU\/EEA region.*ALLOW_NON_EEA_REGION=/);
  });

  it('starts on us-east-1 named with a reason, and audits the exception at every start', async () => {
    const allow = { S3_REGION: 'us-east-1', ALLOW_NON_EEA_REGION: 'us-east-1:on-premises MinIO in Lund' };
    for (let i = 0; i < 2; i++) {
      const run = await start(allow);
      expect(run.listened, run.output).to.equal(true);
    }
    const entries = await auditEntries(database.db, REGION_EXCEPTION_USED);
    expect(entries).to.have.length(2);
    expect(entries[0]).to.deep.include({ actor: 'system:start', subject: null });
    expect(entries[0]!.details).to.deep.equal({ setting: 'S3_REGION', region: 'us-east-1', reason: 'on-premises MinIO in Lund' });
  });

  it('audits nothing for a region in the EU/EEA', async () => {
    const run = await start({ S3_REGION: 'eu-north-1' });
    expect(run.listened, run.output).to.equal(true);
    expect(await auditEntries(database.db, REGION_EXCEPTION_USED)).to.have.length(0);
  });
});
