import { Router, type Request } from 'express';
import { z } from 'zod';
import { requireRole } from '../http/auth.js';
import { actorOf } from '../shared/principal.js';
import { parseInput } from '../http/validate.js';
import { UnsupportedMedia } from '../shared/errors.js';
import { identifierHoldsPhoneNumber, PHONE_NUMBER_REFUSED } from '../shared/phone-number-text.js';
import type { CallOptOuts } from './call-opt-out.js';
import { OPT_OUT_SOURCES, type OptOutRegistry } from './opt-out-registry.js';

// Numbers travel only in bodies: never in a path or query string, where proxies and logs would keep them.
const number = z.string().max(40, 'at most 40 characters');
export const registerBody = z.object({ number, deleteExisting: z.boolean().optional(), source: z.enum(OPT_OUT_SOURCES).optional() });
export const numberBody = z.object({ number });
/** The pre-call check: the number, and the queue when the IVR knows it (a queue the retention policy never records answers record: false). */
export const checkBody = numberBody.extend({
  queue: z.string().trim().min(1, 'a queue name').max(64, 'at most 64 characters').optional().describe('The queue the call is in, when known: a queue whose calls are never recorded answers record: false'),
});
export const callBody = z.object({
  source: z.enum(OPT_OUT_SOURCES).optional().describe('The channel the opt-out came through (ivr, agent, web, letter).'),
  recordingSource: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "a source's name: lower-case letters, digits and dashes, at most 63")
    .optional()
    .describe("Narrows the opt-out to this source's recording of the call id ('webhook' or a configured source's name); without it every source's recording of the call id is opted out. An unknown name is refused with 422."),
});
export const callId = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,128}$/, '1–128 characters of A–Z a–z 0–9 . _ : -')
  .refine((v) => !identifierHoldsPhoneNumber(v), PHONE_NUMBER_REFUSED);

export function optOutRoutes(deps: { registry: OptOutRegistry; calls: CallOptOuts }): Router {
  const router = Router();
  const allowed = requireRole('phone-system', 'admin');
  const actor = (req: Request) => actorOf(req.principal!);

  // The phone system's pre-call check. Its body is held to 1 KiB by the parser app.ts mounts for it.
  router.post('/v1/opt-outs/check', allowed, async (req, res) => {
    // The parsers leave a body of another type unread; say so rather than "number is required".
    if (req.get('content-length') !== '0' && req.is(['application/json', 'application/x-www-form-urlencoded']) === false) {
      throw new UnsupportedMedia('expected-json', 'Send the body as JSON (Content-Type: application/json) or as a form (application/x-www-form-urlencoded)');
    }
    const { number: n, queue } = parseInput(checkBody, req.body);
    const answer = await deps.registry.check(n, queue);
    res.set('Cache-Control', 'no-store').vary('Accept');
    // An IVR lookup that reads only a plain answer asks for it with Accept: text/plain.
    if (req.accepts(['application/json', 'text/plain']) === 'text/plain') res.type('text/plain').send(answer.record ? 'record' : 'do-not-record');
    else res.json(answer);
  });

  // What "delete existing recordings" would delete, so the web form's confirmation can name the count.
  router.post('/v1/opt-outs/preview', requireRole('admin'), async (req, res) => {
    const { number: n } = parseInput(numberBody, req.body);
    res.set('Cache-Control', 'no-store').json(await deps.registry.preview(n));
  });

  router.post('/v1/opt-outs/remove', allowed, async (req, res) => {
    const { number: n } = parseInput(numberBody, req.body);
    const r = await deps.registry.remove(n, actor(req));
    res.set('Cache-Control', 'no-store').json({ removed: r.removed, ...(r.id ? { id: r.id } : {}) });
  });

  router.post('/v1/opt-outs', allowed, async (req, res) => {
    const input = parseInput(registerBody, req.body);
    const r = await deps.registry.register(input, actor(req));
    res
      .status(r.created ? 201 : 200)
      .set('Cache-Control', 'no-store')
      .json({ id: r.id, createdAt: r.createdAt, ...(r.deletedRecordings !== undefined ? { deletedRecordings: r.deletedRecordings, keptUnderHold: r.keptUnderHold } : {}) });
  });

  router.post('/v1/calls/:callId/opt-out', allowed, async (req, res) => {
    const id = parseInput(z.object({ callId }), { callId: req.params.callId });
    const input = parseInput(callBody, req.body);
    const r = await deps.calls.optOutCall(id.callId, input, actor(req));
    res.status(r.status === 'pending' && r.created ? 202 : 200).set('Cache-Control', 'no-store').json({ id: r.id, callId: r.callId, status: r.status });
  });

  return router;
}
