/**
 * npm run storage:encrypt — encrypts in place the plaintext objects of recordings stored before
 * encryption at rest (src/encryption/encrypt-existing.ts). Progress on stderr, the report on stdout.
 */
import '../src/shared/require-supported-node.js'; // first: refuse an unsupported Node.js before loading anything
import { ConfigError, loadResolvedConfig, type ResolvedConfig } from '../src/config.js';
import { createKeyStore } from '../src/encryption/index.js';
import { createServices } from '../src/services.js';
import { systemClock } from '../src/shared/clock.js';
import { createDatabase, migrateLatest } from '../src/shared/database.js';
import { createLogger } from '../src/shared/logger.js';
import { createS3Client, createStore, deleteOlderVersions } from '../src/storage/index.js';
import { cliArgs, parseNoArgs, STORAGE_ENCRYPT_HELP } from './cli-args.js';

async function main(): Promise<number> {
  cliArgs('storage:encrypt', STORAGE_ENCRYPT_HELP, parseNoArgs);
  let config: ResolvedConfig;
  try {
    config = loadResolvedConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`storage:encrypt: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const db = createDatabase(config.databaseUrl);
  const keyStore = createKeyStore(config.encryption!);
  const s3 = config.storageDriver === 's3' && config.s3 ? createS3Client(config.s3) : undefined;
  try {
    await migrateLatest(db);
    const logger = createLogger({ level: config.logLevel, stream: process.stderr });
    const services = createServices({ config, db, store: createStore(config), logger, clock: systemClock, keyStore });
    // A versioned bucket keeps the plaintext as an older version: deleted once the encrypted one is verified.
    const dropOlderVersions = s3
      ? async (key: string) => void (await deleteOlderVersions(s3, config.s3!.bucket, key))
      : undefined;
    const report = await services.encryption!.encryptExisting({
      actor: 'system:storage-encrypt',
      dropOlderVersions,
      onProgress: ({ done, seen, bytes }) => process.stderr.write(`storage:encrypt: ${done} encrypted (${(bytes / 1e6).toFixed(1)} MB), ${seen} recordings looked at\n`),
    });
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    process.stderr.write(`storage:encrypt: done: ${report.encrypted} encrypted, ${report.alreadyEncrypted} already encrypted, ${report.skipped.length} skipped\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`storage:encrypt: ${(err as Error).message}\n`);
    return 1;
  } finally {
    s3?.destroy();
    await db.destroy();
    await keyStore.close();
  }
}

process.exitCode = await main();
