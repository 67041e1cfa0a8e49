import express, { type Express } from 'express';
import helmet from 'helmet';
import { authenticate, bearerResolver } from './http/auth.js';
import { healthRoutes, type ReadinessCheck } from './http/health.routes.js';
import { problemHandler, sendProblem } from './http/problem.js';
import { requestId } from './http/request-id.js';
import { ingestRoutes } from './recordings/index.js';
import type { Services } from './services.js';

export interface AppOptions {
  readinessChecks?: ReadinessCheck[];
}

/** Builds the Express app; it never listens (main.ts does, tests use port 0). */
export function createApp(s: Services, opts: AppOptions = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', s.config.trustProxy);
  app.use(helmet());
  app.use(requestId(s.logger));
  app.use(healthRoutes({ db: s.db, store: s.store, checks: opts.readinessChecks }));
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', s.metrics.contentType).send(await s.metrics.metrics());
  });

  // The webhook authenticates by signature and streams its own body: mounted before the JSON parser.
  app.use(ingestRoutes({ ingest: s.ingest, verifier: s.verifier, callerKeys: s.callerKeys, maxRecordingBytes: s.config.maxRecordingBytes, logger: s.logger }));

  app.use(express.json({ limit: '64kb', strict: true }));
  app.use(authenticate([bearerResolver(s.tokens)]));

  app.use((req, res) => {
    sendProblem(res, { type: 'https://gallra.example/problems/not-found', title: 'Not found', status: 404, detail: `No route for ${req.method} ${req.path}`, request_id: req.requestId });
  });
  app.use(problemHandler(s.logger));
  return app;
}
