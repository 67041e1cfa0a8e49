import { Registry, collectDefaultMetrics } from 'prom-client';
import { createAccessTokens } from './access-tokens/index.js';
import { createAuditLog } from './audit-log/index.js';
import type { ResolvedConfig } from './config.js';
import { createWebhookVerifier } from './http/webhook-signature.js';
import { createIngest, createRecordingDeleter } from './recordings/index.js';
import { createCallerKeys } from './shared/caller-key.js';
import type { Clock } from './shared/clock.js';
import type { Database } from './shared/database.js';
import type { Logger } from './shared/logger.js';
import type { ObjectStore } from './storage/index.js';

/** The adapters main.ts (or a test) builds; everything else is made from these. */
export interface Infrastructure {
  config: ResolvedConfig;
  db: Database;
  store: ObjectStore;
  logger: Logger;
  clock: Clock;
}

/** Wires the use cases to their ports. No I/O happens here. */
export function createServices(infra: Infrastructure) {
  const { config, db, store, logger, clock } = infra;
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const audit = createAuditLog({ clock });
  const callerKeys = createCallerKeys(config.callerKeySecret);
  const tokens = createAccessTokens({ db, audit, clock });
  const verifier = createWebhookVerifier({ secrets: config.webhookSecrets, toleranceMs: config.webhookToleranceMs, clock });
  const deleteRecordings = createRecordingDeleter({ db, store, audit, clock, logger });
  const ingest = createIngest({ db, store, audit, clock, logger, retentionDays: config.retentionDays });
  return { ...infra, metrics, audit, callerKeys, tokens, verifier, ingest, deleteRecordings };
}

export type Services = ReturnType<typeof createServices>;
