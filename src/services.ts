import { Registry, collectDefaultMetrics } from 'prom-client';
import { createAccessTokens } from './access-tokens/index.js';
import { createAuditCheckpoints, createAuditLog, createAuditMetrics, createAuditReader } from './audit-log/index.js';
import { createRetentionReport } from './reports/index.js';
import type { ResolvedConfig } from './config.js';
import { createRefusalLog } from './http/refusals.js';
import { createUploadQuarantine } from './http/upload-quarantine.js';
import { createWebhookVerifier } from './http/webhook-signature.js';
import { createIngest, createPlayback, createRecordingDeleter } from './recordings/index.js';
import { createCallerKeys } from './shared/caller-key.js';
import type { Clock } from './shared/clock.js';
import type { Database } from './shared/database.js';
import type { Logger } from './shared/logger.js';
import type { ObjectStore } from './storage/index.js';
import { createSessions, createSessionsRepository } from './web/index.js';
import {
  createOpenIdClientProvider, createSignInFailures, createSignInFailuresRepository, createStaffSignIn, createUsersRepository, type IdentityProvider,
} from './staff-sign-in/index.js';
import { createOptOuts } from './opt-outs/index.js';
import { createSubjectRequestServices } from './subject-requests/index.js';
import { createCronSchedule, createDeletionHorizon, createRetentionServices } from './retention/index.js';

/** The adapters main.ts (or a test) builds; everything else is made from these. */
export interface Infrastructure {
  config: ResolvedConfig;
  /** The identity provider when OIDC is configured; tests may pass their own. Default: openid-client. */
  identityProvider?: IdentityProvider;
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
  const auditCheckpoints = createAuditCheckpoints({
    db, store, clock, logger, audit, signingKeyPem: config.auditSigningKey, keyListText: config.auditKeyList, objectRetentionMs: config.auditCheckpointRetentionMs,
  });
  createAuditMetrics(metrics, () => auditCheckpoints.state());
  const auditReader = createAuditReader({ db, audit, checkpoints: auditCheckpoints });
  const retentionReport = createRetentionReport({ db, audit, clock, retentionDays: config.retentionDays });
  const callerKeys = createCallerKeys(config.callerKeySecret);
  const tokens = createAccessTokens({ db, audit, clock });
  const verifier = createWebhookVerifier({ secrets: config.webhookSecrets, toleranceMs: config.webhookToleranceMs, clock });
  // `holds` is made below (retention needs the deleter); the deleter only asks it at deletion time.
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
  const { holds, retention, leases: runLeases } = createRetentionServices({ db, store, audit, clock, logger, metrics, deleteRecordings, horizon: retentionHorizon, orphanGraceMs: config.orphanGraceMs });
  const subjectRequests = createSubjectRequestServices({
    db, store, audit, clock, logger, metrics, callerKeys, deleteRecordings, optOuts: optOuts.registry, preserve: config.subjectRequestPreserve ?? true,
  });
  const playback = createPlayback({ db, store, audit, clock, logger, optOuts, restricted: subjectRequests.requests.isRestricted });
  const users = createUsersRepository(db);
  const sessions = createSessions({
    sessions: createSessionsRepository(db),
    tokens,
    audit,
    clock,
    ttlMs: config.sessionTtlMs,
    idleMs: config.sessionIdleMs,
    savePerson: (trx, p, at) => users.save(trx, { id: p.sub, issuer: p.issuer, name: p.name, email: p.email, roles: p.roles, lastSignedInAt: at }),
  });
  const signInFailures = createSignInFailures({ repo: createSignInFailuresRepository(db), clock });
  const oidc = config.oidc;
  const staffSignIn = oidc
    ? createStaffSignIn({ provider: infra.identityProvider ?? createOpenIdClientProvider(oidc), sessions, failures: signInFailures, roleClaim: oidc.roleClaim, roles: oidc.roles })
    : undefined;
  const refusals = createRefusalLog({ metrics, logger });
  const quarantine = createUploadQuarantine({ maxBytes: config.edge.quarantineBytes, maxUploads: config.edge.unverifiedUploads, maxPerClient: config.edge.unverifiedUploadsPerClient });
  return { ...infra, refusals, quarantine, playback, sessions, users, signInFailures, staffSignIn, metrics, audit, auditCheckpoints, auditReader, retentionReport, callerKeys, tokens, verifier, ingest, deleteRecordings, optOuts, holds, retention, runLeases, subjectRequests };
}

export type Services = ReturnType<typeof createServices>;
