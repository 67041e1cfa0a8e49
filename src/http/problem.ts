import type { ErrorRequestHandler, Response } from 'express';
import {
  BadRequest, Conflict, DomainError, Forbidden, Gone, InvalidInput, NotFound, RangeNotSatisfiable,
  TimedOut, TooLarge, TooManyRequests, Unauthenticated, Unavailable, UnsupportedMedia, asUnavailable,
} from '../shared/errors.js';
import { errorFacts, type Logger } from '../shared/logger.js';
import type { FieldError } from '../shared/errors.js';
import type { ProblemCode } from '../shared/problem-codes.js';

export const PROBLEM_BASE = 'https://gallra.example/problems/';

/** A problem's `type`: the base and a code from the catalogue (src/shared/problem-codes.ts). */
export const problemType = (code: ProblemCode) => PROBLEM_BASE + code;

const STATUS: [new (...a: never[]) => DomainError, number, string][] = [
  [BadRequest, 400, 'Bad request'],
  [Unauthenticated, 401, 'Authentication required'],
  [Forbidden, 403, 'Forbidden'],
  [NotFound, 404, 'Not found'],
  [TimedOut, 408, 'Request timeout'],
  [Conflict, 409, 'Conflict'],
  [Gone, 410, 'Gone'],
  [TooLarge, 413, 'Content too large'],
  [UnsupportedMedia, 415, 'Unsupported media type'],
  [RangeNotSatisfiable, 416, 'Range not satisfiable'],
  [InvalidInput, 422, 'Unprocessable content'],
  [TooManyRequests, 429, 'Too many requests'],
  [Unavailable, 503, 'Service unavailable'],
];

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: FieldError[];
  request_id?: string;
  [k: string]: unknown;
}

/** Members of a problem that only the mapping sets: a domain error's details never replace them. */
const RESERVED = new Set(['type', 'title', 'status', 'detail', 'instance', 'errors', 'request_id']);

/** How long a client should wait before retrying after a 503 (seconds). */
export const RETRY_AFTER_SECONDS = 5;

function internal(requestId?: string): Problem {
  return { type: problemType('internal'), title: 'Internal error', status: 500, detail: 'Something went wrong; the request id helps the operators find out what.', request_id: requestId };
}

/** The details a client may see, each read once: a property that throws is left out. */
function extraMembers(details: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (details === null || typeof details !== 'object') return out;
  for (const k of Object.keys(details)) {
    if (RESERVED.has(k)) continue;
    try {
      const v = (details as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = v;
    } catch {
      // a getter that throws: nothing to show
    }
  }
  return out;
}

function fromDomainError(err: DomainError, requestId?: string): Problem {
  const [, status, title] = STATUS.find(([cls]) => err instanceof cls) ?? [DomainError, 500, 'Internal error'];
  const errors = Array.isArray(err.details?.errors) ? err.details.errors : undefined;
  // The mapping's own members last: no detail can replace type, title, status or detail.
  return { ...extraMembers(err.details), ...(errors ? { errors } : {}), type: problemType(err.code), title, status, detail: String(err.message), request_id: requestId };
}

/** http-errors that Express and its middleware raise (a path it cannot decode, a static file refused). */
function fromHttpError(err: unknown, requestId?: string): Problem | undefined {
  const e = err as { status?: unknown; statusCode?: unknown; expose?: unknown; type?: unknown };
  // body-parser's own errors: bad JSON and oversized bodies are the client's fault.
  if (e.type === 'entity.parse.failed') {
    return { type: problemType('invalid-json'), title: 'Bad request', status: 400, detail: 'The request body is not valid JSON', request_id: requestId };
  }
  if (e.type === 'entity.too.large') {
    return { type: problemType('body-too-large'), title: 'Content too large', status: 413, detail: 'The request body is too large', request_id: requestId };
  }
  const status = e.status ?? e.statusCode;
  // The router's "Failed to decode param": its message quotes the path (which may hold anything).
  if (err instanceof URIError && status === 400) {
    return { type: problemType('invalid-path'), title: 'Bad request', status: 400, detail: 'The request path is not valid percent-encoding', request_id: requestId };
  }
  if (e.expose === true && typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 500) {
    const title = STATUS.find(([, s]) => s === status)?.[2] ?? 'Bad request';
    return { type: problemType('bad-request'), title, status, detail: title, request_id: requestId };
  }
  return undefined;
}

/**
 * The one place an error becomes an HTTP status (RFC 9457). A database or store that cannot serve now
 * is a 503, whatever driver said so; anything unmapped is a 500 whose message stays in the log. Never
 * throws: it answers errors, including its own.
 */
export function toProblem(err: unknown, requestId?: string): Problem {
  try {
    if (err instanceof DomainError) return fromDomainError(err, requestId);
    if (err === null || typeof err !== 'object') return internal(requestId);
    const outage = asUnavailable(err);
    if (outage) return fromDomainError(outage, requestId);
    return fromHttpError(err, requestId) ?? internal(requestId);
  } catch {
    return internal(requestId);
  }
}

export function sendProblem(res: Response, problem: Problem): void {
  if (res.headersSent) return;
  res.status(problem.status).type('application/problem+json').set('Cache-Control', 'no-store');
  if (problem.status === 503 && !res.get('Retry-After')) res.set('Retry-After', String(RETRY_AFTER_SECONDS));
  // A limiter says how long its window still runs (TooManyRequests' retryAfterSeconds).
  if (problem.status === 429 && typeof problem.retryAfterSeconds === 'number') res.set('Retry-After', String(problem.retryAfterSeconds));
  res.send(JSON.stringify(problem));
}

/** The last resort when even answering a problem failed: a fixed body, written by hand. */
function sendLastResort(res: Response): void {
  try {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = JSON.stringify(internal());
    res.writeHead(500, { 'Content-Type': 'application/problem+json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' }).end(body);
  } catch {
    res.destroy();
  }
}

/**
 * Logs a 5xx answer: an outage as a warning without a stack, anything else as an error; both by
 * name and code (errorFacts), never with a driver's message. Never throws.
 */
export function logProblem(logger: Logger, problem: Problem, err: unknown, requestId: string | undefined, message = 'request failed'): void {
  try {
    if (problem.status === 503) logger.warn(`${message}: unavailable`, { requestId, problem: problem.type.slice(PROBLEM_BASE.length), err: errorFacts(err, { stack: false }) });
    else if (problem.status >= 500) logger.error(message, { requestId, err: errorFacts(err) });
  } catch {
    // a log that cannot be written must not keep the client from its answer
  }
}

/**
 * The one error handler, last in every app: whatever reaches it (from a route, a middleware before
 * the routes, body parsing) is answered as problem+json, so Express's own HTML error page is never
 * rendered. An outage is logged as a warning without a stack; other errors by name and code, with a
 * message and stack only where no driver wrote them (a driver's message may carry bound values).
 */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    try {
      const problem = toProblem(err, req.requestId);
      logProblem(logger, problem, err, req.requestId);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendProblem(res, problem);
    } catch {
      sendLastResort(res);
    }
  };
}
