import { parseInput } from '../http/validate.js';
import { Router, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import { assertRole, requireRole } from '../http/auth.js';
import { readJsonBody } from '../http/json-body.js';
import { actorOf, type Principal } from '../http/types.js';
import type { CallOptOuts } from './call-opt-out.js';
import { OPT_OUT_SOURCES, type OptOutRegistry } from './opt-out-registry.js';

// Numbers travel only in bodies: never in a path or query string, where proxies and logs would keep them.
const number = z.string().max(40, 'at most 40 characters');
const registerBody = z.object({ number, deleteExisting: z.boolean().optional(), source: z.enum(OPT_OUT_SOURCES).optional() });
const numberBody = z.object({ number });
const callBody = z.object({ source: z.enum(OPT_OUT_SOURCES).optional() });
const callId = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, '1–128 characters of A–Z a–z 0–9 . _ : -');

/** At most this much JSON for `{ "number": … }`: a number is at most 40 characters. */
const CHECK_BODY_LIMIT = 1024;
const CHECKERS = ['phone-system', 'admin'] as const;
/** The only two answers there are, with their headers, made once. */
const CHECK_ANSWERS = [false, true].map((optedOut) => {
  const body = JSON.stringify({ optedOut });
  return { body, headers: { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length, 'Cache-Control': 'no-store' } };
});

/**
 * POST /v1/opt-outs/check — the IVR's pre-call check, as one handler.
 *
 * Why one handler: the phone system asks before every call it records, and a caller waits for the
 * answer. Through the app's usual chain (express.json, the failed-sign-in limiter, authenticate,
 * requireRole, then res.json) the check cost about 230 µs of CPU per request against 135 µs for a bare
 * Express route answering a constant (bench:optout, 2 cores); express.json alone was about 20 µs of
 * it, the rest spread over the layers, the limiter's look-up and res.json. This handler takes the same
 * steps in the same order, with the same refusals, as plain calls: the limiter (429), the caller and
 * role (401/403), then the body (at most 1 KiB of JSON: 413, 400, 415; a bad number 422),
 * then the look-up. The app's own middleware (helmet, request id and log line) still runs first.
 */
export function optOutCheck(deps: {
  registry: OptOutRegistry;
  /** Refuses a blocked address, then resolves the caller (app.ts: limiter + bearer/session resolvers). */
  principalOf: (req: Request) => Promise<Principal | undefined>;
}): RequestHandler {
  return async (req, res) => {
    req.principal = await deps.principalOf(req);
    assertRole(req.principal, CHECKERS);
    const { number: n } = parseInput(numberBody, await readJsonBody(req, CHECK_BODY_LIMIT));
    const { optedOut } = await deps.registry.check(n);
    const answer = CHECK_ANSWERS[optedOut ? 1 : 0]!;
    res.writeHead(200, answer.headers).end(answer.body);
  };
}

export function optOutRoutes(deps: { registry: OptOutRegistry; calls: CallOptOuts }): Router {
  const router = Router();
  const allowed = requireRole('phone-system', 'admin');
  const actor = (req: Request) => actorOf(req.principal!);

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
