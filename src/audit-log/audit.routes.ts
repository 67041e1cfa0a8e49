import { parseInput } from '../http/validate.js';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import { z } from 'zod';
import { requireRole } from '../http/auth.js';
import { actorOf } from '../shared/principal.js';
import { errorFacts, type Logger } from '../shared/logger.js';
import { containsPhoneNumber, identifierHoldsPhoneNumber, PHONE_NUMBER_REFUSED } from '../shared/phone-number-text.js';
import type { AuditCheckpoints } from './checkpoints.js';
import type { AuditReader, ExportFormat } from './export.js';
import type { AuditTree } from './tree.js';

const isoInstant = z.iso.datetime({ offset: true }).transform((v) => new Date(v).toISOString());

/** Filter values are written into the audit.exported entry: never a phone number, in any spelling. */
const notANumber = (v: string) => !identifierHoldsPhoneNumber(v.replace(/^[a-z-]+:/, ''));

export const exportQuery = z.strictObject({
  from: isoInstant.optional(),
  to: isoInstant.optional(),
  action: z.string().regex(/^[a-z-]+\.[a-z-]+$/, 'an action name such as recording.deleted').optional(),
  // The filter is written into the audit.exported entry, so it may only have the shape subjects have
  // ("recording:<uuid>", "token:tok_…", "call:<callId>"): never free text such as a phone number.
  subject: z
    .string()
    .regex(/^(recording|call|token|opt-out|session|object|checkpoint):[A-Za-z0-9._:-]{1,128}$/, 'a subject such as recording:<id>, call:<callId> or token:<id>')
    .refine(notANumber, PHONE_NUMBER_REFUSED)
    .optional(),
  actor: z
    .string()
    .regex(/^[a-z-]+:[A-Za-z0-9._:@|-]{1,190}$/, 'an actor such as admin:tok_…, user:<id> or system:retention')
    .refine(notANumber, PHONE_NUMBER_REFUSED)
    .optional(),
  recording: z.uuid('a recording id (UUID)').optional(),
  call: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'a call id: 1–128 characters of A–Z a–z 0–9 . _ : -')
    .refine(notANumber, PHONE_NUMBER_REFUSED)
    .optional(),
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1_000_000).optional(),
  format: z.enum(['ndjson', 'csv']).optional(),
});


export const acknowledgementBody = z.strictObject({
  seq: z.number().int().min(1),
  kind: z.string().regex(/^[a-z-]+$/, 'a problem kind such as checkpoint-mismatch'),
  // Audited: never a phone number.
  reason: z.string().trim().min(3).max(500).refine((v) => !containsPhoneNumber(v), PHONE_NUMBER_REFUSED),
});

const treeSize = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

export const inclusionQuery = z
  .strictObject({
    seq: treeSize.meta({ description: 'The entry (leaf index seq − 1)' }),
    size: treeSize.optional().meta({ description: 'Tree size; default: the whole log' }),
  })
  .refine((q) => q.size === undefined || q.seq <= q.size, { path: ['seq'], message: 'seq must be at most size' });

export const consistencyQuery = z
  .strictObject({ from: treeSize, to: treeSize })
  .refine((q) => q.from <= q.to, { path: ['from'], message: 'from must be at most to' });

export const inclusionProof = z
  .object({ index: z.number().int(), size: z.number().int(), hashes: z.array(z.string()), root: z.string() })
  .meta({ id: 'InclusionProof', description: 'RFC 9162 inclusion proof: base64 SHA-256 hashes, leaf end first; root of the tree of size' });
export const consistencyProof = z
  .object({ from: z.number().int(), to: z.number().int(), hashes: z.array(z.string()), fromRoot: z.string(), toRoot: z.string() })
  .meta({ id: 'ConsistencyProof', description: 'RFC 9162 consistency proof between tree sizes from and to (base64 SHA-256 hashes)' });

export function auditRoutes(deps: { reader: AuditReader; checkpoints: AuditCheckpoints; tree: AuditTree; logger: Logger }): Router {
  const router = Router();
  const roles = requireRole('auditor', 'admin');

  router.get('/v1/audit', roles, async (req, res) => {
    const q = parseInput(exportQuery, req.query, { code: 'invalid-query', what: 'query' });
    const format: ExportFormat = q.format ?? (req.accepts(['application/x-ndjson', 'text/csv']) === 'text/csv' ? 'csv' : 'ndjson');
    const { format: _f, ...filter } = q;
    const lines = await deps.reader.export(actorOf(req.principal!), filter, format);
    res
      .status(200)
      .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
      .set('Cache-Control', 'no-store');
    if (format === 'csv') res.set('Content-Disposition', 'attachment; filename="audit.csv"');
    try {
      await pipeline(Readable.from(lines), res);
    } catch (err) {
      // Headers are out: the client sees a cut-off stream, the log says why.
      deps.logger.error('audit export failed mid-stream', { requestId: req.requestId, err: errorFacts(err) });
      res.destroy();
    }
  });

  router.get('/v1/audit/verify', roles, async (req, res) => {
    const verdict = await deps.reader.verify(actorOf(req.principal!));
    res.set('Cache-Control', 'no-store').json(verdict);
  });

  router.get('/v1/audit/checkpoints', roles, async (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ keyId: deps.checkpoints.keyId(), checkpoints: await deps.checkpoints.list() });
  });

  // Signs the head now; audited (the checkpoint covers its own request). 201 with the checkpoint, 200 with null when already signed.
  router.post('/v1/audit/checkpoints', requireRole('admin'), async (req, res) => {
    const cp = await deps.checkpoints.request(actorOf(req.principal!));
    res.status(cp ? 201 : 200).set('Cache-Control', 'no-store').json({ checkpoint: cp });
  });

  // An admin accepts the problem the service found (naming it), recorded as audit.problem-acknowledged.
  router.post('/v1/audit/acknowledgements', requireRole('admin'), async (req, res) => {
    const body = parseInput(acknowledgementBody, req.body);
    const state = await deps.checkpoints.acknowledge(actorOf(req.principal!), body);
    res.status(201).set('Cache-Control', 'no-store').json(state);
  });

  router.get('/v1/audit/proofs/inclusion', roles, async (req, res) => {
    const q = parseInput(inclusionQuery, req.query, { code: 'invalid-query', what: 'query' });
    res.set('Cache-Control', 'no-store').json(await deps.tree.inclusion(q.seq, q.size));
  });

  router.get('/v1/audit/proofs/consistency', roles, async (req, res) => {
    const q = parseInput(consistencyQuery, req.query, { code: 'invalid-query', what: 'query' });
    res.set('Cache-Control', 'no-store').json(await deps.tree.consistency(q.from, q.to));
  });

  router.get('/v1/audit/public-keys', roles, async (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ keys: await deps.checkpoints.publicKeys() });
  });

  router.get('/v1/audit/public-key', roles, (_req, res) => {
    res.type('application/x-pem-file').set('X-Key-Id', deps.checkpoints.keyId()).send(deps.checkpoints.publicKeyPem());
  });

  return router;
}
