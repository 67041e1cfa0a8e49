import type { AddressInfo } from 'node:net';
import { scheduleAuditCheckpoints } from '../jobs/audit-checkpoint.js';
import { startRetentionJob } from '../jobs/retention.js';
import { createApp } from './app.js';
import { ConfigError, loadResolvedConfig, type ResolvedConfig } from './config.js';
import { overdueReadinessCheck } from './retention/index.js';
import { createServices } from './services.js';
import { subjectRequestReadinessCheck } from './subject-requests/index.js';
import { systemClock } from './shared/clock.js';
import { createDatabase, migrateLatest } from './shared/database.js';
import { createLogger } from './shared/logger.js';
import { createStore, storeRoot } from './storage/index.js';

/** Composition root: config → logger → database → store → services → app (+ jobs). */
async function main(): Promise<void> {
  let config: ResolvedConfig;
  try {
    config = loadResolvedConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`gallra: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel });
  const db = createDatabase(config.databaseUrl);
  const applied = await migrateLatest(db);
  if (applied.length) logger.info('database migrated', { applied });
  const store = createStore(config);
  const services = createServices({ config, db, store, logger, clock: systemClock });
  const app = createApp(services, { readinessChecks: [overdueReadinessCheck(services.retention), subjectRequestReadinessCheck(services.subjectRequests.requests)] });
  const auditCheckpointJob = scheduleAuditCheckpoints({ checkpoints: services.auditCheckpoints, logger });
  const retentionJob = startRetentionJob(services);

  const server = app.listen(config.port, config.host, () => {
    const { port } = server.address() as AddressInfo;
    logger.info('gallra is listening', {
      port,
      database: config.databaseUrl.startsWith('sqlite:') ? config.databaseUrl : 'postgres',
      storage: config.storageDriver === 's3' ? `s3://${config.s3!.bucket}` : storeRoot(config),
      next: [
        'create an access token: npm run token -- create --role admin --name "Your name"',
        `send a test recording:   npm run send-recording -- --url http://localhost:${port} test/fixtures/call-pcm16-8k.wav`,
      ],
    });
  });
  // Uploads of large recordings may take minutes; do not cut them off.
  server.requestTimeout = 0;

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down: letting in-flight requests finish', { signal });
    server.close(async () => {
      await auditCheckpointJob.stop();
      await retentionJob.stop();
      await db.destroy();
      logger.info('stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`gallra failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
