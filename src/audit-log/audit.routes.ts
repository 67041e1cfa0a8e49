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

export function auditRoutes(deps: { reader: AuditReader; checkpoints: AuditCheckpoints; logger: Logger }): Router {
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

  router.get('/v1/audit/public-keys', roles, async (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ keys: await deps.checkpoints.publicKeys() });
  });

  router.get('/v1/audit/public-key', roles, (_req, res) => {
    res.type('application/x-pem-file').set('X-Key-Id', deps.checkpoints.keyId()).send(deps.checkpoints.publicKeyPem());
  });

  return router;
}
