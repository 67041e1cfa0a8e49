import { timingSafeEqual, hash } from 'node:crypto';
import { Router, type Request } from 'express';
import type { Registry } from 'prom-client';
import { NotFound, Unauthenticated } from '../shared/errors.js';

/**
 * GET /metrics. Counters, memory and the Node version are for operators only: on the main listener
 * they need `Authorization: Bearer <METRICS_TOKEN>` (and are not served at all without one); a
 * separate listener (METRICS_LISTEN, e.g. on an internal interface) serves them with `open: true`.
 * A wrong token is a failed credential like any other: `onFailure` counts it (and throws 429 over the limit).
 */
export function metricsRoutes(deps: { metrics: Registry; token?: string; open?: boolean; onFailure?: (req: Request) => Promise<void> }): Router {
  const router = Router();
  const expected = deps.token ? hash('sha256', deps.token, 'buffer') : undefined;
  router.get('/metrics', async (req, res) => {
    if (!deps.open) {
      if (!expected) throw new NotFound('not-found', 'Metrics are not served here: set METRICS_TOKEN or METRICS_LISTEN');
      const given = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
      if (!given || !timingSafeEqual(hash('sha256', given, 'buffer'), expected)) {
        if (given) await deps.onFailure?.(req);
        throw new Unauthenticated('metrics-token-required', 'Send the metrics token: Authorization: Bearer <METRICS_TOKEN>');
      }
    }
    res.set('Content-Type', deps.metrics.contentType).set('Cache-Control', 'no-store').send(await deps.metrics.metrics());
  });
  return router;
}
