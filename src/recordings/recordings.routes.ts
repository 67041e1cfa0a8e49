import { finished, PassThrough, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { Router, type Request, type Response } from 'express';
import { logProblem, sendProblem, toProblem } from '../http/problem.js';
import type { RefusalLog } from '../http/refusals.js';
import type { QuarantineSlot, UploadQuarantine } from '../http/upload-quarantine.js';
import type { WebhookVerifier } from '../http/webhook-signature.js';
import type { CallerKeys } from '../shared/caller-key.js';
import type { Clock } from '../shared/clock.js';
import { BadRequest, DomainError, TooLarge, Unauthenticated, Unavailable, UnsupportedMedia } from '../shared/errors.js';
import { errorFacts, type Logger } from '../shared/logger.js';
import { parseCallMetadata, type CallMetadata } from './call-metadata.js';
import type { Ingest, IngestOutcome } from './ingest-recording.js';

export interface IngestRouteDeps {
  ingest: Ingest;
  verifier: WebhookVerifier;
  callerKeys: CallerKeys;
  clock: Clock;
  maxRecordingBytes: number;
  /** How far ahead of the server's clock a call may start (the webhook tolerance). */
  futureToleranceMs: number;
  maxCallDurationMs: number;
  quarantine: UploadQuarantine;
  refusals: RefusalLog;
  logger: Logger;
}

/** Multipart framing and the metadata part add a little to the audio. */
const FRAMING_BYTES = 1024 * 1024;

interface UploadState {
  callId?: string;
  /** The whole body was read and its signature matches. */
  authentic: boolean;
  /** The store (or database) failed while the body was arriving: answered 503 before it was verified. */
  outage?: boolean;
  client: string;
}

/** POST /v1/recordings: the phone system's signed webhook, streamed end to end. */
export function ingestRoutes(deps: IngestRouteDeps): Router {
  const router = Router();
  router.post('/v1/recordings', async (req, res) => {
    // Read now: once the connection is gone, req.ip can no longer be asked.
    const state: UploadState = { authentic: false, client: req.ip ?? 'unknown' };
    try {
      const outcome = await receive(req, state);
      res.status(outcome.outcome === 'stored' ? 201 : 200).set('Cache-Control', 'no-store').json(outcome.body);
    } catch (err) {
      const problem = toProblem(err, req.requestId);
      logProblem(deps.logger, problem, err, req.requestId, 'ingest failed');
      const code = problem.type.split('/').pop()!;
      if (state.authentic && code === 'database-unavailable') {
        // The refusal cannot be written to a database that is busy or down, and trying would hold the
        // 503 back by another lock timeout: the log keeps it.
        deps.logger.warn('an authentic upload was refused while the database was unavailable; not audited', { requestId: req.requestId, status: problem.status });
      } else if (state.authentic) {
        try {
          await deps.ingest.recordRefusal({ status: problem.status, problem: code, callId: state.callId });
        } catch (auditErr) {
          deps.logger.error('could not audit a refused upload', { requestId: req.requestId, err: errorFacts(auditErr) });
        }
      } else if (!state.outage) {
        // An outage met before the body was verified (the store failing mid-upload) is ours, not a refusal of the client.
        deps.refusals.unauthenticated({ route: 'webhook', problem: code, status: problem.status, requestId: req.requestId, client: state.client });
      }
      // Answered before the body was read to its end (too large, quarantine full, bad headers): the
      // rest is not worth reading, so the connection closes once the answer is out.
      if (!req.complete) {
        res.set('Connection', 'close');
        res.on('finish', () => req.destroy());
      }
      // Nothing is written after an answer has begun (the edge may have answered a limit already).
      if (res.headersSent) req.destroy();
      else sendProblem(res, problem);
    }
  });
  return router;

  async function receive(req: Request, state: UploadState): Promise<IngestOutcome> {
    // Stream errors are observed through the pipeline; this only keeps one emitted while nobody is
    // reading (a client hanging up) from becoming an uncaught exception.
    req.on('error', () => undefined);
    const signature = deps.verifier.begin(req.headers);
    const declared = Number(req.get('content-length') ?? 0) || 0;
    const limit = deps.maxRecordingBytes + FRAMING_BYTES;
    if (declared > limit) throw new TooLarge('recording-too-large', 'The request is larger than the largest recording accepted');
    const slot = deps.quarantine.admit(state.client, declared);
    try {
      return await receiveBody(req, state, signature, slot, limit);
    } finally {
      slot.release();
    }
  }

  async function receiveBody(
    req: Request,
    state: UploadState,
    signature: ReturnType<WebhookVerifier['begin']>,
    slot: QuarantineSlot,
    limit: number,
  ): Promise<IngestOutcome> {
    // The first thing wrong with the body's form or content; reported only once the body is known to be authentic.
    let firstError: DomainError | undefined;
    const fail = (e: unknown) => {
      firstError ??= e instanceof DomainError ? e : new BadRequest('invalid-multipart', `The multipart body is malformed: ${(e as Error).message}`);
    };

    let bb: busboy.Busboy | undefined;
    if (!req.is('multipart/form-data')) {
      fail(new UnsupportedMedia('expected-multipart', 'Send multipart/form-data with a "metadata" field and then an "audio" file'));
    } else {
      try {
        bb = busboy({ headers: req.headers, limits: { files: 2, fileSize: deps.maxRecordingBytes, fields: 4, fieldSize: 64 * 1024, parts: 6 } });
      } catch {
        fail(new BadRequest('invalid-multipart', 'The multipart body has no boundary'));
      }
    }

    // Every byte goes through the signature (and the quarantine's count), whether or not the parser
    // still wants it: an authentic body the parser refuses is a 400 naming the problem, not a 401.
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        try {
          slot.add(chunk.length);
        } catch (e) {
          return cb(e as Error);
        }
        signature.update(chunk);
        cb(null, chunk);
      },
    });
    let received = 0;
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        received += chunk.length;
        if (received > limit) return cb(new TooLarge('recording-too-large', `The recording is larger than ${deps.maxRecordingBytes} bytes`));
        if (!bb || bb.destroyed) return cb();
        // A parser destroyed mid-write never calls back: its 'close' must release the write too.
        const parser = bb;
        let done = false;
        const next = () => {
          if (done) return;
          done = true;
          parser.off('close', next);
          cb();
        };
        parser.once('close', next);
        parser.write(chunk, next);
      },
      final(cb) {
        if (!bb || bb.destroyed) return cb();
        finished(bb, () => cb());
        bb.end();
      },
    });

    let meta: CallMetadata | undefined;
    let work: Promise<IngestOutcome> | undefined;
    // Rejects when the store fails while the body is still arriving: an outage is answered at once, at
    // any size, instead of after the rest of the body (or after the edge's idle limit, blaming the client).
    let outage!: (err: Unavailable) => void;
    const storeFailed = new Promise<never>((_resolve, reject) => {
      outage = reject;
    });
    storeFailed.catch(() => undefined);
    // Settles once the body is read and checked: true only when it is authentic and well-formed.
    let settleVerdict!: (ok: boolean | Error) => void;
    const verdict = new Promise<boolean>((resolve, reject) => {
      settleVerdict = (ok) => (ok instanceof Error ? reject(ok) : resolve(ok));
    });
    verdict.catch(() => undefined);

    bb?.on('error', (e) => {
      fail(e);
      // A parser that gave up no longer feeds the audio stream: end it with the error, or the use case waits forever.
      bb!.destroy(e as Error);
    });
    bb?.on('filesLimit', () => fail(new BadRequest('duplicate-audio', 'Send exactly one "audio" file part')));
    bb?.on('partsLimit', () => fail(new BadRequest('too-many-parts', 'Send only the "metadata" field and the "audio" file')));
    bb?.on('fieldsLimit', () => fail(new BadRequest('too-many-parts', 'Send only the "metadata" field and the "audio" file')));
    bb?.on('field', (name, value, info) => {
      if (name !== 'metadata') return;
      if (info.valueTruncated) return fail(new BadRequest('metadata-too-large', 'The metadata field is larger than 64 KiB'));
      if (meta) return fail(new BadRequest('duplicate-metadata', 'Send exactly one metadata field'));
      try {
        meta = parseCallMetadata(value, deps.callerKeys, {
          now: deps.clock.now(),
          futureToleranceMs: deps.futureToleranceMs,
          maxCallDurationMs: deps.maxCallDurationMs,
        });
        state.callId = meta.callId;
      } catch (e) {
        fail(e);
      }
    });
    bb?.on('file', (name, stream) => {
      if (name !== 'audio') fail(new BadRequest('unexpected-part', `Unexpected file part "${name}"; the file must be named "audio"`));
      else if (work) fail(new BadRequest('duplicate-audio', 'Send exactly one "audio" file part'));
      else if (!meta && !firstError) fail(new BadRequest('metadata-first', 'The metadata field must come before the audio file'));
      if (firstError || work || !meta) {
        stream.resume();
        return;
      }
      const audio = new PassThrough({ highWaterMark: 256 * 1024 });
      audio.on('error', () => undefined);
      stream.on('limit', () => {
        stream.unpipe(audio);
        stream.resume();
        const err = new TooLarge('recording-too-large', `The recording is larger than ${deps.maxRecordingBytes} bytes`);
        audio.destroy(err);
        // Answered at once: its signature cannot be checked without reading everything, and nothing of it is kept anyway.
        tap.destroy(err);
      });
      // pipe() does not forward errors: a cut-off part must reach the use case, or the store would wait forever.
      stream.on('error', (e) => audio.destroy(e));
      stream.pipe(audio);
      work = deps.ingest.receive(meta, audio, verdict);
      // A use case that gives up early must not leave the rest of the part unread: the body would never
      // end. The part is unpiped and drained here (resuming `audio` does nothing while the use case's
      // iterator still listens to it).
      work.catch((e: unknown) => {
        stream.unpipe(audio);
        audio.destroy();
        stream.resume();
        if (e instanceof Unavailable) {
          state.outage = true;
          outage(e);
        }
      });
    });

    const bodyRead = pipeline(req, tap, sink);
    bodyRead.catch(() => undefined);
    try {
      await Promise.race([bodyRead, storeFailed]);
    } catch (e) {
      // The body did not arrive whole (the client left, a limit was hit): nothing of it is kept.
      bb?.destroy(e as Error);
      settleVerdict(false);
      await work?.catch(() => undefined);
      if (e instanceof DomainError) throw e;
      throw new BadRequest('incomplete-body', 'The request body ended before its declared length');
    }

    state.authentic = signature.verify();
    slot.release();
    if (!state.authentic) settleVerdict(false);
    else if (firstError) settleVerdict(firstError);
    else if (!work) fail(meta ? new BadRequest('missing-audio', 'The "audio" file part is missing') : new BadRequest('missing-metadata', 'The "metadata" field is missing'));
    else settleVerdict(true);

    let outcome: IngestOutcome | undefined;
    let workError: unknown;
    if (work) {
      try {
        outcome = await work;
      } catch (e) {
        workError = e;
      }
    }
    if (!state.authentic) throw new Unauthenticated('invalid-signature', 'The webhook signature does not match the body');
    if (firstError) throw firstError;
    if (workError !== undefined) throw workError;
    return outcome!;
  }
}
