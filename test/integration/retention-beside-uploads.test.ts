import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import { createDatabase } from '../../src/shared/database.js';
import { itOn, startTestApp, type TestApp } from '../helpers/test-app.js';
import { TEST_WEBHOOK_SECRET } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DUE = 300;

/**
 * The reproduction: `npm run retention` in another process deletes 300 due recordings while
 * this process takes uploads and opt-out registrations on the same SQLite file. With deferred
 * transactions some of them failed at once with SQLITE_BUSY (500); now they wait for the lock.
 */
describe('a retention run in another process beside uploads and opt-out registrations', function () {
  this.timeout(120_000);
  let dir: string;
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  itOn('sqlite')('answers every upload and registration while the run deletes (SQLite, no 5xx)', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gallra-beside-'));
    const callerKeySecret = randomBytes(32).toString('hex');
    const auditSigningKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const file = path.join(dir, 'gallra.sqlite');
    t = await startTestApp({ db: createDatabase(`sqlite:${file}`), config: { dataDir: dir, databaseUrl: `sqlite:${file}`, callerKeySecret, auditSigningKey } });
    const phone = { Authorization: `Bearer ${await t.token('phone-system')}` };

    // Recordings due long ago (their objects are absent: the run counts a missing object as deleted).
    const now = Date.now();
    const rows = Array.from({ length: DUE }, (_, i) => {
      const id = randomUUID();
      const started = new Date(now - 40 * 86_400_000 + i * 1000).toISOString();
      return {
        id, call_id: `due-${id}`, started_at: started, ended_at: started, status: 'stored', storage_key: `recordings/2026/01/01/000000000-${id}`,
        content_type: 'audio/wav', bytes: 1, sha256: '0'.repeat(64), deadline: new Date(now - 10 * 86_400_000 + i * 1000).toISOString(), created_at: started, updated_at: started,
      };
    });
    for (let i = 0; i < rows.length; i += 100) await t.db('recordings').insert(rows.slice(i, i + 100));

    const cli = spawn(process.execPath, ['--import', 'tsx', 'scripts/retention.ts'], {
      cwd: ROOT,
      env: { ...process.env, DATA_DIR: dir, LOG_LEVEL: 'silent', CALLER_KEY_SECRET: callerKeySecret, AUDIT_SIGNING_KEY: auditSigningKey, WEBHOOK_SECRETS: TEST_WEBHOOK_SECRET },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    cli.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number>((resolve) => cli.on('exit', (code) => resolve(code ?? -1)));
    let running = true;
    void exited.then(() => (running = false));

    const statuses: number[] = [];
    const failures: string[] = [];
    let n = 0;
    const app = t.app;
    const clock = t.clock;
    async function client(kind: 'upload' | 'register'): Promise<void> {
      while (running) {
        const i = n++;
        const res =
          kind === 'upload'
            ? await (async () => {
                const { body, contentType } = recordingBody(callMeta(clock.now(), { caller: `+4670${String(1_000_000 + i).slice(-7)}` }), fixture('call-pcm16-8k.wav'));
                return request(app).post('/v1/recordings').set(signedHeaders(body, clock.now())).set('Content-Type', contentType).send(body);
              })()
            : await request(app).post('/v1/opt-outs').set(phone).send({ number: `+4673${String(1_000_000 + i).slice(-7)}`, source: 'ivr' });
        statuses.push(res.status);
        if (res.status >= 500) failures.push(`${kind} ${res.status} ${res.text}`);
      }
    }
    await Promise.all([client('upload'), client('upload'), client('register'), client('register')]);
    const code = await exited;

    expect(code, stderr).to.equal(0);
    expect(failures).to.deep.equal([]);
    expect(statuses.length, 'requests made while the run went on').to.be.above(10);
    expect(statuses.every((s) => s === 201)).to.equal(true);
    const left = await t.db('recordings').where('call_id', 'like', 'due-%').andWhere({ status: 'stored' }).count({ n: '*' }).first();
    expect(Number(left?.n)).to.equal(0);
  });
});
