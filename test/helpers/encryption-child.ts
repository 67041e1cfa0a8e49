/**
 * A gallra process that runs retention once (destroying due keys) and, with KILL_AT set, kills itself
 * with SIGKILL at that step of a key destruction (a real kill -9: no handler, no clean-up runs):
 *   before-key-destroy  the destruction's intent is committed, the key still in the key store
 *   after-key-destroy   the key is destroyed in the key store, its destruction not yet written down
 * With MODE=encrypt it runs storage:encrypt's use case instead, and KILL_AT may be
 *   before-encrypted-put  the data key's intent is committed, the plaintext still in place
 *   after-encrypted-put   the encrypted object replaced the plaintext, its key not yet recorded
 * Environment: DATABASE_URL, STORE_DIR, KEY_DIR, CALLER_KEY_SECRET, AUDIT_SIGNING_KEY, NOW (ISO), KILL_AT (optional), MODE.
 */
import path from 'node:path';
import { createDirKeyStore, type KeyStore } from '../../src/encryption/index.js';
import { createServices } from '../../src/services.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createDatabase, migrateLatest } from '../../src/shared/database.js';
import { createLogger } from '../../src/shared/logger.js';
import { createFsObjectStore, type ObjectStore } from '../../src/storage/index.js';
import { testConfig } from './test-app.js';

const env = process.env;
const die = (step: string) => {
  if (env.KILL_AT === step) process.kill(process.pid, 'SIGKILL');
};

const db = createDatabase(env.DATABASE_URL!);
await migrateLatest(db);
const dirKeys = createDirKeyStore(env.KEY_DIR!);
const keyStore: KeyStore = {
  ...dirKeys,
  async destroy(id) {
    die('before-key-destroy');
    await dirKeys.destroy(id);
    die('after-key-destroy');
  },
};
const config = testConfig(path.dirname(env.STORE_DIR!), { databaseUrl: env.DATABASE_URL!, callerKeySecret: env.CALLER_KEY_SECRET!, auditSigningKey: env.AUDIT_SIGNING_KEY! });
const fsStore = createFsObjectStore({ root: env.STORE_DIR! });
const store: ObjectStore = {
  ...fsStore,
  async put(...args) {
    die('before-encrypted-put');
    const r = await fsStore.put(...args);
    die('after-encrypted-put');
    return r;
  },
};
const services = createServices({ config, db, store, logger: createLogger({ level: 'silent' }), clock: new ManualClock(env.NOW!), keyStore });
if (env.MODE === 'encrypt') {
  process.stdout.write(JSON.stringify(await services.encryption!.encryptExisting({ actor: 'system:storage-encrypt' })) + '\n');
} else {
  const report = await services.retention.run();
  process.stdout.write(JSON.stringify(report.keys) + '\n');
}
await db.destroy();
