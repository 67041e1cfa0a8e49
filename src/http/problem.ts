import type { ErrorRequestHandler, Response } from 'express';
import {
  BadRequest, Conflict, DomainError, Forbidden, Gone, InvalidInput, NotFound, RangeNotSatisfiable,
  TimedOut, TooLarge, TooManyRequests, Unauthenticated, Unavailable, UnsupportedMedia,
} from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

export const PROBLEM_BASE = 'https://gallra.example/problems/';

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
  errors?: { pointer: string; detail: string }[];
  request_id?: string;
  [k: string]: unknown;
}

/** The one place a domain error becomes an HTTP status (RFC 9457). */
export function toProblem(err: unknown, requestId?: string): Problem {
  if (err instanceof DomainError) {
    const [, status, title] = STATUS.find(([cls]) => err instanceof cls) ?? [DomainError, 500, 'Internal error'];
    const { errors, ...extra } = err.details;
    return { type: PROBLEM_BASE + err.code, title, status, detail: err.message, ...(errors ? { errors } : {}), ...extra, request_id: requestId };
  }
  const e = err as { type?: string; status?: number };
  // body-parser's own errors: bad JSON and oversized bodies are the client's fault.
  if (e?.type === 'entity.parse.failed') {
    return { type: PROBLEM_BASE + 'invalid-json', title: 'Bad request', status: 400, detail: 'The request body is not valid JSON', request_id: requestId };
  }
  if (e?.type === 'entity.too.large') {
    return { type: PROBLEM_BASE + 'body-too-large', title: 'Content too large', status: 413, detail: 'The request body is too large', request_id: requestId };
  }
  return { type: PROBLEM_BASE + 'internal', title: 'Internal error', status: 500, detail: 'Something went wrong; the request id helps the operators find out what.', request_id: requestId };
}

export function sendProblem(res: Response, problem: Problem): void {
  if (res.headersSent) return;
  res.status(problem.status).type('application/problem+json').set('Cache-Control', 'no-store').send(JSON.stringify(problem));
}

export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const problem = toProblem(err, req.requestId);
    if (problem.status >= 500) {
      logger.error('request failed', { requestId: req.requestId, err: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err) });
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendProblem(res, problem);
  };
}
