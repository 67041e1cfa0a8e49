import { parseInput } from '../http/validate.js';
import { Router, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import { assertRole, requireRole } from '../http/auth.js';
import { readJsonBody } from '../http/json-body.js';
import { logRequestLine, requestIdOf } from '../http/request-id.js';
import { actorOf, type Principal } from '../http/types.js';
import type { Logger } from '../shared/logger.js';
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

/**
 * POST /v1/opt-outs/check — the IVR's pre-call check, as one handler mounted ahead of the app's own
 * middleware.
 *
 * Why: the phone system asks before every call it records, and a caller waits for the answer.
 * Counted with callgrind (instructions per request, bench:optout's bodies, 100 000 numbers), a bare
 * Express route answering a constant takes about 640 000. The check as one handler behind helmet and
 * the request id took 1.46 times that; ahead of them, with helmet's headers in its one writeHead,
 * 1.30; waiting only where it must, as now, 1.24. (Before that, the app's usual chain of helmet,
 * request id, express.json, limiter, authenticate, requireRole and res.json cost more still.) So this
 * handler takes the same steps in the same order, with the same refusals, as plain calls:
 *   - the request id and log line (as the requestId middleware);
 *   - the limiter (429), the caller and role (401/403), at once for a token looked up moments ago;
 *   - the body (at most 1 KiB of JSON: 413, 400, 415; a bad number 422);
 *   - the look-up, at once from the in-memory index once loaded.
 * The answer goes out in one writeHead with helmet's own headers (read off helmet at start-up, see
 * securityHeaders). A refusal gets the same headers set before it is passed on to the app's problem
 * handler, so it looks exactly like every other problem answer.
 */
export function optOutCheck(deps: {
  registry: OptOutRegistry;
  /**
   * Refuses a blocked address, then resolves the caller (app.ts: limiter + bearer/session resolvers):
   * at once when the token was looked up moments ago, else as a promise.
   */
  caller: (req: Request) => Principal | undefined | Promise<Principal | undefined>;
  /** helmet's headers as a flat [name, value, …] list (securityHeaders). */
  securityHeaders: readonly string[];
  logger: Logger;
}): RequestHandler {
  // The only two answers there are, with all their headers but the request id, made once.
  const answers = [false, true].map((optedOut) => {
    const body = JSON.stringify({ optedOut });
    const head = [...deps.securityHeaders, 'Content-Type', 'application/json; charset=utf-8', 'Content-Length', String(body.length), 'Cache-Control', 'no-store'];
    return { body, head };
  });
  return async (req, res) => {
    req.requestId = requestIdOf(req);
    logRequestLine(deps.logger, req, res);
    try {
      const caller = deps.caller(req);
      req.principal = caller instanceof Promise ? await caller : caller;
      assertRole(req.principal, CHECKERS);
      const { number: n } = parseInput(numberBody, await readJsonBody(req, CHECK_BODY_LIMIT));
      const { optedOut } = deps.registry.checkNow(n) ?? (await deps.registry.check(n));
      const answer = answers[optedOut ? 1 : 0]!;
      res.writeHead(200, [...answer.head, 'X-Request-Id', req.requestId]).end(answer.body);
    } catch (err) {
      // As helmet and the requestId middleware would have, for the problem handler's answer.
      if (!res.headersSent) {
        const headers = deps.securityHeaders;
        for (let i = 0; i < headers.length; i += 2) res.setHeader(headers[i]!, headers[i + 1]!);
        res.setHeader('X-Request-Id', req.requestId);
      }
      throw err;
    }
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
