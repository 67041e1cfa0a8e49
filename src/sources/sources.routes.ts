import { Router } from 'express';
import { z } from 'zod';
import { requireRole } from '../http/auth.js';
import { parseInput } from '../http/validate.js';
import { actorOf } from '../shared/principal.js';
import type { SourceAdmin } from './source-admin.js';

export const sourceName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a source name');

/** The sources for administrators: their state and rejected items, and "poll now". */
export function sourceRoutes(deps: { admin: SourceAdmin }): Router {
  const router = Router();
  const admin = requireRole('admin');

  router.get('/v1/sources', admin, async (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ items: await deps.admin.overview() });
  });

  router.post('/v1/sources/:name/poll', admin, async (req, res) => {
    const { name } = parseInput(z.object({ name: sourceName }), { name: req.params.name });
    const r = await deps.admin.pollNow(name, actorOf(req.principal!));
    res.set('Cache-Control', 'no-store').json(r);
  });

  return router;
}
