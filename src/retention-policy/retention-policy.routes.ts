import { Router } from 'express';
import { requireRole } from '../http/auth.js';
import { actorOf } from '../shared/principal.js';
import type { RetentionPolicy } from './retention-policy.js';

/** The retention policy per queue: admins change it, auditors read it and its history. */
export function retentionPolicyRoutes(deps: { policy: RetentionPolicy }): Router {
  const router = Router();
  const readers = requireRole('admin', 'auditor');
  const admin = requireRole('admin');

  router.get('/v1/retention-policy', readers, async (_req, res) => {
    res.set('Cache-Control', 'no-store').json(await deps.policy.current());
  });

  // The body is checked by the use case (the CLI and the policy file go through the same schema).
  router.put('/v1/retention-policy', admin, async (req, res) => {
    res.set('Cache-Control', 'no-store').json(await deps.policy.set(req.body, actorOf(req.principal!)));
  });

  router.post('/v1/retention-policy/preview', admin, async (req, res) => {
    res.set('Cache-Control', 'no-store').json(await deps.policy.preview(req.body));
  });

  router.get('/v1/retention-policy/history', readers, async (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ items: await deps.policy.history() });
  });

  return router;
}
