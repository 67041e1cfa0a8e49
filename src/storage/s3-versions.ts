import {
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectVersionsCommand,
  type ObjectIdentifier,
  type S3Client,
} from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import type { DeleteResult } from './object-store.js';

/** DeleteObjects takes at most 1000 keys per request. */
export const DELETE_BATCH = 1000;
/** Parallel HeadObject/ListObjectVersions calls while deleting and verifying. */
export const CONCURRENCY = 16;
/** Keys asked for by the first listing page that verifies a deleted range. */
const VERIFY_FIRST_PAGE = 8;

/**
 * Deletion of every version of S3 keys, verified gone: the one implementation used by the store for
 * gallra's own bucket and by a bucket source for the platform's (a contact centre's export bucket).
 * Keys are not checked here: each caller checks its own keys first.
 */
export function createS3VersionedDeletion(opts: {
  client: S3Client;
  bucket: string;
  versioned?: boolean;
  /**
   * How an unversioned bucket's deletions are checked: `listing` (the default) lists each folder's
   * range once, cheap for the store's batches of many keys; `head` asks for each key, cheap for a
   * source's one or two keys in a folder of their own.
   */
  verifyBy?: 'listing' | 'head';
}) {
  const { client, bucket } = opts;
  let versioned: boolean | undefined = opts.versioned;

  async function isVersioned(abortSignal: AbortSignal): Promise<boolean> {
    if (versioned !== undefined) return versioned;
    try {
      const out = await client.send(new GetBucketVersioningCommand({ Bucket: bucket }), { abortSignal });
      // A suspended bucket still holds the versions written while it was enabled.
      versioned = out.Status === 'Enabled' || out.Status === 'Suspended';
      return versioned;
    } catch (err) {
      if (isNotImplemented(err)) {
        versioned = false;
        return false;
      }
      // Unknown this time (and not cached): the version-aware path is correct on either kind of bucket.
      return true;
    }
  }

  /** Every version and delete marker of exactly `key`. */

  async function versionsOf(key: string, abortSignal: AbortSignal): Promise<ObjectIdentifier[]> {
    const found: ObjectIdentifier[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      const out = await client.send(
        new ListObjectVersionsCommand({
          Bucket: bucket,
          Prefix: key,
          KeyMarker: keyMarker,
          VersionIdMarker: versionIdMarker,
        }),
        { abortSignal },
      );
      for (const v of [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])]) {
        if (v.Key === key) found.push({ Key: key, VersionId: v.VersionId });
      }
      if (!out.IsTruncated) return found;
      keyMarker = out.NextKeyMarker;
      versionIdMarker = out.NextVersionIdMarker;
      // Versions are listed in key order: once past `key` nothing more can match.
      if (keyMarker === undefined || keyMarker > key) return found;
    }
  }


  async function headMissing(key: string, abortSignal: AbortSignal): Promise<boolean> {
    try {
      await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal });
      return false;
    } catch (err) {
      if (isNotFound(err)) return true;
      throw err;
    }
  }

  /**
   * Which of `keys` are still present, from listings rather than a HEAD per key. The keys are sorted
   * and grouped by folder (recordings/yyyy/mm/dd/), and each group's key range is listed from just
   * before its first key until past its last: a listing is sorted, so any key of the group still there
   * shows up before the listing passes the group's last key. Keys sort by upload time within a folder
   * and the retention job deletes in deadline order, so a batch is mostly one contiguous range and
   * its check one short listing per folder. S3 listings are strongly consistent after a delete.
   *
   * ListObjects (v1) pages with a marker, which is a key; ListObjectsV2's continuation tokens are opaque
   * and some S3-compatible stores cannot make them (s3rver on Node ≥ 17 answers 500 to a truncated V2
   * listing, its token being DES-encrypted).
   */

  async function stillPresent(keys: string[], abortSignal: AbortSignal): Promise<{ present: Set<string>; errors: Map<string, string> }> {
    const present = new Set<string>();
    const errors = new Map<string, string>();
    const byFolder = new Map<string, string[]>();
    for (const key of [...keys].sort()) {
      const folder = key.slice(0, key.lastIndexOf('/') + 1);
      const group = byFolder.get(folder);
      if (group) group.push(key);
      else byFolder.set(folder, [key]);
    }
    await pLimit(CONCURRENCY).map([...byFolder], async ([folder, group]) => {
      const wanted = new Set(group);
      const last = group[group.length - 1]!;
      // The first key without its last character sorts just before it: the listing starts at the group.
      let marker = group[0]!.slice(0, -1);
      // A first page of a few keys: after a clean delete, the key that follows the range is all there is to see.
      let maxKeys = VERIFY_FIRST_PAGE;
      try {
        for (;;) {
          const out = await client.send(new ListObjectsCommand({ Bucket: bucket, Prefix: folder, Marker: marker, MaxKeys: maxKeys }), { abortSignal });
          const listed = out.Contents ?? [];
          for (const o of listed) if (o.Key !== undefined && wanted.has(o.Key)) present.add(o.Key);
          const lastListed = listed[listed.length - 1]?.Key;
          if (!out.IsTruncated || lastListed === undefined || lastListed >= last) break;
          marker = lastListed;
          maxKeys = 1000;
        }
      } catch (err) {
        for (const key of group) errors.set(key, describe(err));
      }
    });
    return { present, errors };
  }

  /** When a multipart upload last received a part (else when it began); undefined once it is gone (completed or aborted). */

  async function deleteBatches(objects: ObjectIdentifier[], abortSignal: AbortSignal): Promise<Map<string, string>> {
    const failed = new Map<string, string>();
    for (let i = 0; i < objects.length; i += DELETE_BATCH) {
      const batch = objects.slice(i, i + DELETE_BATCH);
      try {
        const out = await client.send(
          new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch, Quiet: true } }),
          { abortSignal },
        );
        for (const e of out.Errors ?? []) {
          if (e.Key === undefined || e.Code === 'NoSuchKey' || e.Code === 'NoSuchVersion') continue;
          if (!failed.has(e.Key)) failed.set(e.Key, `${e.Code ?? 'Error'}: ${e.Message ?? 'delete refused'}`);
        }
      } catch (err) {
        for (const o of batch) if (o.Key !== undefined && !failed.has(o.Key)) failed.set(o.Key, describe(err));
      }
    }
    return failed;
  }

  /** Deletes every version of each key, then checks that each is gone; per-key failures, never a throw. */

  async function deleteAndVerify(unique: string[], signal: AbortSignal): Promise<DeleteResult> {
    const failed = new Map<string, string>();
    const onVersioned = await isVersioned(signal);

    let targets: ObjectIdentifier[];
    if (onVersioned) {
      const listed = await pLimit(CONCURRENCY).map(unique, async (key) => {
        try {
          return await versionsOf(key, signal);
        } catch (err) {
          failed.set(key, describe(err));
          return [];
        }
      });
      targets = listed.flat();
    } else {
      targets = unique.map((key) => ({ Key: key }));
    }
    for (const [key, error] of await deleteBatches(targets, signal)) if (!failed.has(key)) failed.set(key, error);

    // Trust nothing the delete call said: a key counts as deleted only when it is verifiably gone.
    const toVerify = unique.filter((key) => !failed.has(key));
    if (onVersioned) {
      await pLimit(CONCURRENCY).map(toVerify, async (key) => {
        try {
          if (!(await headMissing(key, signal))) failed.set(key, 'still present after delete');
          else if ((await versionsOf(key, signal)).length > 0) failed.set(key, 'versions left after delete');
        } catch (err) {
          failed.set(key, describe(err));
        }
      });
    } else if (opts.verifyBy === 'head') {
      await pLimit(CONCURRENCY).map(toVerify, async (key) => {
        try {
          if (!(await headMissing(key, signal))) failed.set(key, 'still present after delete');
        } catch (err) {
          failed.set(key, describe(err));
        }
      });
    } else {
      const { present, errors } = await stillPresent(toVerify, signal);
      for (const key of present) failed.set(key, 'still present after delete');
      for (const [key, error] of errors) failed.set(key, error);
    }
    return {
      deleted: unique.filter((key) => !failed.has(key)),
      failed: unique.filter((key) => failed.has(key)).map((key) => ({ key, error: failed.get(key)! })),
    };
  }


  return { isVersioned, versionsOf, headMissing, deleteAndVerify };
}

export function nameOf(err: unknown): string | undefined {
  return (err as { name?: unknown } | undefined)?.name as string | undefined;
}

export function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

export function isNotFound(err: unknown): boolean {
  const name = nameOf(err);
  if (name === 'NoSuchBucket') return false;
  return name === 'NoSuchKey' || name === 'NotFound' || statusOf(err) === 404;
}
export function isNotImplemented(err: unknown): boolean {
  const status = statusOf(err);
  const name = nameOf(err);
  return name === 'NotImplemented' || name === 'MethodNotAllowed' || status === 501 || status === 405;
}

/** Name and status only: SDK messages and error fields can carry request details (e.g. StringToSign). */
export function describe(err: unknown): string {
  const status = statusOf(err);
  return `${nameOf(err) ?? 'Error'}${status ? ` (HTTP ${status})` : ''}`;
}

