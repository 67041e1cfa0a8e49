import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../shared/logger.js';
import { identifierHoldsPhoneNumber } from '../shared/phone-number-text.js';

const SANE_ID = /^[A-Za-z0-9._-]{8,64}$/;

/**
 * The id of a request: a sane X-Request-Id from the client, else a new one. An id holding a phone number
 * is replaced, not refused: it is echoed and logged, and a request is not turned away for its id.
 */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && SANE_ID.test(given) && !identifierHoldsPhoneNumber(given) ? given : randomUUID();
}

/** A path segment that names something (recordings, opt-out, v1, app.js) rather than identifying it. */
const NAMING_SEGMENT = /^(?:[A-Za-z][A-Za-z_-]*(?:\.[a-z]{1,5})?|v\d)$/;

/** The path with every identifying segment (ids, call ids, anything with digits) replaced by ":id". */
export function maskedPath(path: string): string {
  return path
    .split('/')
    .map((segment) => (segment === '' || NAMING_SEGMENT.test(segment) ? segment : ':id'))
    .join('/');
}

/** One log line when the answer is finished, without query strings; nothing at all where request lines are not logged (LOG_LEVEL above info). */
export function logRequestLine(logger: Logger, req: Request, res: Response): void {
  if (!logger.isLevelEnabled('info')) return;
  const started = process.hrtime.bigint();
  res.on('finish', () => {
    logger.info('request', {
      requestId: req.requestId,
      method: req.method,
      // Path only, its ids masked: a client may put anything (a number) in a URL; query strings are not logged.
      path: maskedPath(req.path),
      status: res.statusCode,
      ms: Number((process.hrtime.bigint() - started) / 1_000_000n),
      principal: req.principal?.id,
    });
  });
}

/** Gives every request an id (reusing a sane X-Request-Id), answers with it, and logs one line per request. */
export function requestId(logger: Logger): RequestHandler {
  return (req, res, next) => {
    req.requestId = requestIdOf(req);
    res.setHeader('X-Request-Id', req.requestId);
    logRequestLine(logger, req, res);
    next();
  };
}
