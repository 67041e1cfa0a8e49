import express, { Router, type RequestHandler } from 'express';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { z } from 'zod';
import { parseInput } from '../http/validate.js';
import { NotFound, TooManyRequests } from '../shared/errors.js';
import type { Receipts } from './receipts.js';
import type { TreeHeads } from './tree-heads.js';
import type { AuditTree } from './tree.js';

export const recordingIdParams = z.strictObject({ recordingId: z.uuid('a recording id (UUID)') });
export const publicConsistencyQuery = z
  .strictObject({ from: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER), to: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) })
  .refine((q) => q.from <= q.to, { path: ['from'], message: 'from must be at most to' });

export const publicReceipt = z
  .object({
    recordingId: z.string(),
    projection: z.object({ seq: z.number().int(), at: z.string(), action: z.string(), subject: z.string().nullable(), commitment: z.string() }),
    tlogProof: z.string().meta({ description: 'C2SP tlog-proof text; its extra line is the projection as leaf data (docs/receipts.md)' }),
  })
  .meta({ id: 'Receipt' });
export const transparencyKey = z
  .object({ origin: z.string(), verifierKey: z.string(), publicKey: z.string() })
  .meta({ id: 'TransparencyKey', description: "The log's key: C2SP verifier key and PEM" });

/**
 * The transparency log's public face: no sign-in (the one exception to "every /v1 route needs a
 * token"), cross-origin GET allowed, rate-limited per client address. It reveals only public
 * projections and hashes: never who deleted a call, nor that a request caused it.
 */
export function transparencyRoutes(deps: { heads: TreeHeads; receipts: Receipts; tree: AuditTree; publicKeyPem: () => string; requestsPerMinute: number }): Router {
  const router = Router();
  // The same limiter library as the failed-credential limiter: counts per client address, in memory
  // (these routes write nothing, so a flood costs no database write either).
  const perAddress = new RateLimiterMemory({ points: deps.requestsPerMinute, duration: 60, keyPrefix: 'transparency' });
  const limited: RequestHandler = (req, _res, next) => {
    perAddress.consume(req.ip ?? 'unknown').then(
      () => next(),
      (e: unknown) =>
        next(
          e instanceof RateLimiterRes
            ? new TooManyRequests('too-many-requests', 'Too many requests to the transparency log; wait a minute', { retryAfterSeconds: Math.max(1, Math.ceil(e.msBeforeNext / 1000)) })
            : e,
        ),
    );
  };
  const open: RequestHandler = (_req, res, next) => {
    res.set({ 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Methods': 'GET', 'Cross-Origin-Resource-Policy': 'cross-origin', 'Cache-Control': 'no-cache' });
    next();
  };
  router.use('/v1/transparency', limited, open);

  router.get('/v1/transparency/checkpoint', async (_req, res) => {
    const head = (await deps.heads.latest()) ?? (await deps.heads.sign());
    if (!head) throw new NotFound('not-found', 'the audit log is empty: nothing is signed yet');
    res.type('text/plain; charset=utf-8').send(head.note);
  });

  router.get('/v1/transparency/key', (_req, res) => {
    res.json({ origin: deps.heads.origin, verifierKey: deps.heads.verifierKey(), publicKey: deps.publicKeyPem() });
  });

  router.get('/v1/transparency/consistency', async (req, res) => {
    const q = parseInput(publicConsistencyQuery, req.query, { code: 'invalid-query', what: 'query' });
    res.json(await deps.tree.consistency(q.from, q.to));
  });

  router.get('/v1/transparency/deleted/:recordingId', async (req, res) => {
    const { recordingId } = parseInput(recordingIdParams, req.params, { code: 'invalid-path', what: 'path' });
    const r = await deps.receipts.deletionOf(recordingId);
    res.json({ recordingId, projection: r.projection, tlogProof: r.tlogProof });
  });

  // A witness posts the checkpoint it cosigned; the signature is the credential (registered keys only).
  router.post('/v1/transparency/cosignatures', express.text({ type: () => true, limit: '8kb' }), async (req, res) => {
    const result = await deps.heads.addCosignatures(typeof req.body === 'string' ? req.body : '');
    res.status(201).json(result);
  });

  return router;
}
