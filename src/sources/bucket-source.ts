import path from 'node:path';
import { createS3SourceBucket, ObjectNotFound, SourceBucketError, type SourceBucket } from '../storage/index.js';
import { SourceItemGone, SourceUnreachable, type SourceAdapter } from './ports.js';
import type { BucketSourceConfig } from './source-config.js';

/**
 * A platform's S3 bucket (Genesys Cloud's recording export, Amazon Connect's call recordings) under a
 * prefix. Paths are keys relative to the prefix. Removing a copy removes every version of it, verified
 * gone, with the store's own deletion. Errors carry the operation and the SDK's error name, never a key.
 */
export function createBucketSource(cfg: BucketSourceConfig, bucket?: SourceBucket): SourceAdapter & { attributesOf(p: string): Promise<Map<string, string>> } {
  const b =
    bucket ??
    createS3SourceBucket({
      bucket: cfg.bucket,
      region: cfg.region,
      endpoint: cfg.endpoint,
      forcePathStyle: cfg.forcePathStyle,
      credentials: cfg.credentials,
      requestChecksum: cfg.requestChecksum,
      pageSize: cfg.listPageSize,
    });
  const prefix = cfg.prefix;
  const keyOf = (rel: string): string => {
    const normal = path.posix.normalize(rel);
    if (normal.startsWith('..') || path.posix.isAbsolute(normal) || normal !== rel) throw new SourceItemGone('a path outside the source prefix');
    return prefix + rel;
  };

  async function run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ObjectNotFound) throw new SourceItemGone('the object is gone');
      if (err instanceof SourceBucketError) throw new SourceUnreachable('bucket-error', `the bucket refused or did not answer (${err.code})`);
      throw err;
    }
  }

  return {
    async list() {
      const objects = await run(() => b.list(prefix));
      return objects.map((o) => ({ path: o.key.slice(prefix.length), size: o.size, mtimeMs: o.lastModified.getTime() }));
    },
    read: (rel) => run(() => b.get(keyOf(rel))),
    readSmall: (rel, maxBytes) => run(() => b.getSmall(keyOf(rel), maxBytes)),
    attributesOf: (rel) => run(() => b.attributes(keyOf(rel))),
    async remove(rel) {
      const result = await b.deleteEveryVersion([keyOf(rel)]);
      if (result.failed.length) throw new SourceUnreachable('bucket-delete-failed', `a copy could not be deleted with all its versions (${result.failed[0]!.error})`);
    },
    async close() {
      b.close();
    },
  };
}
