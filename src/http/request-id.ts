import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../shared/logger.js';

/** Gives every request an id (reusing a sane X-Request-Id) and logs one line per request, without query strings. */
export function requestId(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const given = req.get('x-request-id');
    req.requestId = given && /^[A-Za-z0-9._-]{8,64}$/.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', req.requestId);
    // Where request lines are not logged (LOG_LEVEL above info), no listener and no line is made at all.
    if (logger.isLevelEnabled('info')) {
      const started = process.hrtime.bigint();
      res.on('finish', () => {
        logger.info('request', {
          requestId: req.requestId,
          method: req.method,
          // Path only: numbers never travel in URLs, and query strings are not logged in case a client puts one there.
          path: req.path,
          status: res.statusCode,
          ms: Number((process.hrtime.bigint() - started) / 1_000_000n),
          principal: req.principal?.id,
        });
      });
    }
    next();
  };
}
