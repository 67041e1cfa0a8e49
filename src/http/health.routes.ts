import { Router } from 'express';
import type { Database } from '../shared/database.js';
import type { ObjectStore } from '../storage/index.js';

/** A named readiness check; capabilities add their own (the retention job adds the overdue count). */
export interface ReadinessCheck {
  name: string;
  check(): Promise<{ ok: boolean; details?: Record<string, unknown> }>;
}

export function healthRoutes(deps: { db: Database; store: ObjectStore; checks?: ReadinessCheck[] }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const checks: ReadinessCheck[] = [
      { name: 'database', check: async () => (await deps.db.raw('select 1'), { ok: true }) },
      { name: 'store', check: async () => (await deps.store.ping(), { ok: true }) },
      ...(deps.checks ?? []),
    ];
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
