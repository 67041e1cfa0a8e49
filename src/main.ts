import './shared/require-supported-node.js'; // first: refuse an unsupported Node.js before loading anything
import type { AddressInfo } from 'node:net';
import { scheduleAuditCheckpoints } from '../jobs/audit-checkpoint.js';
import { startAuditStartVerification } from '../jobs/audit-start-verification.js';
import { startRetentionJob } from '../jobs/retention.js';
import { startSourceJobs } from '../jobs/sources.js';
import { createApp, createMetricsApp } from './app.js';
import { createHttpServer, stopServer } from './http/server.js';
import { ConfigError, loadResolvedConfig, type ResolvedConfig } from './config.js';
import { auditChainReadinessCheck } from './audit-log/index.js';
import { overdueReadinessCheck } from './retention/index.js';
import { SecretMismatch } from './secrets/index.js';
import { createServices } from './services.js';
import { subjectRequestReadinessCheck } from './subject-requests/index.js';
import { systemClock } from './shared/clock.js';
import { createDatabase, migrateLatest } from './shared/database.js';
import { createLogger, errorFacts } from './shared/logger.js';
import { createStore, storeRoot } from './storage/index.js';
import { createNotifyPlatform, createSourceAdapter, type ConfiguredSource } from './sources/index.js';
import { createKeyStore } from './encryption/index.js';

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
  const db = createDatabase(config.databaseUrl, { busyTimeoutMs: config.sqliteBusyTimeoutMs, lockTimeoutMs: config.pgLockTimeoutMs });
  const applied = await migrateLatest(db);
  if (applied.length) logger.info('database migrated', { applied });
  const store = createStore(config);
  const sources: ConfiguredSource[] = (config.sources ?? []).map((source) =>
    source.adapter === 'notify' ? { config: source, platform: createNotifyPlatform(source) } : { config: source, adapter: createSourceAdapter(source) },
  );
  // Period keys live apart from the database and the store (KEY_STORE_DIR, by default ./keys beside ./data).
  const keyStore = createKeyStore(config.encryption);
  const services = createServices({ config, db, store, logger, clock: systemClock, sources, keyStore });
  // Before anything is stored or matched: an instance with other secrets would break the opt-out promise.
  try {
    await services.secretFingerprints.verify({ CALLER_KEY_SECRET: config.callerKeySecret, WEBHOOK_SECRETS: config.webhookSecrets });
  } catch (err) {
    if (err instanceof SecretMismatch) {
      process.stderr.write(`gallra: ${err.message}\n`);
      await db.destroy();
      process.exit(2);
    }
    throw err;
  }
  // RETENTION_POLICY_FILE is the policy: a new version (audited policy.changed) when the file differs from the stored one.
  if (config.retentionPolicyFile) {
    const loaded = await services.retentionPolicy.loadFile(config.retentionPolicyFile.body);
    logger.info(loaded.changed ? 'retention policy loaded from its file as a new version' : 'retention policy file unchanged', { file: config.retentionPolicyFile.path, version: loaded.view.version });
  }
  // Its public key in the log, so that the checkpoints it signs verify on every instance and after a rotation.
  await services.auditCheckpoints.registerSigningKey('system:start');
  // A store outside the EU/EEA list starts only by a named exception (config.ts), on the record each time.
  if (config.storeResidency) await services.recordRegionException('system:start', 'S3_REGION', config.storeResidency);
  // A bucket source's region likewise: the platform's copies are personal data until deleted there.
  for (const s of config.sources ?? []) if (s.adapter === 'bucket') await services.recordRegionException('system:start', `SOURCES_FILE ${s.name}.region`, s.residency);
  // Verified from the start, in the background: it reads checkpoints from the store, and the pre-call
  // check and opt-out registration must not wait for a store that is down. Retried until it passes;
  // /readyz says it is pending meanwhile.
  const startVerification = startAuditStartVerification({ checkpoints: services.auditCheckpoints, logger });
  const app = createApp(services, {
    readinessChecks: [
      overdueReadinessCheck(services.retention),
      subjectRequestReadinessCheck(services.subjectRequests.requests),
      auditChainReadinessCheck(services.auditCheckpoints.state, startVerification.pending),
    ],
  });
  const auditCheckpointJob = scheduleAuditCheckpoints({ checkpoints: services.auditCheckpoints, treeHeads: services.treeHeads, logger });
  const retentionJob = startRetentionJob(services);
  // Numbers stored before every field was checked (issue #23), or by an older instance still running
  // during an upgrade: masked beside the service, which it need not delay (it reads every row).
  const masking = services.maskStoredNumbers('system:start').catch((err: unknown) => logger.error('masking stored numbers failed; the next start retries', { err: errorFacts(err) }));
  const sourceJobs = startSourceJobs(services);
  if (sources.length) logger.info('polling sources', { sources: sources.map((s) => ({ name: s.config.name, adapter: s.config.adapter, every: s.config.schedule })) });

  const server = createHttpServer(app, config.edge);
  server.listen(config.port, config.host, () => {
    const { port } = server.address() as AddressInfo;
    logger.info('gallra is listening', {
      port,
      database: config.databaseUrl.startsWith('sqlite:') ? config.databaseUrl : 'postgres',
      storage: config.storageDriver === 's3' ? `s3://${config.s3!.bucket}` : storeRoot(config),
      keyStore: config.encryption!.keyStore.kind === 'dir' ? config.encryption!.keyStore.dir : 'postgres (KEY_STORE_URL)',
      next: [
        'create an access token: npm run token -- create --role admin --name "Your name"',
        `send a test recording:   npm run send-recording -- --url http://localhost:${port} test/fixtures/call-pcm16-8k.wav`,
      ],
    });
  });
  const metricsServer = config.edge.metricsListen ? createHttpServer(createMetricsApp(services), config.edge) : undefined;
  metricsServer?.listen(config.edge.metricsListen!.port, config.edge.metricsListen!.host, () => {
    logger.info('metrics are served on their own listener', { listen: `${config.edge.metricsListen!.host}:${(metricsServer.address() as AddressInfo).port}` });
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down: letting in-flight requests finish', { signal, timeoutMs: config.edge.shutdownTimeoutMs });
    // Jobs and the database get a little longer; a process that still has not stopped then exits anyway.
    setTimeout(() => process.exit(1), config.edge.shutdownTimeoutMs + 10_000).unref();
    void (async () => {
      const [how] = await Promise.all([stopServer(server, config.edge.shutdownTimeoutMs), metricsServer && stopServer(metricsServer, 0)]);
      if (how === 'forced') logger.warn('closed connections still open at the shutdown deadline');
      await startVerification.stop();
      await auditCheckpointJob.stop();
      await retentionJob.stop();
      await masking;
      await sourceJobs.stop();
      await db.destroy();
      await keyStore.close();
      logger.info('stopped');
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`gallra failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
