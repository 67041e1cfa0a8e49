import { Router } from 'express';
import type { ReadinessCheck } from '../shared/readiness.js';

export type { ReadinessCheck } from '../shared/readiness.js';

/** /healthz (the process answers) and /readyz (every check passes: database, store, and the capabilities' own). */
export function healthRoutes(deps: { checks: ReadinessCheck[] }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const checks = deps.checks;
    const results: Record<string, unknown> = {};
    let ready = true;
    for (const c of checks) {
      try {
        const r = await c.check();
        results[c.name] = { ok: r.ok, ...r.details };
        ready &&= r.ok;
      } catch (err) {
        results[c.name] = { ok: false, error: (err as Error).name };
        ready = false;
      }
    }
    res.status(ready ? 200 : 503).set('Cache-Control', 'no-store').json({ status: ready ? 'ready' : 'not-ready', checks: results });
  });
  return router;
}
