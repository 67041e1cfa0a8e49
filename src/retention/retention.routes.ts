import { parseInput } from '../http/validate.js';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { requireRole } from '../http/auth.js';
import { containsPhoneNumber, PHONE_NUMBER_REFUSED } from '../shared/phone-number-text.js';
import { actorOf } from '../shared/principal.js';
import type { Holds } from './holds.js';
import type { Retention } from './purge-due-recordings.js';

const recordingId = z.string().uuid('a recording id (uuid)');
// Reasons go into the audit log, which must never hold a phone number: refuse anything that looks like one.
const reason = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(500, 'at most 500 characters')
  .refine((v) => !containsPhoneNumber(v), PHONE_NUMBER_REFUSED);
export const holdBody = z.object({ reason, until: z.iso.datetime({ offset: true, message: 'an ISO 8601 time with offset' }).optional() }).strict();
export const deleteBody = z.object({ reason }).strict();


const idOf = (req: Request) => parseInput(z.object({ id: recordingId }), { id: req.params.id }).id;

/** Holds, manual deletion and the overdue list. No caller fields are ever returned. */
export function retentionRoutes(deps: { retention: Retention; holds: Holds }): Router {
  const router = Router();
  const admin = requireRole('admin');

  router.get('/v1/holds', admin, async (_req, res) => {
    // Holds a data-subject request placed are released by closing its case, not here.
    const items = (await deps.holds.listActive()).map((h) => ({ ...h, manual: !h.reason.startsWith('subject-request:') }));
    res.set('Cache-Control', 'no-store').json({ items });
  });

  router.post('/v1/recordings/:id/hold', admin, async (req, res) => {
    const id = idOf(req);
    const body = parseInput(holdBody, req.body);
    const hold = await deps.holds.place({ recordingId: id, reason: body.reason, until: body.until ? new Date(body.until) : undefined }, actorOf(req.principal!));
    res.status(201).set('Cache-Control', 'no-store').json(hold);
  });

  router.delete('/v1/recordings/:id/hold', admin, async (req, res) => {
    const hold = await deps.holds.release(idOf(req), actorOf(req.principal!));
    res.set('Cache-Control', 'no-store').json(hold);
  });

  router.delete('/v1/recordings/:id', admin, async (req, res) => {
    const id = idOf(req);
    const body = parseInput(deleteBody, req.body);
    const r = await deps.retention.deleteOne(id, { reason: body.reason, actor: actorOf(req.principal!) });
    res.set('Cache-Control', 'no-store').json({ id: r.id, callId: r.callId, status: r.status, reason: r.reason, deadline: r.deadline, deletedAt: r.deletedAt, sha256: r.sha256 });
  });

  router.get('/v1/retention/overdue', requireRole('admin', 'auditor'), async (_req, res) => {
    const overdue = await deps.retention.listOverdue();
    res.set('Cache-Control', 'no-store').json({ count: overdue.filter((r) => !r.holdId).length, recordings: overdue });
  });

  return router;
}
