import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import express, { type Express } from 'express';
import { createApp, type AppOptions } from '../../src/app.js';
import { loadConfig, type ResolvedConfig } from '../../src/config.js';
import type { Role } from '../../src/http/types.js';
import { auditChainReadinessCheck } from '../../src/audit-log/index.js';
import { overdueReadinessCheck } from '../../src/retention/index.js';
import { createServices, type Infrastructure, type Services } from '../../src/services.js';
import { ManualClock } from '../../src/shared/clock.js';
import { isPostgres, migrateLatest, type Database } from '../../src/shared/database.js';
import { createLogger } from '../../src/shared/logger.js';
import { createFsObjectStore, type ObjectStore } from '../../src/storage/index.js';
import { createDirKeyStore, type KeyStore } from '../../src/encryption/index.js';
import { watchResponse } from './openapi-check.js';
import { createTestDatabase, type DatabaseKind } from './test-database.js';

export { itOn, TEST_DATABASE, type DatabaseKind } from './test-database.js';

/** One Ed25519 key for every test app: generating one per test would only cost time. */
const TEST_AUDIT_KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** /metrics on the test app's main listener needs it, as METRICS_TOKEN would in production. */
export const TEST_METRICS_TOKEN = 'test-metrics-token-'.padEnd(40, 'm');

export const TEST_WEBHOOK_SECRET = 'whsec_' + Buffer.from('gallra-test-webhook-secret-32byt').toString('base64');

export interface TestApp {
  services: Services;
  app: Express;
  db: Database;
  /** The database kind the app runs on: the run's (GALLRA_TEST_DB), or that of a `db` passed in. */
  kind: DatabaseKind;
  /** The store as the test gave it (or the temp filesystem store): what lies at rest, ciphertext for recordings. */
  store: ObjectStore;
  /** The key store the app encrypts with (a temp directory of its own, outside `dir`), or none when the test turned encryption off. */
  keyStore?: KeyStore;
  keyStoreDir?: string;
  clock: ManualClock;
  config: ResolvedConfig;
  dir: string;
  /** Everything the service logged, as text (to grep for numbers that must not be there). */
  logs(): string;
  /** Every byte the database holds, to search for what must not be there (see TestDatabase.contents). */
  databaseContents(): Promise<Buffer>;
  /** A fresh bearer token for the role. */
  token(role: Role): Promise<string>;
  close(): Promise<void>;
}

/** The controller a test app is configured with (CONTROLLER_NAME, … as a municipality would set them). */
export const TEST_CONTROLLER = Object.freeze({
  name: 'Provstads kommun, kommunstyrelsen',
  orgNumber: '212000-0001',
  contact: 'Box 1, 100 00 Provstad · kommunstyrelsen@provstad.example',
  dpoContact: 'Dataskyddsombudet, Box 1, 100 00 Provstad · dataskyddsombud@provstad.example',
  configured: true,
});

export function testConfig(dir: string, overrides: Partial<ResolvedConfig> = {}): ResolvedConfig {
  return {
    ...loadConfig({}),
    port: 0,
    host: '127.0.0.1',
    dataDir: dir,
    databaseUrl: `sqlite:${path.join(dir, 'gallra.sqlite')}`,
    storageDriver: 'fs',
    webhookSecrets: [TEST_WEBHOOK_SECRET],
    webhookToleranceMs: 300_000,
    callerKeySecret: randomBytes(32).toString('hex'),
    auditSigningKey: TEST_AUDIT_KEY,
    retentionDays: 30,
    retentionSchedule: '*/15 * * * *',
    orphanGraceMs: 3_600_000,
    maxRecordingBytes: 5 * 1024 * 1024,
    maxCallDurationMs: 24 * 3_600_000,
    edge: { ...loadConfig({}).edge, metricsToken: TEST_METRICS_TOKEN },
    sessionTtlMs: 8 * 3_600_000,
    sessionIdleMs: 30 * 60_000,
    allowTokenSignIn: false,
    trustProxy: false,
    logLevel: 'info',
    controller: TEST_CONTROLLER,
    ...overrides,
  };
}

/**
 * The secrets of a test app's configuration as the environment of a CLI run beside it: on PostgreSQL
 * (or in production) a CLI, like the service, starts only with secrets given.
 */
export function secretsEnv(config: ResolvedConfig): Record<string, string> {
  return { CALLER_KEY_SECRET: config.callerKeySecret, WEBHOOK_SECRETS: config.webhookSecrets.join(','), AUDIT_SIGNING_KEY: config.auditSigningKey };
}

/**
 * The real app on a fresh database of the run's kind (SQLite in its temp directory, or a throwaway
 * PostgreSQL database; see test-database.ts), with the filesystem store unless another is given, a
 * manual clock, and logs captured in memory. A `db` passed in (a second instance on the same database)
 * is migrated but neither owned nor dropped.
 */
export async function startTestApp(
  opts: {
    store?: ObjectStore; clock?: ManualClock; config?: Partial<ResolvedConfig>; app?: AppOptions; db?: Database; sources?: Infrastructure['sources'];
    /** A key store to share (a second instance, a restore drill); false: no encryption. Default: a fresh temp directory. */
    keyStore?: KeyStore | false;
  } = {},
): Promise<TestApp> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gallra-test-'));
  const own = opts.db ? undefined : await createTestDatabase(dir);
  const config = testConfig(dir, { ...(own && { databaseUrl: own.url }), ...opts.config });
  const db = opts.db ?? own!.db;
  if (opts.db) await migrateLatest(db);
  const store = opts.store ?? createFsObjectStore({ root: path.join(dir, 'objects') });
  const clock = opts.clock ?? new ManualClock(new Date());
  let logText = '';
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => (logText += c.toString('utf8')));
  const logger = createLogger({ level: 'debug', stream: sink });
  const keyStoreDir = opts.keyStore === undefined ? mkdtempSync(path.join(tmpdir(), 'gallra-keys-')) : undefined;
  const keyStore = opts.keyStore === false ? undefined : (opts.keyStore ?? createDirKeyStore(keyStoreDir!));
  const services = createServices({ config, db, store, logger, clock, sources: opts.sources, keyStore });
  const inner = createApp(services, { readinessChecks: [overdueReadinessCheck(services.retention), auditChainReadinessCheck(services.auditCheckpoints.state)], ...opts.app });
  // Every response the tests see is checked against /openapi.json; what does not match fails close().
  const violations: string[] = [];
  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    watchResponse(req, res, violations);
    next();
  });
  app.use(inner);
  return {
    services,
    app,
    db,
    kind: own?.kind ?? (isPostgres(db) ? 'postgres' : 'sqlite'),
    store,
    keyStore,
    keyStoreDir,
    clock,
    config,
    dir,
    logs: () => logText,
    async databaseContents() {
      if (!own) throw new Error('databaseContents() reads only a database the test app made itself');
      return own.contents();
    },
    async token(role) {
      const { token } = await services.tokens.create({ role, name: `test ${role}` }, 'system:test');
      return token;
    },
    async close() {
      await (own ? own.close() : db.destroy());
      rmSync(dir, { recursive: true, force: true });
      if (keyStoreDir) rmSync(keyStoreDir, { recursive: true, force: true });
      if (violations.length) throw new Error(`responses that do not match /openapi.json:\n  ${violations.join('\n  ')}`);
    },
  };
}
