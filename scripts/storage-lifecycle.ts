/**
 * npm run storage:lifecycle — puts gallra's lifecycle rules (expiry of recordings/ one day after
 * RETENTION_DAYS, cleanup of incomplete multipart uploads) on the configured S3 bucket.
 */
import '../src/shared/require-supported-node.js'; // first: refuse an unsupported Node.js before loading anything
import { ConfigError, loadConfig, type Config } from '../src/config.js';
import { applyLifecycle, createS3Client } from '../src/storage/index.js';
import { cliArgs, parseNoArgs, STORAGE_LIFECYCLE_HELP } from './cli-args.js';

cliArgs('storage:lifecycle', STORAGE_LIFECYCLE_HELP, parseNoArgs);

let config: Readonly<Config>;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(1);
}

if (config.storageDriver !== 's3' || !config.s3) {
  console.error(
    `storage:lifecycle needs STORAGE_DRIVER=s3 and S3_BUCKET (STORAGE_DRIVER is ${config.storageDriver}). ` +
      'The filesystem store has no lifecycle rules: the retention job deletes its files.',
  );
  process.exit(1);
}

const { bucket } = config.s3;
const client = createS3Client(config.s3);
try {
  const { applied, kept } = await applyLifecycle(client, bucket, config.retentionDays);
  console.log(`Applied lifecycle rules to bucket ${bucket} (RETENTION_DAYS=${config.retentionDays}):`);
  console.log(JSON.stringify(applied, null, 2));
  if (kept.length) console.log(`Kept ${kept.length} other rule(s): ${kept.map((r) => r.ID ?? '(no id)').join(', ')}`);
} catch (err) {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : '';
  console.error(`Could not apply lifecycle rules to bucket ${bucket}: ${e.name ?? 'Error'}${status}: ${e.message ?? ''}`);
  process.exitCode = 1;
} finally {
  client.destroy();
}
