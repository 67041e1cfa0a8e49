import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { readAll as readAuditEntries } from '../../src/audit-log/audit-repository.js';
import { createDatabase } from '../../src/shared/database.js';
import { createPostgresDatabase } from '../helpers/postgres.js';
import { TEST_DATABASE } from '../helpers/test-database.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

describe(`npm run migrate masks numbers stored before every field was checked (${TEST_DATABASE})`, function () {
  this.timeout(60_000);
  let dir: string;
  let url: string;
  let drop: () => Promise<void> = async () => {};
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gallra-migrate-'));
    if (TEST_DATABASE === 'postgres') ({ url, drop } = await createPostgresDatabase({ migrated: false }));
    else url = `sqlite:${path.join(dir, 'gallra.sqlite')}`;
  });
  afterEach(async () => {
    await drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const migrate = () => run(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts'], { cwd: ROOT, env: { ...process.env, DATA_DIR: dir, DATABASE_URL: url, LOG_LEVEL: 'silent' } });

  it('masks a token name holding a number, audits it once as system:migrate, and finds nothing the next time', async () => {
    expect((await migrate()).stdout).to.match(/no stored value holds a phone number/);
    const db = createDatabase(url);
    try {
      const at = '2026-12-07T09:00:00.000Z';
      await db('access_tokens').insert({ id: 'tok_0123456789ab', name: 'Växeln 070,123,45,67', role: 'trainer', token_hash: 'f'.repeat(64), created_at: at });

      const first = await migrate();
      expect(first.stdout).to.match(/masked 1 stored values? that held a phone number/);
      expect((await db('access_tokens').first()).name).to.equal('Växeln [nummer]');
      const masked = [];
      for await (const e of readAuditEntries(db)) if (e.action === 'stored-numbers.masked') masked.push(e);
      expect(masked).to.have.length(1);
      expect(masked[0]!.actor).to.equal('system:migrate');
      expect(masked[0]!.details).to.deep.equal({ masked: 1, counts: { 'access_tokens.name': 1 }, rows: { access_tokens: ['tok_0123456789ab'] } });

      expect((await migrate()).stdout).to.match(/no stored value holds a phone number/);
    } finally {
      await db.destroy();
    }
  });
});
