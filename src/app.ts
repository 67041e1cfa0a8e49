import express, { type Express } from 'express';
import { auditRoutes } from './audit-log/index.js';
import { reportsRoutes } from './reports/index.js';
import { authenticate, bearerResolver, principalAtHand, principalOf } from './http/auth.js';
import { healthRoutes, type ReadinessCheck } from './http/health.routes.js';
import { metricsRoutes } from './http/metrics.routes.js';
import { problemHandler, sendProblem } from './http/problem.js';
import { requestId } from './http/request-id.js';
import { securityHeaders } from './http/security-headers.js';
import { ingestRoutes, playbackRoutes } from './recordings/index.js';
import { optOutCheck, optOutRoutes } from './opt-outs/index.js';
import { retentionRoutes } from './retention/index.js';
import type { Services } from './services.js';
import { createAuthFailureLimiter, onAuthFailure, sessionResolver, sessionRoutes, WEB_CSP, webRoutes } from './web/index.js';

export interface AppOptions {
  readinessChecks?: ReadinessCheck[];
}

/** The app METRICS_LISTEN serves: /metrics only, without a token. */
export function createMetricsApp(s: Services): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(metricsRoutes({ metrics: s.metrics, open: true }));
  app.use((_req, res) => {
    sendProblem(res, { type: 'https://gallra.example/problems/not-found', title: 'Not found', status: 404, detail: 'Only /metrics is served here' });
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

  const security = securityHeaders({ contentSecurityPolicy: WEB_CSP });
  const parseJson = express.json({ limit: '64kb', strict: true });
  const limiter = createAuthFailureLimiter();
  const resolvers = [bearerResolver(s.tokens), sessionResolver(s.sessions)];
  const failed = onAuthFailure(limiter, s.refusals);
  const authenticated = authenticate(resolvers, failed);
  // The IVR's pre-call check: first in line, ahead even of helmet and the request id, because it takes
  // those steps itself, as calls, with the same limiter and authentication as every other route (see
  // optOutCheck for why and how its answers still carry the same headers).
  const caller = principalOf(resolvers, failed);
  const callerAtHand = principalAtHand(resolvers);
  const checkCaller = (req: express.Request) => callerAtHand(req) ?? caller(req);
  app.post('/v1/opt-outs/check', optOutCheck({ registry: s.optOuts.registry, caller: checkCaller, securityHeaders: security.list, logger: s.logger }));

  app.use(security.middleware);
  app.use(requestId(s.logger));

  app.use(healthRoutes({ db: s.db, store: s.store, checks: opts.readinessChecks }));
  // On the main listener only with the metrics token; METRICS_LISTEN serves them on their own (main.ts).
  app.use(metricsRoutes({ metrics: s.metrics, token: s.config.edge.metricsListen ? undefined : s.config.edge.metricsToken }));

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

  app.use(webRoutes());
  app.use(parseJson);
  app.use(authenticated);
  app.use(sessionRoutes({ sessions: s.sessions, limiter, refusals: s.refusals, ttlMs: s.config.sessionTtlMs, logger: s.logger }));
  app.use(playbackRoutes({ playback: s.playback, logger: s.logger }));
  app.use(optOutRoutes({ registry: s.optOuts.registry, calls: s.optOuts.calls }));
  app.use(retentionRoutes({ retention: s.retention, holds: s.holds }));
  app.use(auditRoutes({ reader: s.auditReader, checkpoints: s.auditCheckpoints, logger: s.logger }));
  app.use(reportsRoutes({ retentionReport: s.retentionReport }));

  app.use((req, res) => {
    sendProblem(res, { type: 'https://gallra.example/problems/not-found', title: 'Not found', status: 404, detail: `No route for ${req.method} ${req.path}`, request_id: req.requestId });
  });
  app.use(problemHandler(s.logger));
  return app;
}
