import {
  AbortMultipartUploadCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import pLimit from 'p-limit';
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Config } from '../config.js';
import { RangeNotSatisfiable, Unavailable } from '../shared/errors.js';
import {
  assertValidKey,
  InvalidKey,
  ObjectNotFound,
  type ByteRange,
  type DeleteResult,
  type Leftover,
  type ObjectStore,
  type StoredObject,
} from './object-store.js';
import { CONCURRENCY, createS3VersionedDeletion, DELETE_BATCH, describe, isNotFound, isNotImplemented, nameOf, statusOf } from './s3-versions.js';

const MiB = 1024 * 1024;

export interface S3ObjectStoreOptions {
  client: S3Client;
  bucket: string;
  sse: 'none' | 'AES256' | 'aws:kms';
  sseKmsKeyId?: string;
  /**
   * Multipart part size in bytes, at least 5 MiB (the default); a recording up to this size goes up in
   * one PutObject. Memory use while a larger one streams in is about partSize × (queueSize + 2): the
   * parts being uploaded, the one being gathered and its concatenation.
   */
  partSize?: number;
  /** Parts uploaded in parallel. Default 2. */
  queueSize?: number;
  /** Whether the bucket keeps versions; detected once with GetBucketVersioning when omitted. */
  versioned?: boolean;
  /**
   * The longest one store operation may wait on the store, over all of the SDK's attempts (default
   * 10 s): an upload's store part, a deletion of up to 1000 keys, one listing page, the opening of a
   * download. A streamed upload is given up once the store has taken nothing for this long. A store
   * that does not answer (a black-holed endpoint) then costs a caller one bounded wait, not three.
   */
  operationTimeoutMs?: number;
}

/** How often a streamed upload looks whether the store has stalled. */
const STALL_CHECK_MS = 250;

/** Answers to a conditional put whose key is taken: 412, or 409 while another conditional write to it is in flight. */
function isTaken(err: unknown): boolean {
  const name = nameOf(err);
  const status = statusOf(err);
  return name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || status === 412 || status === 409;
}

/** Reads `body` until `limit` bytes or its end, whichever comes first. */
async function readUpTo(body: Readable, limit: number): Promise<{ chunks: Buffer[]; ended: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  // destroyOnReturn: false — stopping here at the limit must leave the rest readable.
  for await (const chunk of body.iterator({ destroyOnReturn: false })) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size >= limit) return { chunks, ended: false };
  }
  return { chunks, ended: true };
}

/**
 * An S3 client for the configured store. `requestChecksum: 'when_required'` is for stores that do not
 * understand the aws-chunked framing with trailing checksums that the SDK otherwise sends for streamed
 * bodies: such stores (s3rver, some appliances) save the framing as part of the object.
 */
export function createS3Client(cfg: S3Config): S3Client {
  const checksum = cfg.requestChecksum === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED';
  return new S3Client({
    region: cfg.region,
    endpoint: cfg.endpoint,
    forcePathStyle: cfg.forcePathStyle,
    credentials: cfg.credentials,
    requestChecksumCalculation: checksum,
    responseChecksumValidation: checksum,
    // Bounded: without these the SDK waits as long as a black-holed endpoint keeps the socket open.
    requestHandler: { connectionTimeout: cfg.connectTimeoutMs ?? 3_000, requestTimeout: cfg.requestTimeoutMs ?? 10_000, throwOnRequestTimeout: true },
  });
}

/**
 * The client as lib-storage's Upload should use it: its one-part PutObject takes the upload's abort
 * signal. lib-storage sends that PutObject without one (aws/aws-sdk-js-v3#5109), so `abort()` only
 * rejected `done()` while the PUT went on, and the SDK retried it: an upload answered 503, and whose
 * clean-up had run, could still be stored after the store came back.
 */
function withAbortablePut(client: S3Client, abortSignal: AbortSignal): S3Client {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver) as unknown;
      return (command: unknown, options?: { abortSignal?: AbortSignal }) =>
        (target.send as (c: unknown, o?: object) => Promise<unknown>)(command, command instanceof PutObjectCommand && !options?.abortSignal ? { ...options, abortSignal } : options);
    },
  });
}

/**
 * The ObjectStore on an S3 bucket. Uploads are streamed multipart (lib-storage); deletes remove every
 * version and delete marker on a versioned bucket and are verified afterwards. SDK errors become
 * `Unavailable` (name, status and request id only, never the SDK's message or request details).
 */
export function createS3ObjectStore(opts: S3ObjectStoreOptions): ObjectStore {
  const { client, bucket } = opts;
  const partSize = opts.partSize ?? 5 * MiB;
  const queueSize = opts.queueSize ?? 2;
  const sse: Pick<PutObjectCommandInput, 'ServerSideEncryption' | 'SSEKMSKeyId'> =
    opts.sse === 'none'
      ? {}
      : opts.sse === 'AES256'
        ? { ServerSideEncryption: 'AES256' }
        : { ServerSideEncryption: 'aws:kms', ...(opts.sseKmsKeyId ? { SSEKMSKeyId: opts.sseKmsKeyId } : {}) };
  const deletion = createS3VersionedDeletion({ client, bucket, versioned: opts.versioned });
  const { headMissing, deleteAndVerify } = deletion;
  const operationTimeoutMs = opts.operationTimeoutMs ?? 10_000;

  /**
   * Runs `fn` with a signal that aborts after `ms`; every `client.send` of the operation takes it, so
   * the SDK's retries end with it. The timer is cleared once `fn` settles: a download's body, streamed
   * afterwards, is not cut off.
   */
  async function withDeadline<T>(fn: (abortSignal: AbortSignal) => Promise<T>, ms = operationTimeoutMs): Promise<T> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), ms);
    try {
      return await fn(controller.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  /** When a multipart upload last received a part (else when it began); undefined once it is gone (completed or aborted). */
  async function lastWritten(key: string, uploadId: string, initiated: Date, abortSignal: AbortSignal): Promise<Date | undefined> {
    let last = initiated;
    let marker: string | undefined;
    try {
      for (;;) {
        const out = await client.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }), { abortSignal });
        for (const p of out.Parts ?? []) if (p.LastModified && p.LastModified.getTime() > last.getTime()) last = p.LastModified;
        if (!out.IsTruncated || out.NextPartNumberMarker === undefined) return last;
        marker = out.NextPartNumberMarker;
      }
    } catch (err) {
      if (isNoSuchUpload(err)) return undefined;
      throw storeError('ListParts', err);
    }
  }

  /** Sends DeleteObjects in batches; returns the per-key failures. */
  return {
    async put(key: string, body: Readable, meta: { contentType: string; sha256?: () => string }): Promise<{ bytes: number }> {
      try {
        assertValidKey(key);
      } catch (err) {
        body.destroy(); // put owns the body: a refused key must not leave the sender stalled
        throw err;
      }
      // A recording that fits in one part goes up in one PutObject, signed with the caller's SHA-256 of
      // it: the SDK would otherwise hash every byte again to sign the payload. S3 checks the bytes
      // against that hash, so a caller's digest that does not match is refused, never stored.
      const first = await readUpTo(body, partSize); // a source failure propagates as it is
      if (first.ended && meta.sha256) {
        const { chunks } = first;
        const bytes = chunks.reduce((n, c) => n + c.length, 0);
        const payloadHash = meta.sha256();
        const command = new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          ContentLength: bytes,
          ContentType: meta.contentType,
          // A checksum of our own keeps the SDK from computing one, which for a stream body would
          // mean aws-chunked framing (that some stores keep as part of the object).
          ChecksumSHA256: Buffer.from(payloadHash, 'hex').toString('base64'),
          ...sse,
        });
        command.middlewareStack.add(
          (next) => async (args) => {
            (args.request as { headers: Record<string, string> }).headers['x-amz-content-sha256'] = payloadHash;
            return next(args);
          },
          { step: 'build', name: 'payloadHashFromCaller' },
        );
        // The chunks already read are the body, without copying them into one buffer: a new stream
        // over them for every attempt, set below the retry middleware (which retries no stream body).
        command.middlewareStack.add(
          (next) => async (args) => {
            (args.request as { body: unknown }).body = Readable.from(chunks, { objectMode: false });
            return next(args);
          },
          { step: 'deserialize', name: 'bodyFromChunks' },
        );
        try {
          await withDeadline((abortSignal) => client.send(command, { abortSignal }));
        } catch (err) {
          throw storeError('PutObject', err);
        }
        return { bytes };
      }

      let bytes = 0;
      let firstFailure: 'source' | 'store' | undefined;
      let lastProgress = performance.now();
      const counter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          bytes += chunk.length;
          lastProgress = performance.now();
          done(null, chunk);
        },
      });
      const aborting = new AbortController();
      const upload = new Upload({
        client: withAbortablePut(client, aborting.signal),
        abortController: aborting,
        params: { Bucket: bucket, Key: key, Body: counter, ContentType: meta.contentType, ...sse },
        partSize,
        queueSize,
        leavePartsOnError: false,
      });
      // What was read to decide, then the rest of the body.
      const rest = Readable.from(
        (async function* () {
          // Handed on one by one and let go, so the decision's buffer is not held for the whole upload.
          for (let c = first.chunks.shift(); c; c = first.chunks.shift()) yield c;
          if (!first.ended) yield* body.iterator({ destroyOnReturn: true });
        })(),
        { objectMode: false },
      );
      let sourceEnded = false;
      const piped = pipeline(rest, counter).then(
        () => {
          sourceEnded = true;
        },
        (err: unknown) => {
          firstFailure ??= 'source';
          throw err;
        },
      );
      // A part stored is progress too. The store has stalled when, with data waiting for it (the
      // source ended, or held back because the upload takes nothing more), it has taken none for
      // operationTimeoutMs. A slow sender is not the store's stall: the HTTP edge bounds that one.
      upload.on('httpUploadProgress', () => {
        lastProgress = performance.now();
      });
      const watchdog = setInterval(() => {
        if ((sourceEnded || counter.writableNeedDrain) && performance.now() - lastProgress > operationTimeoutMs) void upload.abort();
      }, STALL_CHECK_MS);
      // A failed Upload aborts its multipart upload before rejecting, so nothing is left at the key.
      // After our abort() it rejects at once and aborts the multipart upload once its parts in flight
      // have ended; one that cannot be aborted then (the store gone) is the orphan sweep's.
      const stored = upload.done().catch((err: unknown) => {
        firstFailure ??= 'store';
        counter.destroy(err instanceof Error ? err : new Error(String(err)));
        throw err;
      });
      const [source, store] = await Promise.allSettled([piped, stored]).finally(() => clearInterval(watchdog));
      if (source.status === 'fulfilled' && store.status === 'fulfilled') return { bytes };
      if (firstFailure === 'source' && source.status === 'rejected') throw source.reason;
      throw storeError('PutObject', store.status === 'rejected' ? store.reason : undefined);
    },

    async create(key: string, body: Buffer, meta: { contentType: string; retainUntil?: Date }): Promise<{ created: boolean }> {
      assertValidKey(key);
      // The HEAD is for S3-compatible stores that ignore If-None-Match on PUT (s3rver does): there it
      // still refuses a replacement that is not concurrent. On S3 the conditional put is the atomic test.
      if (!(await withDeadline((signal) => headMissing(key, signal)).catch((err: unknown) => { throw storeError('HeadObject', err); }))) return { created: false };
      const lock: Pick<PutObjectCommandInput, 'ObjectLockMode' | 'ObjectLockRetainUntilDate'> = meta.retainUntil
        ? { ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: meta.retainUntil }
        : {};
      try {
        const command = new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentLength: body.length,
          ContentType: meta.contentType,
          IfNoneMatch: '*',
          // Object Lock puts must carry an integrity header; S3 checks the bytes against it.
          ChecksumSHA256: createHash('sha256').update(body).digest('base64'),
          ...lock,
          ...sse,
        });
        await withDeadline((abortSignal) => client.send(command, { abortSignal }));
        return { created: true };
      } catch (err) {
        if (isTaken(err)) return { created: false };
        throw storeError('PutObject', err);
      }
    },

    async get(key: string, range?: ByteRange): Promise<StoredObject> {
      assertValidKey(key);
      if (range) checkRange(range);
      try {
        // The deadline is for the answer; the body streams to the listener for as long as playback takes.
        const out = await withDeadline((abortSignal) =>
          client.send(
            new GetObjectCommand({
              Bucket: bucket,
              Key: key,
              Range: range ? `bytes=${range.start}-${range.end ?? ''}` : undefined,
            }),
            { abortSignal },
          ),
        );
        if (!(out.Body instanceof Readable)) throw new Error('GetObject returned no Node stream');
        const bytes = out.ContentLength ?? 0;
        const total = /\/(\d+)$/.exec(out.ContentRange ?? '');
        return {
          body: out.Body,
          bytes,
          totalBytes: total ? Number(total[1]) : bytes,
          contentType: out.ContentType ?? 'application/octet-stream',
        };
      } catch (err) {
        if (isNotFound(err)) throw new ObjectNotFound(key);
        if (range && (statusOf(err) === 416 || nameOf(err) === 'InvalidRange')) {
          throw new RangeNotSatisfiable('range-not-satisfiable', `bytes=${range.start}-${range.end ?? ''} is outside the object`);
        }
        throw storeError('GetObject', err);
      }
    },

    async delete(keys: string[]): Promise<DeleteResult> {
      keys.forEach(assertValidKey);
      const unique = [...new Set(keys)];
      // One deadline per 1000 keys (one DeleteObjects call); a key not confirmed gone by then is reported failed.
      return withDeadline((signal) => deleteAndVerify(unique, signal), operationTimeoutMs * Math.max(1, Math.ceil(unique.length / DELETE_BATCH)));
    },

    async exists(key: string): Promise<boolean> {
      assertValidKey(key);
      try {
        return !(await withDeadline((signal) => headMissing(key, signal)));
      } catch (err) {
        throw storeError('HeadObject', err);
      }
    },

    list(prefix: string): AsyncIterable<{ key: string; lastModified: Date }> {
      assertValidPrefix(prefix);
      return (async function* () {
        // ListObjects (v1), paged by the last key listed: ListObjectsV2's opaque continuation tokens are
        // beyond some S3-compatible stores (s3rver answers 500 to any truncated V2 listing), where the
        // orphan sweep then failed as soon as more than 1000 recordings were stored.
        let marker: string | undefined;
        for (;;) {
          let out;
          try {
            out = await withDeadline((abortSignal) =>
              client.send(new ListObjectsCommand({ Bucket: bucket, Prefix: prefix || undefined, Marker: marker }), { abortSignal }),
            );
          } catch (err) {
            throw storeError('ListObjects', err);
          }
          const listed = out.Contents ?? [];
          for (const o of listed) {
            if (o.Key !== undefined) yield { key: o.Key, lastModified: o.LastModified ?? new Date(0) };
          }
          const last = listed[listed.length - 1]?.Key;
          if (!out.IsTruncated || last === undefined) return;
          marker = last;
        }
      })();
    },

    leftovers(prefix: string, olderThan: Date): AsyncIterable<Leftover> {
      assertValidPrefix(prefix);
      return (async function* () {
        let keyMarker: string | undefined;
        let uploadIdMarker: string | undefined;
        for (;;) {
          let out;
          try {
            out = await withDeadline((abortSignal) =>
              client.send(
                new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix || undefined, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
                { abortSignal },
              ),
            );
          } catch (err) {
            // A store without the call (s3rver) cannot list what it keeps of unfinished uploads, nor
            // abort them: there the bucket's lifecycle rule (AbortIncompleteMultipartUpload) is all there is.
            if (isNotImplemented(err)) return;
            throw storeError('ListMultipartUploads', err);
          }
          for (const u of out.Uploads ?? []) {
            if (u.Key === undefined || u.UploadId === undefined) continue;
            if ((u.Initiated ?? new Date(0)).getTime() > olderThan.getTime()) continue;
            // Initiated is when the upload began; a long one may still be sending parts. Its last part says.
            const lastModified = await withDeadline((signal) => lastWritten(u.Key!, u.UploadId!, u.Initiated ?? new Date(0), signal));
            if (!lastModified || lastModified.getTime() > olderThan.getTime()) continue;
            yield { id: uploadLeftoverId(u.Key, u.UploadId), kind: 'multipart-upload', key: u.Key, lastModified };
          }
          if (!out.IsTruncated || (out.NextKeyMarker === undefined && out.NextUploadIdMarker === undefined)) return;
          keyMarker = out.NextKeyMarker;
          uploadIdMarker = out.NextUploadIdMarker;
        }
      })();
    },

    async removeLeftovers(ids: string[]): Promise<DeleteResult> {
      const uploads = new Map(ids.map((id) => [id, parseUploadLeftoverId(id)] as const));
      const failed = new Map<string, string>();
      // As long as a deletion of as many keys may take: one deadline per 1000 ids.
      const deadline = operationTimeoutMs * Math.max(1, Math.ceil(uploads.size / DELETE_BATCH));
      await withDeadline((abortSignal) => pLimit(CONCURRENCY).map([...uploads], async ([id, { key, uploadId }]) => {
        try {
          try {
            await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }), { abortSignal });
          } catch (err) {
            if (!isNoSuchUpload(err)) throw err;
          }
          // S3 may keep parts still being uploaded when the abort arrived: only a ListParts that no
          // longer finds the upload shows that nothing of it is kept.
          try {
            await client.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MaxParts: 1 }), { abortSignal });
            failed.set(id, 'still present after abort');
          } catch (err) {
            if (!isNoSuchUpload(err)) throw err;
          }
        } catch (err) {
          failed.set(id, describe(err));
        }
      }), deadline);
      const unique = [...uploads.keys()];
      return {
        deleted: unique.filter((id) => !failed.has(id)),
        failed: unique.filter((id) => failed.has(id)).map((id) => ({ key: id, error: failed.get(id)! })),
      };
    },

    async ping(): Promise<void> {
      try {
        await withDeadline((abortSignal) => client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal }));
      } catch (err) {
        throw storeError('HeadBucket', err);
      }
    },
  };
}

function assertValidPrefix(prefix: string): void {
  if (prefix === '') return;
  try {
    assertValidKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  } catch {
    throw new InvalidKey(prefix);
  }
}

const UPLOAD_ID = '?uploadId=';

/** A multipart upload's leftover id: its key (which never holds "?") and its upload id. */
function uploadLeftoverId(key: string, uploadId: string): string {
  return `${key}${UPLOAD_ID}${encodeURIComponent(uploadId)}`;
}

function parseUploadLeftoverId(id: string): { key: string; uploadId: string } {
  const at = id.indexOf(UPLOAD_ID);
  if (at < 0) throw new InvalidKey(id);
  const key = id.slice(0, at);
  assertValidKey(key);
  let uploadId: string;
  try {
    uploadId = decodeURIComponent(id.slice(at + UPLOAD_ID.length));
  } catch {
    throw new InvalidKey(id);
  }
  if (!uploadId) throw new InvalidKey(id);
  return { key, uploadId };
}

/** S3 ignores a Range it cannot parse and sends the whole object, so bad ranges are refused here. */
function checkRange(range: ByteRange): void {
  const ok =
    Number.isSafeInteger(range.start) &&
    range.start >= 0 &&
    (range.end === undefined || (Number.isSafeInteger(range.end) && range.end >= range.start));
  if (!ok) {
    throw new RangeNotSatisfiable('range-not-satisfiable', `bytes=${range.start}-${range.end ?? ''} is not a valid range`);
  }
}

function isNoSuchUpload(err: unknown): boolean {
  return nameOf(err) === 'NoSuchUpload' || statusOf(err) === 404;
}

/**
 * Any failure of the store (refused, timed out, 5xx, and its own 403 or 404 of a bucket it will not
 * serve) is the store being unavailable to us: the client gets a neutral 503, never the store's
 * status or request id; the log gets the operation, name and status from the cause.
 */
function storeError(operation: string, err: unknown): Unavailable {
  const requestId = (err as { $metadata?: { requestId?: string } } | undefined)?.$metadata?.requestId;
  // Name and status only, as a code (the log shows codes, not messages): the SDK's message may carry request details.
  const cause = Object.assign(new Error('object store request failed'), { name: 'ObjectStoreError', code: `${operation}: ${describe(err)}${requestId ? ` request ${requestId}` : ''}` });
  return new Unavailable('storage-unavailable', 'The object store cannot be reached now; retry later', {}, { cause });
}
