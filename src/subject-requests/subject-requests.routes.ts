import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { requireRole } from '../http/auth.js';
import { actorOf } from '../shared/principal.js';
import { NotFound } from '../shared/errors.js';
import { parseInput } from '../http/validate.js';
import { errorFacts, type Logger } from '../shared/logger.js';
import type { AccessPackages } from './access-package.js';
import type { ReceiptPackages } from './receipts-package.js';
import { confirmBody, extendBody, openBody, parseCaseInput, restrictBody } from './subject-request-input.js';
import { KINDS } from './subject-request.js';
import type { CaseDetails, CaseView, ErasureResult, ObjectionResult, RestrictionResult, SubjectRequests } from './subject-requests.js';

// Request bodies: the schemas the CLI parses with too (subject-request-input.ts).
export { confirmBody, extendBody, openBody, restrictBody };

export const caseIdParams = z.object({ id: z.string().regex(/^sr_[0-9a-f]{16}$/, 'a case id (sr_…)') });

// What the endpoints answer: the shapes the use case returns (checked both ways below), and so what
// /openapi.json says and the component tests hold every answer to.
const instant = z.string().meta({ format: 'date-time' });
const date = z.string().meta({ format: 'date', description: 'A calendar date in Stockholm' });
const count = z.number().int().min(0);

export const caseView = z
  .object({
    id: caseIdParams.shape.id,
    kind: z.enum(KINDS),
    status: z.enum(['open', 'extended', 'answered', 'closed']),
    reference: z.string(),
    note: z.string().nullable(),
    receivedAt: instant,
    receivedDate: date,
    dueDate: date.meta({ description: 'One calendar month after receipt' }),
    dueAt: instant.meta({ description: 'When the case becomes overdue: the end of the (extended) due date in Stockholm' }),
    extendedUntil: date.nullable(),
    extensionReason: z.string().nullable(),
    openedAt: instant,
    openedBy: z.string(),
    answeredAt: instant.nullable(),
    answeredBy: z.string().nullable(),
    closedAt: instant.nullable(),
    closedBy: z.string().nullable(),
    carriedOutAt: instant.nullable(),
    daysLeft: z.number().int().nullable().meta({ description: 'Days to the due date in force while the case is open or extended; null after' }),
    overdue: z.boolean(),
    effectiveDueDate: date.meta({ description: 'The due date in force: the extended one, or one month after receipt' }),
    callerKnown: z.boolean().meta({ description: 'Whether the caller key is still known (a closed case forgets it)' }),
  })
  .meta({ id: 'SubjectRequest', description: 'A data-subject request as a case; never the number or the caller key' });

export const matchedCall = z
  .object({
    recordingId: z.string().meta({ format: 'uuid' }),
    callId: z.string(),
    startedAt: instant,
    endedAt: instant,
    local: z.object({ date, time: z.string(), zone: z.string() }).meta({ description: 'When the call started, in Stockholm' }),
    queue: z.string().nullable(),
    durationMs: z.number().int().nullable(),
    contentType: z.string().nullable(),
    bytes: z.number().int().nullable(),
    sha256: z.string().nullable(),
    state: z.enum(['stored', 'held', 'deleted', 'discarded']).meta({ description: 'stored (audio kept), held (stored under a hold), deleted, discarded (never kept)' }),
    deadline: instant,
    holds: z.array(z.object({ reason: z.string(), until: instant.nullable() })),
    deletedAt: instant.nullable(),
    reason: z.string().nullable().meta({ description: 'Why it was deleted or discarded, e.g. retention, subject-request, number-opted-out' }),
    deletedBy: z.string().nullable().meta({ description: 'The case that deleted it, where one did' }),
    callOptOut: z.object({ requestedAt: instant, source: z.string().nullable() }).nullable(),
  })
  .meta({ id: 'SubjectRequestCall', description: 'One call of the data subject as a case shows it; never the number or the caller key' });

export const caseDetails = z
  .object({
    request: caseView,
    calls: z.array(matchedCall),
    optOut: z.object({ id: z.string(), since: instant, source: z.string().nullable() }).nullable(),
    counts: z.object({ calls: count, stored: count, held: count, deleted: count, discarded: count, deletable: count }),
    nothingHeld: z.boolean(),
  })
  .meta({ id: 'SubjectRequestDetails' });

export const caseList = z.object({ items: z.array(caseView).meta({ description: 'Overdue first, then open ones by due time, answered ones, closed ones (30 days) last' }) });

export const restrictionResult = z
  .object({ held: count, alreadyHeld: count, until: instant.nullable().meta({ description: 'The end of the given day, or null: until the case is closed' }) })
  .meta({ id: 'SubjectRequestRestrictionResult' });

export const erasureResult = z
  .object({ deleted: count, keptUnderHold: z.array(z.object({ recordingId: z.string().meta({ format: 'uuid' }), reason: z.string() })) })
  .meta({ id: 'SubjectRequestErasureResult' });

export const objectionResult = erasureResult.extend({ optOutId: z.string(), optOutCreated: z.boolean() }).meta({ id: 'SubjectRequestObjectionResult' });

// The schemas and the use case's types agree both ways: a field added, removed or retyped on one
// side and not the other fails the type check.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agree: [
  Same<z.output<typeof caseView>, CaseView>,
  Same<z.output<typeof caseDetails>, CaseDetails>,
  Same<z.output<typeof restrictionResult>, RestrictionResult>,
  Same<z.output<typeof erasureResult>, ErasureResult>,
  Same<z.output<typeof objectionResult>, ObjectionResult>,
] = [true, true, true, true, true];
void agree;

const idOf = (req: Request) => parseInput(caseIdParams, { id: req.params.id }).id;

/**
 * Data-subject requests, for administrators (registrar, data-protection officer). Nothing returned
 * carries the number or the caller key.
 */
export function subjectRequestRoutes(deps: { requests: SubjectRequests; packages: AccessPackages; receiptPackages?: ReceiptPackages; logger: Logger }): Router {
  const router = Router();
  const admin = requireRole('admin');
  const noStore = { 'Cache-Control': 'no-store' };
  const actor = (req: Request) => actorOf(req.principal!);

  router.post('/v1/subject-requests', admin, async (req, res) => {
    const c = await deps.requests.open(parseCaseInput(openBody, req.body), actor(req));
    res.status(201).set(noStore).location(`/v1/subject-requests/${c.id}`).json(c);
  });

  router.get('/v1/subject-requests', admin, async (_req, res) => {
    res.set(noStore).json({ items: await deps.requests.list() } satisfies z.output<typeof caseList>);
  });

  router.get('/v1/subject-requests/:id', admin, async (req, res) => {
    res.set(noStore).json(await deps.requests.get(idOf(req)));
  });

  /** Streams a ZIP; once headers are out a failure cuts the download off, which a ZIP reader refuses. */
  async function sendZip(req: Request, res: Response, pkg: { filename: string; stream: Readable }, what: string): Promise<void> {
    res.status(200).set({ ...noStore, 'Content-Type': 'application/zip', 'Content-Disposition': `attachment; filename="${pkg.filename}"` });
    try {
      await pipeline(pkg.stream, res);
    } catch (err) {
      deps.logger.error(`${what} failed while streaming`, { requestId: req.requestId, err: errorFacts(err) });
      res.destroy();
    }
  }

  router.get('/v1/subject-requests/:id/package', admin, async (req, res) => {
    await sendZip(req, res, await deps.packages.open(idOf(req), actor(req)), 'a register extract');
  });

  // One deletion receipt per call an erasure or objection case deleted, and kvitton.html (docs/receipts.md).
  router.get('/v1/subject-requests/:id/receipts', admin, async (req, res) => {
    if (!deps.receiptPackages) throw new NotFound('not-found', 'receipts are not set up');
    await sendZip(req, res, await deps.receiptPackages.open(idOf(req)), 'deletion receipts');
  });

  const action = (path: string, run: (req: Request, id: string) => Promise<unknown>) =>
    router.post(`/v1/subject-requests/:id/${path}`, admin, async (req, res) => {
      res.set(noStore).json(await run(req, idOf(req)));
    });
  action('extend', (req, id) => deps.requests.extend(id, parseCaseInput(extendBody, req.body), actor(req)));
  action('answer', (req, id) => deps.requests.answer(id, actor(req)));
  action('close', (req, id) => deps.requests.close(id, actor(req)));
  action('restrict', (req, id) => deps.requests.restrict(id, parseCaseInput(restrictBody, req.body), actor(req)));
  action('erase', (req, id) => deps.requests.erase(id, parseCaseInput(confirmBody, req.body), actor(req)));
  action('object', (req, id) => deps.requests.object(id, parseCaseInput(confirmBody, req.body), actor(req)));

  return router;
}
