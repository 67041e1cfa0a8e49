import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { readAll as readAuditEntries } from '../../src/audit-log/audit-repository.js';
import { verifyChain, type AuditEntry } from '../../src/audit-log/index.js';
import { sid, startFakePlatform, type FakePlatform } from '../helpers/notify-platform.js';
import { filesIn } from '../helpers/sources.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { fixture } from '../helpers/webhook.js';

const CHILD = path.resolve(import.meta.dirname, '../helpers/source-notify-child.ts');
const STEPS = ['after-202', 'during-fetch', 'after-commit'] as const;

function runChild(env: Record<string, string>): Promise<{ signal: NodeJS.Signals | null; code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--import', 'tsx', CHILD], { env: { ...process.env, ...env }, timeout: 60_000 }, (_err, stdout, stderr) =>
      resolve({ signal: child.signalCode, code: child.exitCode, stdout, stderr }),
    );
  });
}

/**
 * kill -9 of a gallra process after it answered Twilio's notification 202, during the fetch, and after
 * the commit; a restarted process (its clock past the item's lease and the orphan grace) finishes it
 * from the row written before the 202: exactly one recording, one ingest entry, one deletion at Twilio.
 */
describe('sources: kill -9 while a notified recording is fetched', function () {
  this.timeout(180_000);
  let dir: string;
  let tdb: TestDatabase;
  let media: FakePlatform;
  const secrets = { CALLER_KEY_SECRET: randomBytes(32).toString('hex'), AUDIT_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gallra-notify-kill-'));
    tdb = await createTestDatabase(dir);
    media = await startFakePlatform({ audio: fixture('call-pcm16-8k.wav') });
  });
  afterEach(async () => {
    await media.close();
    await tdb.close();
    rmSync(dir, { recursive: true, force: true });
  });

  STEPS.forEach((step, n) => {
    it(`fetches exactly one recording after a kill -9 ${step.replace(/-/g, ' ')}`, async () => {
      const callSid = sid('CA', 100 + n);
      const recordingSid = sid('RE', 100 + n);
      // Real time, so that the objects' modification times and the clock agree for the orphan sweep.
      const now = new Date();
      media.addCall(callSid, { from: '+46701234567', start: new Date(now.getTime() - 600_000).toISOString(), end: new Date(now.getTime() - 420_000).toISOString() });
      const storeDir = path.join(dir, 'objects');
      const env = { ...secrets, DATABASE_URL: tdb.url, STORE_DIR: storeDir, MEDIA_HOST: media.host, CALL_SID: callSid, RECORDING_SID: recordingSid };

      const killed = await runChild({ ...env, NOW: now.toISOString(), NOTIFY: '1', KILL_AT: step });
      expect(killed.signal, killed.stderr).to.equal('SIGKILL');
      expect(await tdb.db('source_items').where({ item_id: recordingSid })).to.have.length(1);

      const later = new Date(now.getTime() + 2 * 3_600_000).toISOString();
      const restarted = await runChild({ ...env, NOW: later, SWEEP: '1' });
      expect(restarted.code, restarted.stderr).to.equal(0);

      const rows = await tdb.db('recordings');
      expect(rows).to.have.length(1);
      expect(rows[0]).to.include({ status: 'stored', source: 'twilio', call_id: callSid });
      const entries: AuditEntry[] = [];
      for await (const e of readAuditEntries(tdb.db)) entries.push(e);
      const count = (a: string) => entries.filter((e) => e.action === a).length;
      expect(count('source.notified')).to.equal(1);
      expect(count('recording.ingested')).to.equal(1);
      expect(count('source.deleted')).to.equal(1);
      expect((await verifyChain(entries)).ok).to.equal(true);
      expect(media.deleted.has(recordingSid)).to.equal(true);
      expect(filesIn(storeDir).filter((f) => !f.endsWith('.meta.json'))).to.deep.equal([rows[0].storage_key]);
    });
  });
});
