import { Router } from 'express';
import { errorSummary } from '../shared/logger.js';
import type { ReadinessCheck } from '../shared/readiness.js';

export type { ReadinessCheck } from '../shared/readiness.js';

/** One check's answer, or not-ready once `timeoutMs` has passed: a probe must not hang on a dependency that does not answer. */
async function bounded(c: ReadinessCheck, timeoutMs: number): Promise<{ ok: boolean; [k: string]: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ ok: boolean; [k: string]: unknown }>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, error: 'timeout', timeoutMs }), timeoutMs);
  });
  try {
    return await Promise.race([
      c.check().then(
        (r) => ({ ok: r.ok, ...r.details }),
        // The error's code or name only: its message may be a driver's, with bound values.
        (err: unknown) => ({ ok: false, error: errorSummary(err) }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * /healthz (the process answers) and /readyz (every check passes: database, store, and the
 * capabilities' own). The checks run at once, each bounded by `timeoutMs`, so /readyz answers within
 * that bound whatever its dependencies do.
 */
export function healthRoutes(deps: { checks: ReadinessCheck[]; timeoutMs?: number }): Router {
  const router = Router();
  const timeoutMs = deps.timeoutMs ?? 2_000;
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const answers = await Promise.all(deps.checks.map((c) => bounded(c, timeoutMs)));
    const results = Object.fromEntries(deps.checks.map((c, i) => [c.name, answers[i]]));
    const ready = answers.every((a) => a.ok);
    res.status(ready ? 200 : 503).set('Cache-Control', 'no-store').json({ status: ready ? 'ready' : 'not-ready', checks: results });
  });
  return router;
}
