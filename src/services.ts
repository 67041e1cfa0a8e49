import { Registry, collectDefaultMetrics } from 'prom-client';
import { createAccessTokens } from './access-tokens/index.js';
import { createAuditCheckpoints, createAuditLog, createAuditReader } from './audit-log/index.js';
import type { ResolvedConfig } from './config.js';
import { createRefusalLog } from './http/refusals.js';
import { createUploadQuarantine } from './http/upload-quarantine.js';
import { createWebhookVerifier } from './http/webhook-signature.js';
import { createOptOuts } from './opt-outs/index.js';
import { createIngest, createPlayback, createRecordingDeleter } from './recordings/index.js';
import { createRetentionReport } from './reports/index.js';
import {
  createCronSchedule, createDeletionHorizon, createHolds, createOrphanSweep, createOverdueRecordings, createRetention, createRetentionMetrics, createRunLeases,
} from './retention/index.js';
import { createCallerKeys } from './shared/caller-key.js';
import type { Clock } from './shared/clock.js';
import { pingDatabase, type Database } from './shared/database.js';
import type { Logger } from './shared/logger.js';
import type { ReadinessCheck } from './shared/readiness.js';
import type { ObjectStore } from './storage/index.js';
import { createSessions } from './web/index.js';
import { createSubjectRequestServices } from './subject-requests/index.js';

/** The adapters main.ts (or a test) builds; everything else is made from these. */
export interface Infrastructure {
  config: ResolvedConfig;
  db: Database;
  store: ObjectStore;
  logger: Logger;
  clock: Clock;
}

/** Wires the use cases to their ports, each after everything it needs. No I/O happens here. */
export function createServices(infra: Infrastructure) {
  const { config, db, store, logger, clock } = infra;
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const callerKeys = createCallerKeys(config.callerKeySecret);
  const verifier = createWebhookVerifier({ secrets: config.webhookSecrets, toleranceMs: config.webhookToleranceMs, clock });

  // The audit log first: every change appends to it.
  const audit = createAuditLog({ clock });
  const auditCheckpoints = createAuditCheckpoints({ db, store, clock, logger, signingKeyPem: config.auditSigningKey });
  const auditReader = createAuditReader({ db, audit, checkpoints: auditCheckpoints });
  const tokens = createAccessTokens({ db, audit, clock });
  const sessions = createSessions({ db, tokens, audit, clock, ttlMs: config.sessionTtlMs });

  // The one deletion path, which leaves every held recording alone.
  const holds = createHolds({ db, audit, clock, logger });
  const deleteRecordings = createRecordingDeleter({
    db,
    store,
    audit,
    clock,
    logger,
    heldAmong: async (ids) => new Set((await holds.activeHoldIds(db, ids, clock.now())).keys()),
  });
  const optOuts = createOptOuts({ db, audit, clock, callerKeys, deleteRecordings });

  // Ingest and the retention job share one horizon: nothing is stored that the next run could not delete in time.
  const retentionHorizon = createDeletionHorizon({ schedule: createCronSchedule(config.retentionSchedule, { from: clock.now() }), marginMs: config.retentionMarginMs });
  const ingest = createIngest({ db, store, audit, clock, logger, retentionDays: config.retentionDays, discardPolicy: optOuts.discardPolicy, deletionCutoff: retentionHorizon.cutoff });
  const subjectRequests = createSubjectRequestServices({
    db, store, audit, clock, logger, metrics, callerKeys, deleteRecordings, optOuts: optOuts.registry, preserve: config.subjectRequestPreserve ?? true,
  });
  const playback = createPlayback({ db, store, audit, clock, logger, optOuts, restricted: subjectRequests.requests.isRestricted });

  const overdue = createOverdueRecordings({ db, clock, holds });
  const retentionMetrics = createRetentionMetrics(metrics, overdue.count);
  const sweepOrphans = createOrphanSweep({ db, store, audit, clock, logger, graceMs: config.orphanGraceMs });
  const retention = createRetention({ db, clock, logger, holds, deleteRecordings, horizon: retentionHorizon, sweepOrphans, overdue, metrics: retentionMetrics });
  const runLeases = createRunLeases({ db, clock, logger });
  const retentionReport = createRetentionReport({ db, audit, clock, retentionDays: config.retentionDays });

  /** What /readyz asks besides the capabilities' own checks. */
  const readiness: ReadinessCheck[] = [
    { name: 'database', check: async () => (await pingDatabase(db), { ok: true }) },
    { name: 'store', check: async () => (await store.ping(), { ok: true }) },
  ];
  const refusals = createRefusalLog({ metrics, logger });
  const quarantine = createUploadQuarantine({ maxBytes: config.edge.quarantineBytes, maxUploads: config.edge.unverifiedUploads, maxPerClient: config.edge.unverifiedUploadsPerClient });
  return {
    ...infra, refusals, quarantine, readiness, playback, sessions, metrics, audit, auditCheckpoints, auditReader, retentionReport, callerKeys, tokens, verifier, ingest, deleteRecordings, optOuts, holds, retention, runLeases, subjectRequests,
  };
}

export type Services = ReturnType<typeof createServices>;
