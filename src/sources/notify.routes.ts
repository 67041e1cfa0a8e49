import express, { Router, type Request } from 'express';
import { z } from 'zod';
import { parseInput } from '../http/validate.js';
import { NotFound, Unauthenticated } from '../shared/errors.js';
import { errorFacts, type Logger } from '../shared/logger.js';
import type { NotifySource } from './notify-source.js';
import { sourceName } from './sources.routes.js';

/**
 * POST /v1/sources/{name}/notify: the platform's own call (Twilio's recordingStatusCallback, 46elks'
 * recordcall), authenticated by the platform's scheme rather than a bearer token, so mounted before the
 * token check. Answered 202 once the notification is durable; the fetch runs in the background.
 */
export function sourceNotifyRoutes(deps: { sources: NotifySource[]; logger: Logger; onAuthFailure?: (req: Request) => Promise<void> }): Router {
  const router = Router();
  const byName = new Map(deps.sources.map((s) => [s.name, s]));
  router.post('/v1/sources/:name/notify', express.raw({ type: () => true, limit: '64kb' }), async (req, res) => {
    const { name } = parseInput(z.object({ name: sourceName }), { name: req.params.name });
    const source = byName.get(name);
    if (!source) throw new NotFound('source-not-found', `No source named ${name} takes notifications`);
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '';
    let answer;
    try {
      answer = await source.notify(req.headers, raw, query);
    } catch (err) {
      // Counted with every other failed credential: a guessed Basic password is limited like a token (429).
      if (err instanceof Unauthenticated) await deps.onAuthFailure?.(req);
      throw err;
    }
    res.status(answer.status === 'ignored' ? 200 : 202).set('Cache-Control', 'no-store').json(answer);
    if (answer.status === 'accepted') {
      // In the background: the platform's own timeout is never waited on. The schedule retries what fails here.
      source.poll().catch((err: unknown) => deps.logger.error('fetching a notified recording failed; the schedule retries', { source: name, err: errorFacts(err) }));
    }
  });
  return router;
}
