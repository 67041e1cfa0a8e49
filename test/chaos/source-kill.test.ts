import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { verifyChain, type AuditEntry } from '../../src/audit-log/index.js';
import { readAll as readAuditEntries } from '../../src/audit-log/audit-repository.js';
import { filesIn } from '../helpers/sources.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { callMeta, fixture } from '../helpers/webhook.js';

const CHILD = path.resolve(import.meta.dirname, '../helpers/source-poll-child.ts');
const STEPS = ['after-download', 'after-commit', 'between-source-deletes', 'after-source-delete'] as const;

/** Runs the polling child; resolves with how it ended. */
function runChild(env: Record<string, string>): Promise<{ signal: NodeJS.Signals | null; code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--import', 'tsx', CHILD], { env: { ...process.env, ...env }, timeout: 60_000 }, (_err, stdout, stderr) =>
      resolve({ signal: child.signalCode, code: child.exitCode, stdout, stderr }),
    );
  });
}

/**
 * kill -9 of a polling gallra process at each step of taking one item; a restarted process (its clock
 * past the item's lease and the orphan grace) finishes it: one recording, one ingest entry, one
 * source.deleted, an empty source folder, and no object but the recording's once the sweep has run.
 */
describe('sources: kill -9 at each step of taking an item', function () {
  this.timeout(180_000);
  let dir: string;
  let tdb: TestDatabase;
  const secrets = { CALLER_KEY_SECRET: randomBytes(32).toString('hex'), AUDIT_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gallra-source-kill-'));
    tdb = await createTestDatabase(dir);
  });
  afterEach(async () => {
    await tdb.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const step of STEPS) {
    it(`finishes an item after a kill -9 ${step.replace(/-/g, ' ')}`, async () => {
      const source = path.join(dir, 'spool');
      const storeDir = path.join(dir, 'objects');
      mkdirSync(source);
      // Real time, so that the objects' modification times and the clock agree for the orphan sweep.
      const now = new Date();
      const audio = fixture('call-pcm16-8k.wav');
      writeFileSync(path.join(source, 'c.wav'), audio);
      writeFileSync(path.join(source, 'c.json'), JSON.stringify(callMeta(now)));
      const env = { ...secrets, DATABASE_URL: tdb.url, STORE_DIR: storeDir, SOURCE_DIR: source };

      const killed = await runChild({ ...env, NOW: now.toISOString(), KILL_AT: step });
      expect(killed.signal, killed.stderr).to.equal('SIGKILL');

      const later = new Date(now.getTime() + 2 * 3_600_000).toISOString();
      const restarted = await runChild({ ...env, NOW: later, SWEEP: '1' });
      expect(restarted.code, restarted.stderr).to.equal(0);

      const rows = await tdb.db('recordings');
      expect(rows).to.have.length(1);
      expect(rows[0]).to.include({ status: 'stored', source: 'pbx' });
      const entries: AuditEntry[] = [];
      for await (const e of readAuditEntries(tdb.db)) entries.push(e);
      const count = (a: string) => entries.filter((e) => e.action === a).length;
      expect(count('recording.ingested')).to.equal(1);
      expect(count('source.deleted')).to.equal(1);
      expect(count('source.rejected')).to.equal(0);
      expect((await verifyChain(entries)).ok).to.equal(true);
      expect(readdirSync(source)).to.deep.equal([]);
      expect(filesIn(storeDir).filter((f) => !f.endsWith('.meta.json'))).to.deep.equal([rows[0].storage_key]);
    });
  }
});
