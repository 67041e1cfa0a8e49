import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { readAll as readAuditEntries } from '../../src/audit-log/audit-repository.js';
import { createDatabase } from '../../src/shared/database.js';

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
    expect(bad.stderr).to.match(/unknown option '--force'/);
  });

  it('removes the temp file and the lone sidecar a crashed upload left, and audits each (ORPHAN_GRACE=1s)', async () => {
    // The filesystem store's own layout under DATA_DIR/objects, as a process killed inside put leaves it.
    const day = path.join(dir, 'objects', 'recordings', '2026', '11', '29');
    mkdirSync(day, { recursive: true });
    const tmp = path.join(day, '.tmp-3b1f0e0c-5d4e-4f8a-9a51-1c2d3e4f5a6b');
    const sidecar = path.join(day, '103000123-8e1c2b3a-1111-4a2b-9c3d-4e5f6a7b8c9d.meta.json');
    writeFileSync(tmp, Buffer.alloc(32 * 1024, 0x52));
    writeFileSync(sidecar, JSON.stringify({ contentType: 'audio/wav' }));
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(tmp, old, old);
    utimesSync(sidecar, old, old);

    const r = await cli([], { DATA_DIR: dir, LOG_LEVEL: 'silent', ORPHAN_GRACE: '1s' });
    expect(r.code, r.stderr).to.equal(0);
    expect(existsSync(tmp), 'temp file').to.equal(false);
    expect(existsSync(sidecar), 'lone sidecar').to.equal(false);
    expect(JSON.parse(r.stdout).orphans.deleted).to.have.length(2);
    expect(r.stderr).to.match(/ 2 orphans/);

    const db = createDatabase(`sqlite:${path.join(dir, 'gallra.sqlite')}`);
    try {
      const subjects = [];
      for await (const e of readAuditEntries(db)) if (e.action === 'recording.orphan-deleted') subjects.push(e.subject);
      expect(subjects.sort()).to.deep.equal([
        'object:recordings/2026/11/29/.tmp-3b1f0e0c-5d4e-4f8a-9a51-1c2d3e4f5a6b',
        'object:recordings/2026/11/29/103000123-8e1c2b3a-1111-4a2b-9c3d-4e5f6a7b8c9d.meta.json',
      ]);
    } finally {
      await db.destroy();
    }
  });
});
