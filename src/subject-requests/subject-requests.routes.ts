import { pipeline } from 'node:stream/promises';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { requireRole } from '../http/auth.js';
import { actorOf } from '../shared/principal.js';
import { parseInput } from '../http/validate.js';
import { errorFacts, type Logger } from '../shared/logger.js';
import type { AccessPackages } from './access-package.js';
import type { SubjectRequests } from './subject-requests.js';

const idOf = (req: Request) => parseInput(z.object({ id: z.string().regex(/^sr_[0-9a-f]{16}$/, 'a case id (sr_…)') }), { id: req.params.id }).id;
const body = (req: Request) => parseInput(z.record(z.string(), z.unknown()), req.body ?? {}, { what: 'body' });

/**
 * Data-subject requests, for administrators (registrar, data-protection officer). Nothing returned
 * carries the number or the caller key.
 */
export function subjectRequestRoutes(deps: { requests: SubjectRequests; packages: AccessPackages; logger: Logger }): Router {
  const router = Router();
  const admin = requireRole('admin');
  const noStore = { 'Cache-Control': 'no-store' };

  router.post('/v1/subject-requests', admin, async (req, res) => {
    const c = await deps.requests.open(body(req), actorOf(req.principal!));
    res.status(201).set(noStore).location(`/v1/subject-requests/${c.id}`).json(c);
  });

  router.get('/v1/subject-requests', admin, async (_req, res) => {
    res.set(noStore).json({ items: await deps.requests.list() });
  });

  router.get('/v1/subject-requests/:id', admin, async (req, res) => {
    res.set(noStore).json(await deps.requests.get(idOf(req)));
  });

  router.get('/v1/subject-requests/:id/package', admin, async (req, res) => {
    const pkg = await deps.packages.open(idOf(req), actorOf(req.principal!));
    res.status(200).set({ ...noStore, 'Content-Type': 'application/zip', 'Content-Disposition': `attachment; filename="${pkg.filename}"` });
    try {
      await pipeline(pkg.stream, res);
    } catch (err) {
      // Headers are gone: the client sees a cut-off download, which a ZIP reader refuses.
      deps.logger.error('a register extract failed while streaming', { requestId: req.requestId, err: errorFacts(err) });
      res.destroy();
    }
  });

  const action = (path: string, run: (id: string, input: Record<string, unknown>, actor: string) => Promise<unknown>) =>
    router.post(`/v1/subject-requests/:id/${path}`, admin, async (req, res) => {
      res.set(noStore).json(await run(idOf(req), body(req), actorOf(req.principal!)));
    });
  action('extend', (id, input, actor) => deps.requests.extend(id, input, actor));
  action('answer', (id, _input, actor) => deps.requests.answer(id, actor));
  action('close', (id, _input, actor) => deps.requests.close(id, actor));
  action('restrict', (id, input, actor) => deps.requests.restrict(id, input, actor));
  action('erase', (id, input, actor) => deps.requests.erase(id, input, actor));
  action('object', (id, input, actor) => deps.requests.object(id, input, actor));

  return router;
}
