import { Registry, collectDefaultMetrics } from 'prom-client';
import { createAccessTokenRepository, createAccessTokens, createAccessTokenStoredText } from './access-tokens/index.js';
import {
  createAuditCheckpoints, createAuditLog, createAuditMetrics, createAuditReader, createAuditRepository, createAuditTree, createReceipts, createTreeHeadRepository, createTreeHeads, TRANSPARENCY_DEFAULTS,
} from './audit-log/index.js';
import { createRegionExceptionRecord } from './data-residency/index.js';
import type { ResolvedConfig } from './config.js';
import { createRefusalLog } from './http/refusals.js';
import { createUploadQuarantine } from './http/upload-quarantine.js';
import { createWebhookVerifier } from './http/webhook-signature.js';
import { createCallOptOutStoredText, createOptOutRepository, createOptOuts } from './opt-outs/index.js';
import { createIngest, createPlayback, createRecordingDeleter, createRecordingReportFacts, createRecordingRepository, createRecordingStoredText } from './recordings/index.js';
import { createComplianceOverview, createRetentionReport, type ReportFacts } from './reports/index.js';
import { createPolicyRepository, createRetentionPolicy } from './retention-policy/index.js';
import {
  createCronSchedule, createDeletionHorizon, createHoldReportFacts, createHoldRepository, createHoldStoredText, createOrphanDeletionRepository, createHolds, createLeaseRepository, createOrphanSweep, createOverdueRecordings, createRetention,
  createRetentionMetrics, createRunLeases, RETENTION_ACTOR,
} from './retention/index.js';
import { createSecretFingerprintRepository, createSecretFingerprints } from './secrets/index.js';
import { createCallerKeys } from './shared/caller-key.js';
import type { Clock } from './shared/clock.js';
import { isPostgres, scrubFreedSpace, transactor, type Database } from './shared/database.js';
import { createHeartbeatRepository } from './shared/heartbeat-repository.js';
import type { Logger } from './shared/logger.js';
import type { ReadinessCheck } from './shared/readiness.js';
import type { ObjectStore } from './storage/index.js';
import { createDataKeyRepository, createEncryption, type KeyStore } from './encryption/index.js';
import { RECORDINGS_PREFIX } from './recordings/index.js';
import { createSessions, createSessionsRepository } from './web/index.js';
import {
  createItemIds, createNotifySource, createSourceAdmin, createSourceItemRepository, createSourceMetrics, createSourceNotificationRepository, createSourcePoller, sourcesReadinessCheck, type ConfiguredSource, type NotifySource, type SourcePoller,
} from './sources/index.js';
import {
  createOpenIdClientProvider, createSignInFailures, SignInFailuresStore, createStaffSignIn, createUsersRepository, type IdentityProvider,
} from './staff-sign-in/index.js';
import { createSubjectRequestRepository, createSubjectRequestServices, createSubjectRequestStoredText } from './subject-requests/index.js';
import { createNumberMasking } from './stored-numbers/index.js';

/** The adapters main.ts (or a test) builds; everything else is made from these. */
export interface Infrastructure {
  config: ResolvedConfig;
  /** The identity provider when OIDC is configured; tests may pass their own. Default: openid-client. */
  identityProvider?: IdentityProvider;
  db: Database;
  store: ObjectStore;
  logger: Logger;
  clock: Clock;
  /** The configured sources with their adapters (main.ts builds them from SOURCES_FILE); none by default. */
  sources?: ConfiguredSource[];
  /**
   * Where period and hold keys live (KEY_STORE_DIR or KEY_STORE_URL). With one, every recording is
   * encrypted before it reaches the store; without (a benchmark's baseline), recordings are stored as sent.
   */
  keyStore?: KeyStore;
}

/** Wires the use cases to their ports, each after everything it needs. No I/O happens here. */
export function createServices(infra: Infrastructure) {
  const { config, db, logger, clock } = infra;
  const rawStore = infra.store;
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const callerKeys = createCallerKeys(config.callerKeySecret);
  const verifier = createWebhookVerifier({ secrets: config.webhookSecrets, toleranceMs: config.webhookToleranceMs, clock });

  // Repositories (the only SQL) and the unit of work over the one database.
  const transaction = transactor(db);
  const auditEntries = createAuditRepository(db);
  const tokenRows = createAccessTokenRepository(db);
  const recordings = createRecordingRepository(db);
  const holdRows = createHoldRepository(db);
  const optOutRows = createOptOutRepository(db);
  const heartbeats = createHeartbeatRepository(db);

  // The audit log first: every change appends to it.
  const audit = createAuditLog({ clock, entries: auditEntries });
  const auditCheckpoints = createAuditCheckpoints({
    entries: auditEntries, transaction, store: rawStore, clock, logger, audit, signingKeyPem: config.auditSigningKey, keyListText: config.auditKeyList, objectRetentionMs: config.auditCheckpointRetentionMs,
  });
  createAuditMetrics(metrics, () => auditCheckpoints.state());
  const auditTree = createAuditTree({ entries: auditEntries });
  const transparency = config.transparency ?? TRANSPARENCY_DEFAULTS;
  const treeHeads = createTreeHeads({
    tree: auditTree, heads: createTreeHeadRepository(db), store: rawStore, transaction, audit, clock, logger, signer: auditCheckpoints.signer, origin: transparency.origin, signIntervalMs: transparency.signIntervalMs, witnessKeys: transparency.witnessKeys,
  });
  const receipts = createReceipts({ tree: auditTree, heads: treeHeads, entries: auditEntries });
  const auditReader = createAuditReader({ entries: auditEntries, transaction, audit, checkpoints: auditCheckpoints });
  const tokens = createAccessTokens({ tokens: tokenRows, transaction, audit, clock });
  // Checked at start (main.ts, the CLIs that use the secrets): every instance holds the same secrets.
  const secretFingerprints = createSecretFingerprints({ fingerprints: createSecretFingerprintRepository(db), transaction, audit, clock });
  const recordRegionException = createRegionExceptionRecord({ transaction, audit });

  // Encryption at rest wraps the store: every use case below reads and writes recordings through it.
  // deleteEarly is bound late: the deletion path itself goes through the encrypting store.
  let deleteEarly: (ids: string[], details: { keyPeriod: string }) => Promise<void> = async () => {};
  const encryption = infra.keyStore
    ? createEncryption({
        dataKeys: createDataKeyRepository(db, () => clock.now()), inner: rawStore, keyStore: infra.keyStore, periodHours: config.encryption?.periodHours ?? 1, prefix: RECORDINGS_PREFIX, transaction, audit, clock, logger,
        heldAmong: async (ids) => new Set((await holdRows.activeHoldIds(ids, clock.now())).keys()),
        deleteEarly: (ids, details) => deleteEarly(ids, details),
        storedPage: async (after) => {
          const PAGE = 200;
          const rows = await recordings.storedDueBefore(new Date('9999-12-31T23:59:59.999Z'), after ? (JSON.parse(after) as { deadline: string; id: string }) : undefined, PAGE);
          const last = rows[rows.length - 1];
          return {
            rows: rows.filter((r) => r.storageKey).map((r) => ({ id: r.id, storageKey: r.storageKey!, sha256: r.sha256, deadline: r.deadline })),
            next: rows.length === PAGE && last ? JSON.stringify({ deadline: last.deadline, id: last.id }) : undefined,
          };
        },
        stillStored: async (id) => (await recordings.findById(id))?.status === 'stored',
      })
    : undefined;
  const store = encryption?.store ?? rawStore;

  // The one deletion path, which leaves every held recording alone.
  const holds = createHolds({ holds: holdRows, recordings, transaction, audit, clock, logger });
  const deleteRecordings = createRecordingDeleter({
    recordings,
    transaction,
    store,
    audit,
    clock,
    logger,
    heldAmong: async (ids, tx) => new Set((await holdRows.activeHoldIds(ids, clock.now(), tx)).keys()),
  });
  deleteEarly = async (ids, details) => {
    const rows = (await Promise.all(ids.map((id) => recordings.findById(id)))).filter((r) => r !== undefined);
    if (rows.length) await deleteRecordings(rows, { reason: 'retention', actor: RETENTION_ACTOR, details });
  };
  // Ingest and the retention job share one horizon: nothing is stored that the next run could not delete in time.
  const retentionHorizon = createDeletionHorizon({ schedule: createCronSchedule(config.retentionSchedule, { from: clock.now() }), marginMs: config.retentionMarginMs });
  // The retention policy per queue: RETENTION_DAYS is its ceiling; the recordings' deadlines through their repository.
  const retentionPolicy = createRetentionPolicy({
    versions: createPolicyRepository(db),
    recordings: { storedPage: recordings.storedDeadlinesPage, bringForward: recordings.bringDeadlineForward },
    transaction, audit, clock, ceilingDays: config.retentionDays, deletionCutoff: retentionHorizon.cutoff, file: config.retentionPolicyFile?.path,
    rewrapDataKey: encryption?.rewrapForDeadline,
  });
  const optOuts = createOptOuts({
    optOuts: optOutRows, recordings, transaction, audit, clock, callerKeys, deleteRecordings, checkFromMemory: !isPostgres(db), retentionDays: config.retentionDays,
    queueRecorded: async (queue) => (await retentionPolicy.decide(queue)).record,
    sourceNames: () => (infra.sources ?? []).map((s) => s.config.name),
  });

  const ingest = createIngest({
    recordings, transaction, store, audit, clock, logger, retentionDays: config.retentionDays, discardPolicy: optOuts.discardPolicy,
    deletionCutoff: encryption ? (now) => encryption.ingestCutoff(retentionHorizon.cutoff(now)) : retentionHorizon.cutoff,
    sealStored: encryption?.seal,
    retentionFor: retentionPolicy.decide,
  });
  const subjectRequests = createSubjectRequestServices({
    repo: createSubjectRequestRepository(db), recordings, holds: holds.forRequests, optOutRecords: optOutRows, transaction, store, audit, clock, logger, metrics, callerKeys, deleteRecordings, optOuts: optOuts.registry, preserve: config.subjectRequestPreserve ?? true,
    policy: { controller: config.controller, retentionDays: config.retentionDays },
    receipts: { deletionOf: receipts.deletionOf, ingestOf: receipts.ingestOf, origin: treeHeads.origin, verifierKey: treeHeads.verifierKey },
  });
  const playback = createPlayback({ recordings, transaction, store, audit, clock, logger, optOuts, restricted: subjectRequests.requests.isRestricted });

  const overdue = createOverdueRecordings({ recordings, holds: holdRows, clock });
  const retentionMetrics = createRetentionMetrics(metrics, overdue.count);
  const sweepOrphans = createOrphanSweep({ recordings, intents: createOrphanDeletionRepository(db), transaction, store, audit, clock, logger, graceMs: config.orphanGraceMs });
  const retention = createRetention({
    recordings, clock, logger, holds, deleteRecordings, horizon: retentionHorizon, sweepOrphans, overdue, metrics: retentionMetrics,
    expirePendingCallOptOuts: (actor, opts) => optOuts.calls.expirePending(actor, opts),
    storeAnswers: () => store.ping().then(() => true, () => false),
    shredKeys: encryption?.shredKeys,
    applyPolicy: retentionPolicy.applyToStored,
  });
  const runLeases = createRunLeases({ leases: createLeaseRepository(db), clock, logger });
  // The reports own no table: each capability's read model answers for its own.
  const reportFacts: ReportFacts = {
    ...createRecordingReportFacts(db),
    ...createHoldReportFacts(db),
    disposalEntriesSince: (since) => auditEntries.entriesWithActionsSince(['recording.deleted', 'recording.discarded'], since),
  };
  // Stated in the overview and the report: the promise does not reach copies a source keeps.
  const copiesKeptAtSources = () => (infra.sources ?? []).filter((s) => !s.config.deleteAtSource).map((s) => ({ source: s.config.name, reason: s.config.keepReason ?? '' }));
  const policyHistory = () => retentionPolicy.history();
  const retentionReport = createRetentionReport({ facts: reportFacts, transaction, audit, clock, retentionDays: config.retentionDays, copiesKeptAtSources, policyHistory });
  const complianceOverview = createComplianceOverview({
    facts: reportFacts, clock, retentionDays: config.retentionDays, checkChain: () => auditCheckpoints.check('overview'), checkpoints: () => auditCheckpoints.list(), copiesKeptAtSources, policyHistory,
  });

  // Values stored before every field went through the number detector: masked at start (main.ts) and by npm run migrate.
  const maskStoredNumbers = createNumberMasking({
    sources: [createRecordingStoredText(db), createCallOptOutStoredText(db), createHoldStoredText(db), ...createSubjectRequestStoredText(db), createAccessTokenStoredText(db)],
    transaction,
    audit,
    logger,
    scrub: (tables) => scrubFreedSpace(db, tables),
  });

  /** What /readyz asks besides the capabilities' own checks. */
  const readiness: ReadinessCheck[] = [
    // A write, committed: a database that still answers reads but cannot write (disk full, read-only) is not ready.
    { name: 'database', check: async () => (await transaction((tx) => heartbeats.beat(tx, 'readyz', clock.now())), { ok: true, details: { writable: true } }) },
    { name: 'store', check: async () => (await store.ping(), { ok: true }) },
  ];
  // Sources polled for recordings: each item goes through the webhook's ingest use case.
  const sourceItems = createSourceItemRepository(db);
  const itemIdOf = createItemIds(config.callerKeySecret);
  const sourceNotifications = createSourceNotificationRepository(db);
  const notifySources: NotifySource[] = [];
  const sourcePollers: SourcePoller[] = (infra.sources ?? []).map((s) => {
    if ('platform' in s) {
      // Notified by the platform; the schedule fetches what is due (retries after failures).
      const n = createNotifySource({
        config: s.config, platform: s.platform, items: sourceItems, notifications: sourceNotifications, ingest, discardPolicy: optOuts.discardPolicy, transaction, audit, clock, logger, callerKeys,
      });
      notifySources.push(n);
      return n;
    }
    return createSourcePoller({
      config: s.config, adapter: s.adapter, items: sourceItems, ingest, transaction, audit, clock, logger, callerKeys, itemIdOf,
      futureToleranceMs: config.webhookToleranceMs, maxCallDurationMs: config.maxCallDurationMs,
    });
  });
  if (sourcePollers.length) {
    createSourceMetrics(metrics, { items: sourceItems, states: () => sourcePollers.map((p) => p.state()) });
    readiness.push(sourcesReadinessCheck(sourcePollers, sourceItems));
  }
  const sources = { pollers: sourcePollers, notifySources, items: sourceItems, admin: createSourceAdmin({ pollers: sourcePollers, items: sourceItems, transaction, audit, clock }) };

  const refusals = createRefusalLog({ metrics, logger });
  const quarantine = createUploadQuarantine({ maxBytes: config.edge.quarantineBytes, maxUploads: config.edge.unverifiedUploads, maxPerClient: config.edge.unverifiedUploadsPerClient });
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
  const signInFailures = createSignInFailures({ store: (limits) => new SignInFailuresStore(db, clock, limits) });
  const oidc = config.oidc;
  const staffSignIn = oidc
    ? createStaffSignIn({ provider: infra.identityProvider ?? createOpenIdClientProvider(oidc), sessions, failures: signInFailures, roleClaim: oidc.roleClaim, roles: oidc.roles })
    : undefined;
  return {
    ...infra, store, rawStore, encryption, sources, transaction, secretFingerprints, recordRegionException, maskStoredNumbers, refusals, quarantine, readiness, playback, sessions, users, signInFailures, staffSignIn, metrics, audit, auditCheckpoints, auditTree, treeHeads, receipts, auditReader, retentionReport, complianceOverview, callerKeys, tokens, verifier, ingest, deleteRecordings, optOuts, holds, retention, runLeases, subjectRequests, retentionPolicy,
  };
}

export type Services = ReturnType<typeof createServices>;
