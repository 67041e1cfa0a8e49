import express, { type Express } from 'express';
import { auditRoutes } from './audit-log/index.js';
import { reportsRoutes } from './reports/index.js';
import { authenticate, bearerResolver, principalAtHand, principalOf } from './http/auth.js';
import { healthRoutes, type ReadinessCheck } from './http/health.routes.js';
import { problemHandler, sendProblem } from './http/problem.js';
import { requestId } from './http/request-id.js';
import { securityHeaders } from './http/security-headers.js';
import { ingestRoutes, playbackRoutes } from './recordings/index.js';
import { optOutCheck, optOutRoutes } from './opt-outs/index.js';
import { retentionRoutes } from './retention/index.js';
import type { Services } from './services.js';
import { peopleRoutes, staffSignInRoutes } from './staff-sign-in/staff-sign-in.routes.js';
import { createAuthFailureLimiter, onAuthFailure, sessionResolver, sessionRoutes, WEB_CSP, webRoutes } from './web/index.js';

export interface AppOptions {
  readinessChecks?: ReadinessCheck[];
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
  const failed = onAuthFailure(s.sessions, limiter, s.logger);
  const authenticated = authenticate(resolvers, failed);
  // The IVR's pre-call check: first in line, ahead even of helmet and the request id, because it takes
  // those steps itself, as calls, with the same limiter and authentication as every other route (see
  // optOutCheck for why and how its answers still carry the same headers).
  const caller = principalOf(resolvers, failed);
  const callerAtHand = principalAtHand(resolvers);
  const checkCaller = (req: express.Request) => {
    limiter.refuseIfBlocked(req);
    return callerAtHand(req) ?? caller(req);
  };
  app.post('/v1/opt-outs/check', optOutCheck({ registry: s.optOuts.registry, caller: checkCaller, securityHeaders: security.list, logger: s.logger }));

  app.use(security.middleware);
  app.use(requestId(s.logger));

  app.use(healthRoutes({ db: s.db, store: s.store, checks: opts.readinessChecks }));
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', s.metrics.contentType).send(await s.metrics.metrics());
  });

  // The webhook authenticates by signature and streams its own body: mounted before the JSON parser.
  app.use(ingestRoutes({ ingest: s.ingest, verifier: s.verifier, callerKeys: s.callerKeys, maxRecordingBytes: s.config.maxRecordingBytes, logger: s.logger }));

  app.use(webRoutes());
  app.use(parseJson);
  app.use(limiter.middleware);
  app.use(authenticated);
  const signIn = s.staffSignIn;
  app.use(
    sessionRoutes({
      sessions: s.sessions,
      failures: s.signInFailures,
      ttlMs: s.config.sessionTtlMs,
      options: { oidc: !!signIn, token: !signIn || s.config.allowTokenSignIn },
      providerSignOutUrl: signIn?.signOutUrl,
      logger: s.logger,
    }),
  );
  if (signIn) app.use(staffSignInRoutes({ signIn, redirectUrl: s.config.oidc!.redirectUrl, ttlMs: s.config.sessionTtlMs }));
  app.use(peopleRoutes({ users: s.users }));
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
