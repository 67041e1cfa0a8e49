import { GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, ListObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { ObjectNotFound, type DeleteResult } from './object-store.js';
import { createS3Client } from './s3-object-store.js';
import { createS3VersionedDeletion, describe, isNotFound, isNotImplemented } from './s3-versions.js';

/** One object of a platform's bucket, as listed. */
export interface BucketObject {
  key: string;
  size: number;
  lastModified: Date;
}

/**
 * A bucket gallra reads recordings from and deletes them in (a contact centre's export bucket, in the
 * municipality's own cloud account): not gallra's store. Keys are the platform's, not gallra's, so
 * they are not held to the store's key pattern; they are never logged (they may hold a number).
 */
export interface SourceBucket {
  /** Every object under `prefix`, all pages. */
  list(prefix: string): Promise<BucketObject[]>;
  /** The object's bytes as a stream; ObjectNotFound when it is not there. */
  get(key: string): Promise<Readable>;
  /** A small object read whole; ObjectNotFound when it is not there. At most maxBytes + 1 bytes are returned. */
  getSmall(key: string, maxBytes: number): Promise<Buffer>;
  /** The object's user metadata (x-amz-meta-*) and tags, names lower-cased; tags win. ObjectNotFound when it is not there. */
  attributes(key: string): Promise<Map<string, string>>;
  /** Removes every version and delete marker of each key, then checks each is gone (the store's own deletion). */
  deleteEveryVersion(keys: string[]): Promise<DeleteResult>;
  close(): void;
}

/** The bucket could not be used: the operation and the SDK's error name and status, never its message or a key. */
export class SourceBucketError extends Error {
  constructor(readonly code: string) {
    super(`bucket request failed: ${code}`);
    this.name = 'SourceBucketError';
  }
}

export interface SourceBucketOptions {
  bucket: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  requestChecksum?: 'when_supported' | 'when_required';
  /** Keys per listing page (MaxKeys); default 1000. */
  pageSize?: number;
  /** The longest one request may wait, over the SDK's attempts; default 10 s. */
  operationTimeoutMs?: number;
  /** Whether the bucket keeps versions; asked once with GetBucketVersioning when omitted. */
  versioned?: boolean;
  /** A client made elsewhere (tests put a versioned fake behind one); otherwise one is made from the fields above. */
  client?: S3Client;
}

/** A platform's bucket through the S3 SDK, with its own endpoint, region and credentials. */
export function createS3SourceBucket(opts: SourceBucketOptions): SourceBucket {
  const client =
    opts.client ??
    createS3Client({
      bucket: opts.bucket,
      region: opts.region,
      endpoint: opts.endpoint,
      forcePathStyle: opts.forcePathStyle,
      sse: 'none',
      sseKmsKeyId: undefined,
      credentials: opts.credentials,
      requestChecksum: opts.requestChecksum ?? 'when_supported',
      // The store's defaults (config.ts): connect within 3 s, a request within 10 s.
      connectTimeoutMs: 3_000,
      requestTimeoutMs: 10_000,
      operationTimeoutMs: opts.operationTimeoutMs ?? 10_000,
    });
  const bucket = opts.bucket;
  const timeoutMs = opts.operationTimeoutMs ?? 10_000;
  const deletion = createS3VersionedDeletion({ client, bucket, versioned: opts.versioned, verifyBy: 'head' });

  async function withDeadline<T>(operation: string, fn: (abortSignal: AbortSignal) => Promise<T>, ms = timeoutMs): Promise<T> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), ms);
    try {
      return await fn(controller.signal);
    } catch (err) {
      if (err instanceof ObjectNotFound || err instanceof SourceBucketError) throw err;
      throw new SourceBucketError(`${operation}: ${describe(err)}`);
    } finally {
      clearTimeout(timer);
    }
  }

  async function open(key: string, abortSignal: AbortSignal): Promise<{ body: Readable; size: number }> {
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal });
      if (!(out.Body instanceof Readable)) throw new SourceBucketError('GetObject: no stream');
      return { body: out.Body, size: out.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFound('(source object)');
      throw err;
    }
  }

  return {
    async list(prefix) {
      const out: BucketObject[] = [];
      // ListObjects (v1) paged by Marker, the last key listed, as the store lists its own bucket:
      // ListObjectsV2's opaque continuation tokens are beyond some S3-compatible stores (s3rver answers
      // 500 to every truncated V2 listing, StartAfter or not: its tokens are DES-encrypted, which
      // Node ≥ 17 no longer offers). On S3 both page the same keys in the same order.
      let marker: string | undefined;
      for (;;) {
        const page = await withDeadline('ListObjects', (abortSignal) =>
          client.send(new ListObjectsCommand({ Bucket: bucket, Prefix: prefix || undefined, MaxKeys: opts.pageSize ?? 1000, Marker: marker }), { abortSignal }),
        );
        const listed = page.Contents ?? [];
        for (const o of listed) if (o.Key !== undefined && !o.Key.endsWith('/')) out.push({ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) });
        const last = listed[listed.length - 1]?.Key;
        if (!page.IsTruncated || last === undefined) return out;
        marker = last;
      }
    },

    async get(key) {
      // The deadline is for the answer; the body streams for as long as the ingest takes.
      return (await withDeadline('GetObject', (signal) => open(key, signal))).body;
    },

    async getSmall(key, maxBytes) {
      return withDeadline('GetObject', async (signal) => {
        const { body } = await open(key, signal);
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const c of body) {
          chunks.push(c as Buffer);
          size += (c as Buffer).length;
          if (size > maxBytes) {
            body.destroy();
            break;
          }
        }
        return Buffer.concat(chunks).subarray(0, maxBytes + 1);
      });
    },

    async attributes(key) {
      return withDeadline('HeadObject', async (abortSignal) => {
        const found = new Map<string, string>();
        try {
          const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal });
          for (const [k, v] of Object.entries(head.Metadata ?? {})) found.set(k.toLowerCase(), v);
        } catch (err) {
          if (isNotFound(err)) throw new ObjectNotFound('(source object)');
          throw err;
        }
        try {
          const tags = await client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }), { abortSignal });
          for (const t of tags.TagSet ?? []) if (t.Key !== undefined && t.Value !== undefined) found.set(t.Key.toLowerCase(), t.Value);
        } catch (err) {
          // A store without tagging has none to give; the user metadata is all there is.
          if (!isNotImplemented(err)) throw err;
        }
        return found;
      });
    },

    async deleteEveryVersion(keys) {
      const unique = [...new Set(keys)];
      try {
        return await withDeadline('DeleteObjects', (signal) => deletion.deleteAndVerify(unique, signal));
      } catch (err) {
        // The deadline passed (or versioning could not be asked): none is known to be gone.
        const code = err instanceof SourceBucketError ? err.code : 'DeleteObjects: error';
        return { deleted: [], failed: unique.map((key) => ({ key, error: code })) };
      }
    },

    close() {
      if (!opts.client) client.destroy();
    },
  };
}
