import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import knexFactory from 'knex';

const ROOT = path.resolve(import.meta.dirname, '../..');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function script(name: string, args: string[], env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, ['--import', 'tsx', `scripts/${name}.ts`, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
}

describe('quick start: the service and its scripts as a person runs them', function () {
  this.timeout(120_000);
  let dir: string;
  let service: ChildProcess;
  let port: number;
  let env: NodeJS.ProcessEnv;
  let output = '';

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gallra-quickstart-'));
    env = { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: path.join(dir, 'data'), PORT: '0', HOST: '127.0.0.1' };
    service = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    service.stdout!.on('data', (c) => (output += c));
    service.stderr!.on('data', (c) => (output += c));
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`service did not start:\n${output}`)), 60_000);
      service.stdout!.on('data', () => {
        const line = output.split('\n').find((l) => l.includes('gallra is listening'));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line).port);
        }
      });
      service.on('exit', (code) => reject(new Error(`service exited ${code}:\n${output}`)));
    });
  });

  after(() => {
    if (service.exitCode === null) service.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('generates its secrets once into DATA_DIR, readable only by the service', () => {
    for (const f of ['webhook-secret', 'caller-key-secret', 'audit-signing-key.pem']) {
      expect(statSync(path.join(dir, 'data/secrets', f)).mode & 0o777).to.equal(0o600);
    }
  });

  it('creates an access token and prints it alone on the last line', () => {
    const r = script('token', ['create', '--role', 'admin', '--name', 'Quick Start'], env);
    expect(r.status, r.stderr).to.equal(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[lines.length - 1]).to.match(/^glr_[A-Za-z0-9_-]{43}$/);
    const listed = script('token', ['list'], env);
    expect(listed.stdout).to.match(/tok_[0-9a-f]{12}\tadmin\tactive/);
    expect(listed.stdout).to.not.include(lines[lines.length - 1]!);
  });

  it('stores a recording sent by scripts/send-recording byte for byte, and the audit chain verifies', async () => {
    const file = path.join(ROOT, 'test/fixtures/call-alaw-8k.wav');
    const r = script('send-recording', ['--url', `http://127.0.0.1:${port}`, '--caller', '070-123 45 67', file], env);
    expect(r.status, r.stdout + r.stderr).to.equal(0);
    const [status, json] = [r.stdout.slice(0, 3), JSON.parse(r.stdout.slice(4))];
    expect(status).to.equal('201');
    expect(json.sha256).to.equal(sha(readFileSync(file)));

    const db = knexFactory({ client: 'sqlite3', connection: { filename: path.join(dir, 'data/gallra.sqlite') }, useNullAsDefault: true });
    const row = await db('recordings').where({ id: json.id }).first();
    await db.destroy();
    const stored = readFileSync(path.join(dir, 'data/objects', row.storage_key));
    expect(sha(stored)).to.equal(sha(readFileSync(file)));

    const verify = script('audit-verify', [], env);
    expect(verify.status, verify.stdout + verify.stderr).to.equal(0);
  });

  it('stops gracefully on SIGTERM', async () => {
    const code = await new Promise<number | null>((resolve) => {
      service.on('exit', (c) => resolve(c));
      service.kill('SIGTERM');
    });
    expect(code).to.equal(0);
    expect(output).to.not.include('701234567');
  });
});
