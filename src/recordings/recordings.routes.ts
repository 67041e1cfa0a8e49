import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { Router, type Request, type Response } from 'express';
import { sendProblem, toProblem } from '../http/problem.js';
import type { WebhookVerifier } from '../http/webhook-signature.js';
import type { CallerKeys } from '../shared/caller-key.js';
import { BadRequest, TooLarge, Unauthenticated, UnsupportedMedia } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { parseCallMetadata, type CallMetadata } from './call-metadata.js';
import type { Ingest, IngestOutcome } from './ingest-recording.js';

export interface IngestRouteDeps {
  ingest: Ingest;
  verifier: WebhookVerifier;
  callerKeys: CallerKeys;
  maxRecordingBytes: number;
  logger: Logger;
}

/** POST /v1/recordings: the phone system's signed webhook, streamed end to end. */
export function ingestRoutes(deps: IngestRouteDeps): Router {
  const router = Router();
  router.post('/v1/recordings', async (req, res) => {
    const state = { callId: undefined as string | undefined, authentic: false };
    try {
      const outcome = await receive(req, res, state);
      res.status(outcome.outcome === 'stored' ? 201 : 200).set('Cache-Control', 'no-store').json(outcome.body);
    } catch (err) {
      const problem = toProblem(err, req.requestId);
      if (problem.status >= 500) deps.logger.error('ingest failed', { requestId: req.requestId, err: (err as Error).message, stack: (err as Error).stack });
      try {
        await deps.ingest.recordRefusal({ status: problem.status, problem: problem.type.split('/').pop()!, callId: state.callId, authentic: state.authentic });
      } catch (auditErr) {
        deps.logger.error('could not audit a refused upload', { requestId: req.requestId, err: (auditErr as Error).message });
      }
      sendProblem(res, problem);
    }
  });
  return router;

  async function receive(req: Request, res: Response, state: { callId?: string; authentic: boolean }): Promise<IngestOutcome> {
    // Stream errors are observed through the pipeline and the use case; these listeners only keep an
    // error emitted while nobody is reading (a client hanging up, a recording cut at the cap) from
    // becoming an uncaught exception.
    req.on('error', () => undefined);
    const signature = deps.verifier.begin(req.headers);
    if (!req.is('multipart/form-data')) {
      req.resume();
      throw new UnsupportedMedia('expected-multipart', 'Send multipart/form-data with a "metadata" field and then an "audio" file');
    }
    const declared = Number(req.get('content-length') ?? NaN);
    // Multipart framing and metadata add a little; anything far beyond the cap can be refused unread.
    if (declared > deps.maxRecordingBytes + 1024 * 1024) refuseEarly(req, res);

    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, limits: { files: 1, fileSize: deps.maxRecordingBytes, fields: 4, fieldSize: 64 * 1024, parts: 6 } });
    } catch {
      req.resume();
      throw new BadRequest('invalid-multipart', 'The multipart body has no boundary');
    }

    let firstError: unknown;
    const fail = (e: unknown) => (firstError ??= e);
    let meta: CallMetadata | undefined;
    let work: Promise<IngestOutcome> | undefined;
    let tooLarge: (() => void) | undefined;
    const overflow = new Promise<never>((_, reject) => {
      tooLarge = () => reject(new TooLarge('recording-too-large', `The recording is larger than ${deps.maxRecordingBytes} bytes`));
    });
    overflow.catch(() => undefined);

    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        signature.update(chunk);
        cb(null, chunk);
      },
    });
    const bodyDone = pipeline(req, tap, bb);
    let verdict: Promise<boolean> | undefined;
    const authenticated = () =>
      (verdict ??= bodyDone.then(
        () => (state.authentic = signature.verify()),
        () => false,
      ));

    bb.on('field', (name, value, info) => {
      if (name !== 'metadata') return;
      if (info.valueTruncated) return fail(new BadRequest('metadata-too-large', 'The metadata field is larger than 64 KiB'));
      if (meta) return fail(new BadRequest('duplicate-metadata', 'Send exactly one metadata field'));
      try {
        meta = parseCallMetadata(value, deps.callerKeys);
        state.callId = meta.callId;
      } catch (e) {
        fail(e);
      }
    });
    bb.on('file', (name, stream) => {
      if (firstError || name !== 'audio' || !meta || work) {
        stream.resume();
        if (name !== 'audio') fail(new BadRequest('unexpected-part', `Unexpected file part "${name}"; the file must be named "audio"`));
        else if (!meta) fail(new BadRequest('metadata-first', 'The metadata field must come before the audio file'));
        return;
      }
      const audio = new PassThrough({ highWaterMark: 256 * 1024 });
      audio.on('error', () => undefined);
      stream.on('limit', () => {
        const err = new TooLarge('recording-too-large', `The recording is larger than ${deps.maxRecordingBytes} bytes`);
        stream.unpipe(audio);
        audio.destroy(err);
        stream.resume();
        tooLarge?.();
      });
      // pipe() does not forward errors: a hang-up must reach the use case, or the store would wait forever.
      stream.on('error', (e) => audio.destroy(e));
      stream.pipe(audio);
      work = deps.ingest.receive(meta, audio, authenticated());
      work.catch(() => undefined);
    });

    try {
      // A recording over the cap is answered at once: its signature cannot be checked without reading
      // everything, and nothing of it is kept anyway.
      await Promise.race([bodyDone, overflow]);
    } catch (e) {
      if (e instanceof TooLarge) refuseEarly(req, res, e);
      fail(new BadRequest('invalid-multipart', 'The multipart body is malformed or ended early'));
    }

    if (!firstError && !work) fail(meta ? new BadRequest('missing-audio', 'The "audio" file part is missing') : new BadRequest('missing-metadata', 'The "metadata" field is missing'));
    if (work) {
      try {
        const outcome = await Promise.race([work, overflow]);
        if (!firstError) return outcome;
      } catch (e) {
        if (e instanceof TooLarge) refuseEarly(req, res, e);
        fail(e);
      }
    }
    if (!(await authenticated())) {
      throw new Unauthenticated('invalid-signature', 'The webhook signature does not match the body');
    }
    throw firstError;
  }
}

/** Answers 413 and closes the connection once the answer is out. */
function refuseEarly(req: Request, res: Response, err?: TooLarge): never {
  res.set('Connection', 'close');
  res.on('finish', () => req.destroy());
  throw err ?? new TooLarge('recording-too-large', 'The request is larger than the largest recording accepted');
}
