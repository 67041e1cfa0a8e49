import express, { type Express } from 'express';
import helmet from 'helmet';
import { auditRoutes } from './audit-log/audit.routes.js';
import { transparencyRoutes } from './audit-log/transparency.routes.js';
import { TRANSPARENCY_DEFAULTS } from './audit-log/index.js';
import { authenticate, bearerResolver } from './http/auth.js';
import { healthRoutes } from './http/health.routes.js';
import { metricsRoutes } from './http/metrics.routes.js';
import { openApiDocument } from './openapi.js';
import { problemHandler, problemType, sendProblem } from './http/problem.js';
import { requestId } from './http/request-id.js';
import { optOutRoutes } from './opt-outs/opt-outs.routes.js';
import { playbackRoutes } from './recordings/playback.routes.js';
import { ingestRoutes } from './recordings/recordings.routes.js';
import { reportsRoutes } from './reports/reports.routes.js';
import { retentionRoutes } from './retention/retention.routes.js';
import { retentionPolicyRoutes } from './retention-policy/retention-policy.routes.js';
import type { Services } from './services.js';
import { peopleRoutes, staffSignInRoutes } from './staff-sign-in/staff-sign-in.routes.js';
import { countDatabaseWaits } from './shared/database-waits.js';
import type { ReadinessCheck } from './shared/readiness.js';
import { onAuthFailure, sessionResolver, sessionRoutes } from './web/session.routes.js';
import { WEB_CSP, webRoutes } from './web/web.routes.js';
import { subjectRequestRoutes } from './subject-requests/subject-requests.routes.js';
import { sourceRoutes } from './sources/sources.routes.js';
import { sourceNotifyRoutes } from './sources/notify.routes.js';

export interface AppOptions {
  readinessChecks?: ReadinessCheck[];
}

/** The app METRICS_LISTEN serves: /metrics only, without a token. */
export function createMetricsApp(s: Services): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(metricsRoutes({ metrics: s.metrics, open: true }));
  app.use((_req, res) => {
    sendProblem(res, { type: problemType('not-found'), title: 'Not found', status: 404, detail: 'Only /metrics is served here' });
  });
  app.use(problemHandler(s.logger));
  return app;
}

/** Builds the Express app; it never listens (main.ts does, tests use port 0). */
export function createApp(s: Services, opts: AppOptions = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', s.config.trustProxy);
  // Responses of the API are not cached (no-store); computing an ETag for each was pure cost.
  // The web interface's static files carry their own, from express.static.
  app.set('etag', false);

  // One limit for every failed credential: access tokens, session sign-ins and the metrics token.
  const authFailed = onAuthFailure(s.signInFailures, s.refusals);
  const resolvers = [bearerResolver(s.tokens), sessionResolver(s.sessions)];
  const authenticated = authenticate(resolvers, authFailed);

  // Each request's database waits are counted together (SQLite): a locked database is answered within the busy timeout.
  app.use((_req, _res, next) => countDatabaseWaits(next));
  app.use(helmet({ contentSecurityPolicy: WEB_CSP }));
  app.use(requestId(s.logger));

  app.use(healthRoutes({ checks: [...s.readiness, ...(opts.readinessChecks ?? [])], timeoutMs: s.config.readinessTimeoutMs }));
  let openApi: string | undefined;
  app.get('/openapi.json', (_req, res) => {
    res.type('application/json').send((openApi ??= JSON.stringify(openApiDocument())));
  });
  // On the main listener only with the metrics token; METRICS_LISTEN serves them on their own (main.ts).
  app.use(metricsRoutes({ metrics: s.metrics, token: s.config.edge.metricsListen ? undefined : s.config.edge.metricsToken, onFailure: authFailed }));

  // The webhook authenticates by signature and streams its own body: mounted before the JSON parser.
  app.use(
    ingestRoutes({
      ingest: s.ingest,
      verifier: s.verifier,
      callerKeys: s.callerKeys,
      clock: s.clock,
      maxRecordingBytes: s.config.maxRecordingBytes,
      futureToleranceMs: s.config.webhookToleranceMs,
      maxCallDurationMs: s.config.maxCallDurationMs,
      quarantine: s.quarantine,
      refusals: s.refusals,
      logger: s.logger,
    }),
  );

  // Platforms that notify (Twilio, 46elks) authenticate by their own scheme and send their own body.
  app.use(sourceNotifyRoutes({ sources: s.sources.notifySources, logger: s.logger, onAuthFailure: authFailed }));

  app.use(webRoutes());
  // The pre-call check carries one number: its body is held to 1 KiB (the parser below then skips it).
  app.use('/v1/opt-outs/check', express.json({ limit: '1kb', strict: true }));
  // …also as a form (number=…), for IVRs and dialplans that cannot send JSON.
  app.use('/v1/opt-outs/check', express.urlencoded({ limit: '1kb', extended: false, parameterLimit: 4 }));
  app.use(express.json({ limit: '64kb', strict: true }));
  // The transparency log's public routes: before authentication, so they need no sign-in (README).
  app.use(
    transparencyRoutes({
      heads: s.treeHeads, receipts: s.receipts, tree: s.auditTree, publicKeyPem: () => s.auditCheckpoints.publicKeyPem(),
      requestsPerMinute: (s.config.transparency ?? TRANSPARENCY_DEFAULTS).publicRequestsPerMinute,
    }),
  );
  app.use(authenticated);
  const signIn = s.staffSignIn;
  app.use(
    sessionRoutes({
      sessions: s.sessions,
      failures: s.signInFailures,
      refusals: s.refusals,
      ttlMs: s.config.sessionTtlMs,
      options: { oidc: !!signIn, token: !signIn || s.config.allowTokenSignIn, controller: s.config.controller },
      providerSignOutUrl: signIn?.signOutUrl,
      logger: s.logger,
    }),
  );
  if (signIn) app.use(staffSignInRoutes({ signIn, refusals: s.refusals, redirectUrl: s.config.oidc!.redirectUrl, ttlMs: s.config.sessionTtlMs }));
  app.use(peopleRoutes({ users: s.users, tokens: s.tokens }));
  app.use(playbackRoutes({ playback: s.playback, logger: s.logger }));
  app.use(optOutRoutes({ registry: s.optOuts.registry, calls: s.optOuts.calls }));
  app.use(retentionRoutes({ retention: s.retention, holds: s.holds }));
  app.use(retentionPolicyRoutes({ policy: s.retentionPolicy }));
  app.use(auditRoutes({ reader: s.auditReader, checkpoints: s.auditCheckpoints, tree: s.auditTree, logger: s.logger }));
  app.use(reportsRoutes({ retentionReport: s.retentionReport, complianceOverview: s.complianceOverview }));
  app.use(sourceRoutes({ admin: s.sources.admin }));
  app.use(subjectRequestRoutes({ requests: s.subjectRequests.requests, packages: s.subjectRequests.packages, receiptPackages: s.subjectRequests.receiptPackages, logger: s.logger }));

  app.use((req, res) => {
    sendProblem(res, { type: problemType('not-found'), title: 'Not found', status: 404, detail: `No route for ${req.method} ${req.path}`, request_id: req.requestId });
  });
  app.use(problemHandler(s.logger));
  return app;
}
