import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import knexFactory from 'knex';

const ROOT = path.resolve(import.meta.dirname, '../..');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A CLI as `npm run <name>` runs it: compiled, from dist/ (built by `npm start`'s prestart step). */
function script(name: string, args: string[], env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, [`dist/scripts/${name}.js`, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
}

/** Command lines of the processes in a process group, from /proc. */
function processGroup(pgid: number): { pid: number; argv: string[] }[] {
  const out: { pid: number; argv: string[] }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the command name: state, ppid, pgrp.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) !== pgid) continue;
      out.push({ pid: Number(entry), argv: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean) });
    } catch {
      // the process ended while being read
    }
  }
  return out;
}

describe('quick start: the service and its scripts as a person runs them', function () {
  this.timeout(120_000);
  let dir: string;
  let npmStart: ChildProcess;
  let service: { pid: number; argv: string[] };
  let port: number;
  let env: NodeJS.ProcessEnv;
  let output = '';

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gallra-quickstart-'));
    env = { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: path.join(dir, 'data'), PORT: '0', HOST: '127.0.0.1' };
    // Exactly the README's command, in a process group of its own so that every process it starts can be found and stopped.
    npmStart = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    npmStart.stdout!.on('data', (c) => (output += c));
    npmStart.stderr!.on('data', (c) => (output += c));
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`service did not start:\n${output}`)), 90_000);
      npmStart.stdout!.on('data', () => {
        const line = output.split('\n').find((l) => l.includes('gallra is listening'));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line).port);
        }
      });
      npmStart.on('exit', (code) => reject(new Error(`npm start exited ${code}:\n${output}`)));
    });
    const main = processGroup(npmStart.pid!).filter((p) => p.argv.includes('dist/src/main.js'));
    expect(main, JSON.stringify(processGroup(npmStart.pid!))).to.have.length(1);
    service = main[0]!;
  });

  after(() => {
    if (npmStart.exitCode === null) {
      try {
        process.kill(-npmStart.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs compiled JavaScript with plain node: no tsx anywhere in the process group', () => {
    expect(path.basename(service.argv[0]!)).to.match(/^node/);
    expect(service.argv.slice(1)).to.deep.equal(['dist/src/main.js']);
    for (const p of processGroup(npmStart.pid!)) expect(p.argv.join(' ')).to.not.match(/tsx|esbuild/);
  });

  it('serves the web interface, its health and its migrated database from the compiled build', async () => {
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).to.equal(200);
    expect(await page.text()).to.equal(readFileSync(path.join(ROOT, 'src/web/public/index.html'), 'utf8'));
    const script = await fetch(`http://127.0.0.1:${port}/app.js`);
    expect(script.status).to.equal(200);
    expect(script.headers.get('content-type')).to.match(/javascript/);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).to.equal(200);
  });

  it('keeps tsx and esbuild out of the production dependencies', () => {
    const r = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout).to.include(path.join('node_modules', 'express'));
    expect(r.stdout).to.not.match(/node_modules[\\/](tsx|esbuild|@esbuild)\b/);
  });

  it('answers --help on every CLI, and names a wrong argument with exit code 2', () => {
    for (const name of ['token', 'send-recording', 'migrate', 'retention', 'audit-verify', 'audit-checkpoint', 'audit-fetch-checkpoints', 'verify-audit-export', 'storage-lifecycle']) {
      const help = script(name, ['--help'], env);
      expect(help.status, `${name} --help: ${help.stderr}`).to.equal(0);
      expect(help.stdout, name).to.match(/^Usage: \S+ \[options\]/m);
    }
    const bad = script('send-recording', ['--opt-out', 'call.wav', '--colour', 'red'], env);
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.match(/unknown option '--colour'/);
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
    // Encrypted at rest with no configuration: the object is the segment format, its period key in ./keys beside ./data.
    const stored = readFileSync(path.join(dir, 'data/objects', row.storage_key));
    expect(stored.subarray(0, 8).toString('ascii')).to.equal('GALLRAES');
    expect(stored.includes(readFileSync(file).subarray(4096, 8192))).to.equal(false);
    expect(readdirSync(path.join(dir, 'keys')).filter((f) => /^period-\d{8}T\d{2}\.key$/.test(f))).to.have.length(1);

    const verify = script('audit-verify', [], env);
    expect(verify.status, verify.stdout + verify.stderr).to.equal(0);
  });

  it('sends an opted-out call with --opt-out before or after the file, and the service discards it', () => {
    const file = path.join(ROOT, 'test/fixtures/call-pcm16-8k.wav');
    for (const args of [['--opt-out', file], [file, '--opt-out', '--withheld']]) {
      const r = script('send-recording', ['--url', `http://127.0.0.1:${port}`, ...args], env);
      expect(r.status, r.stdout + r.stderr).to.equal(0);
      expect(JSON.parse(r.stdout.slice(4))).to.include({ status: 'discarded', reason: 'caller-opted-out' });
    }
  });

  it('stops gracefully on SIGTERM', async () => {
    const code = await new Promise<number | null>((resolve) => {
      npmStart.on('exit', (c) => resolve(c));
      process.kill(service.pid, 'SIGTERM');
    });
    expect(code).to.equal(0);
    expect(output).to.not.include('701234567');
  });
});
