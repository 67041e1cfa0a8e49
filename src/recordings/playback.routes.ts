import { parseInput } from '../http/validate.js';
import { pipeline } from 'node:stream/promises';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { requireRole } from '../http/auth.js';
import { InvalidInput, RangeNotSatisfiable } from '../shared/errors.js';
import { errorFacts, type Logger } from '../shared/logger.js';
import { containsPhoneNumber, identifierHoldsPhoneNumber, PHONE_NUMBER_REFUSED } from '../shared/phone-number-text.js';
import type { ByteRange } from '../storage/index.js';
import type { Playback } from './playback.js';

const when = z
  .string()
  .refine((v) => /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(v) && !Number.isNaN(Date.parse(v)), 'an ISO 8601 date or date-time with an offset')
  .transform((v) => new Date(v).toISOString());
// Filters travel in the query string, which proxies log: never a number there.
const text = z.string().trim().min(1).max(64).refine((v) => !containsPhoneNumber(v), PHONE_NUMBER_REFUSED);

export const listQuery = z.object({
  from: when.optional(),
  to: when.optional(),
  queue: text.optional(),
  agentId: text.optional(),
  /** The phone system's id of one call (staff know a call by it). */
  callId: z.string().trim().min(1).max(128).refine((v) => !identifierHoldsPhoneNumber(v), PHONE_NUMBER_REFUSED).optional(),
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
});

const idParam = z.string().uuid('a recording id (uuid)');

/** GET /v1/recordings, GET /v1/recordings/filters, GET /v1/recordings/:id, GET|HEAD /v1/recordings/:id/audio. */
export function playbackRoutes(deps: { playback: Playback; logger: Logger }): Router {
  const { playback } = deps;
  const router = Router();

  router.get('/v1/recordings', requireRole('trainer', 'auditor', 'admin'), async (req, res) => {
    const q = parseInput(listQuery, req.query, { code: 'invalid-query', what: 'query' });
    res.set('Cache-Control', 'no-store').json(await playback.list(req.principal!.role, q));
  });

  // Before /:id, which would otherwise take "filters" for an id.
  router.get('/v1/recordings/filters', requireRole('trainer', 'auditor', 'admin'), async (req, res) => {
    res.set('Cache-Control', 'no-store').json(await playback.filterValues(req.principal!.role));
  });

  router.get('/v1/recordings/:id', requireRole('trainer', 'admin'), async (req, res) => {
    res.set('Cache-Control', 'no-store').json(await playback.get(req.principal!.role, recordingId(req)));
  });

  router.head('/v1/recordings/:id/audio', requireRole('trainer', 'admin'), async (req, res) => {
    const r = await playback.locate(recordingId(req), req.principal!.role);
    await playback.verifyStored(r);
    audioHeaders(res, r.contentType!).set('Content-Length', String(r.bytes)).status(200).end();
  });

  router.get('/v1/recordings/:id/audio', requireRole('trainer', 'admin'), async (req, res) => {
    const r = await playback.locate(recordingId(req), req.principal!.role);
    const size = r.bytes!;
    const range = requestedRange(req, res, size);
    const obj = await playback.open(req.principal!, r, range, !range || range.start === 0);
    audioHeaders(res, r.contentType!);
    if (range) {
      res.status(206).set('Content-Range', `bytes ${range.start}-${range.end}/${obj.totalBytes}`);
    } else {
      res.status(200);
    }
    res.set('Content-Length', String(obj.bytes));
    try {
      // Streamed straight from the store: never held whole. A listener seeking away aborts the
      // response; that is routine, not an error.
      await pipeline(obj.body, res);
    } catch (err) {
      deps.logger.debug('audio stream ended early', { requestId: req.requestId, recordingId: r.id, err: errorFacts(err) });
    }
  });

  return router;
}

function audioHeaders(res: Response, contentType: string): Response {
  return res.set({ 'Content-Type': contentType, 'Accept-Ranges': 'bytes', 'Cache-Control': 'no-store', 'Content-Disposition': 'inline' });
}

/**
 * One byte range, or undefined for the whole object. Several ranges are answered with the whole
 * object (RFC 9110 lets a server ignore Range); a malformed header likewise; an unsatisfiable one is 416.
 */
function requestedRange(req: Request, res: Response, size: number): (ByteRange & { end: number }) | undefined {
  if (!req.get('range')) return undefined;
  const r = req.range(size, { combine: true });
  if (r === -1 || size === 0) {
    res.set('Content-Range', `bytes */${size}`);
    throw new RangeNotSatisfiable('range-not-satisfiable', `The recording has ${size} bytes`, { size });
  }
  if (r === -2 || r === undefined || r.type !== 'bytes' || r.length !== 1) return undefined;
  return { start: r[0]!.start, end: r[0]!.end };
}

function recordingId(req: Request): string {
  const p = idParam.safeParse(req.params.id);
  if (!p.success) throw new InvalidInput('invalid-recording-id', 'The recording id is not a uuid', { errors: [{ pointer: '/id', code: 'invalid-format', detail: 'a recording id (uuid)' }] });
  return p.data;
}

