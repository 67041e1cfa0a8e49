/**
 * A gallra process that polls one folder source and, with KILL_AT set, kills itself with SIGKILL at
 * that step (a real kill -9: no handler, no clean-up runs). Run by test/chaos/source-kill.test.ts:
 *   after-download          the audio is in the store, nothing committed
 *   after-commit            the recording, its entry and the item's "taken" are committed; nothing removed at the source
 *   between-source-deletes  the sidecar is removed at the source, the audio not yet
 *   after-source-delete     the copy is removed, its deletion not yet audited
 * Environment: DATABASE_URL, STORE_DIR, SOURCE_DIR, CALLER_KEY_SECRET, AUDIT_SIGNING_KEY, NOW (ISO),
 * KILL_AT (optional), SWEEP=1 to run retention (with its orphan sweep) after the polls.
 */
import path from 'node:path';
import { createServices } from '../../src/services.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createDatabase, migrateLatest } from '../../src/shared/database.js';
import { createLogger } from '../../src/shared/logger.js';
import { createFolderSource, type SourceAdapter } from '../../src/sources/index.js';
import { createFsObjectStore, type ObjectStore } from '../../src/storage/index.js';
import { folderSource } from './sources.js';
import { testConfig } from './test-app.js';

const env = process.env;
const killAt = env.KILL_AT ?? '';
const die = (step: string) => {
  if (killAt === step) process.kill(process.pid, 'SIGKILL');
};

const db = createDatabase(env.DATABASE_URL!);
await migrateLatest(db);
const fsStore = createFsObjectStore({ root: env.STORE_DIR! });
const store: ObjectStore = Object.assign(Object.create(fsStore) as ObjectStore, {
  async put(...args: Parameters<ObjectStore['put']>) {
    const r = await fsStore.put(...args);
    die('after-download');
    return r;
  },
});
const folder = createFolderSource({ root: env.SOURCE_DIR! });
let removals = 0;
const adapter: SourceAdapter = {
  ...folder,
  async remove(p) {
    // The sidecar is removed first, then the audio.
    die(++removals === 1 ? 'after-commit' : 'between-source-deletes');
    return folder.remove(p);
  },
};
const clock = new ManualClock(env.NOW!);
const config = testConfig(path.dirname(env.STORE_DIR!), {
  databaseUrl: env.DATABASE_URL!,
  callerKeySecret: env.CALLER_KEY_SECRET!,
  auditSigningKey: env.AUDIT_SIGNING_KEY!,
});
const services = createServices({ config, db, store, logger: createLogger({ level: 'silent' }), clock, sources: [{ config: folderSource('pbx', env.SOURCE_DIR!), adapter }] });
const items = services.sources.items;
const markDeleted = items.markDeleted.bind(items);
items.markDeleted = async (...args) => {
  die('after-source-delete');
  return markDeleted(...args);
};

const poller = services.sources.pollers[0]!;
await poller.poll();
clock.advance(60_000);
const report = await poller.poll();
if (env.SWEEP === '1') await services.retention.run();
process.stdout.write(JSON.stringify(report) + '\n');
await db.destroy();
