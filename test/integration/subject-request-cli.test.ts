import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import { createApp } from '../../src/app.js';
import { loadResolvedConfig } from '../../src/config.js';
import { createServices } from '../../src/services.js';
import { systemClock } from '../../src/shared/clock.js';
import { createDatabase, migrateLatest } from '../../src/shared/database.js';
import { createLogger } from '../../src/shared/logger.js';
import { createStore } from '../../src/storage/index.js';
import { localDateOf } from '../../src/subject-requests/index.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';
import { unzip } from '../helpers/zip.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

function cli(args: string[], env: Record<string, string>, stdin: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/subject-request.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe('npm run subject-request', function () {
  this.timeout(120_000);
  let dir: string;
  let env: Record<string, string>;
  const ids: string[] = [];

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gallra-sr-cli-'));
    env = { DATA_DIR: dir, LOG_LEVEL: 'silent' };
    // Two calls from the caller and one from someone else, through the real webhook of a service on the same data.
    const config = loadResolvedConfig(env);
    const db = createDatabase(config.databaseUrl);
    await migrateLatest(db);
    const services = createServices({ config, db, store: createStore(config), logger: createLogger({ level: 'silent' }), clock: systemClock });
    const app = createApp(services);
    for (const caller of ['070-555 12 34', '+46705551234', '+46738887766']) {
      const meta = callMeta(new Date(), { caller });
      const { body, contentType } = recordingBody(meta, fixture('call-8k.mp3'));
      const res = await request(app).post('/v1/recordings').set(signedHeaders(body, new Date(), { secret: config.webhookSecrets[0] })).set('Content-Type', contentType).send(body);
      expect(res.status).to.equal(201);
      ids.push(res.body.id);
    }
    await db.destroy();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('opens an access case with the number from standard input and writes the register extract, progress on stderr', async () => {
    const out = path.join(dir, 'extract.zip');
    const r = await cli(['access', '--reference', 'KS 2026/9', '--received', localDateOf(new Date()), '--out', out], env, '0705551234\n');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.match(/opened access case sr_[0-9a-f]{16}/).and.match(/1\/2 inspelningar\//).and.match(/wrote .*extract\.zip: 2 recording/);
    const files = await unzip(readFileSync(out));
    expect([...files.keys()].filter((n) => n.startsWith('inspelningar/'))).to.have.length(2);
    const shown = JSON.parse(r.stdout);
    expect(shown.calls.map((c: { recordingId: string }) => c.recordingId).sort()).to.deep.equal(ids.slice(0, 2).sort());
    // The caller's number in any of its forms (not a bare '555', which a random id or hash may hold).
    for (const form of ['5551234', '555 12 34', '555-12 34', '555 1234']) expect(r.stdout + r.stderr).not.to.include(form);
    // While it is open, the access case preserves the calls; answering it lets them go again.
    const id = /opened access case (sr_[0-9a-f]{16})/.exec(r.stderr)![1]!;
    const answered = await cli(['answer', id], env, '');
    expect(answered.code, answered.stderr).to.equal(0);
    expect(JSON.parse(answered.stdout)).to.include({ status: 'answered' });
  });

  it('opens an erasure case without deleting until --confirm names the count, then erases', async () => {
    const opened = await cli(['erasure', '--reference', 'KS 2026/10', '--received', localDateOf(new Date())], env, '+46 70 555 12 34\n');
    expect(opened.code, opened.stderr).to.equal(0);
    expect(opened.stderr).to.match(/would delete 2 call\(s\)/);
    const id = /erase (sr_[0-9a-f]{16}) --confirm 2/.exec(opened.stderr)![1]!;
    const wrong = await cli(['erase', id, '--confirm', '1'], env, '');
    expect(wrong.code).to.equal(1);
    expect(wrong.stderr).to.match(/deletes 2 recording/);
    const done = await cli(['erase', id, '--confirm', '2'], env, '');
    expect(done.code, done.stderr).to.equal(0);
    expect(JSON.parse(done.stdout)).to.include({ deleted: 2 });
  });

  it('refuses a number given as an argument, and a reference that is a phone number', async () => {
    const arg = await cli(['access', '--number', '0705551234', '--reference', 'x', '--received', '2026-11-02'], env, '');
    expect(arg.code).to.equal(2);
    expect(arg.stderr).to.match(/unknown option '--number'/);
    const ref = await cli(['access', '--reference', '070-555 12 34', '--received', localDateOf(new Date())], env, '0705551234\n');
    expect(ref.code).to.equal(1);
    expect(ref.stderr).to.match(/\/reference: must not contain a phone number/);
    expect(existsSync(path.join(dir, 'gallra.sqlite'))).to.equal(true);
  });
});
