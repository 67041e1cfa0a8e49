import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

async function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'scripts/retention.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('npm run retention', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gallra-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs once with --dry-run, printing the report as JSON and changing nothing', async () => {
    const r = await cli(['--dry-run'], { DATA_DIR: dir, LOG_LEVEL: 'silent' });
    expect(r.code, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout);
    expect(report).to.include({ dryRun: true, due: 0, overdue: 0 });
    expect(r.stderr).to.match(/would delete 0 of 0 due/);
  });

  it('runs once for real and refuses unknown arguments with exit code 2', async () => {
    const ok = await cli([], { DATA_DIR: dir, LOG_LEVEL: 'silent' });
    expect(ok.code, ok.stderr).to.equal(0);
    expect(JSON.parse(ok.stdout)).to.include({ dryRun: false });
    const bad = await cli(['--force'], { DATA_DIR: dir, LOG_LEVEL: 'silent' });
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/unknown argument --force/);
  });
});
