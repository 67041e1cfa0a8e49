import { DeleteObjectsCommand, ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';

/**
 * On a versioned bucket, removes every version of `key` but the current one (and any delete marker):
 * after an object was replaced in place (storage:encrypt), the old plaintext versions must not stay.
 * A bucket without versioning has none, and nothing happens.
 */
export async function deleteOlderVersions(client: S3Client, bucket: string, key: string): Promise<number> {
  let removed = 0;
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  for (;;) {
    const listed = await client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key, KeyMarker, VersionIdMarker }));
    const older = [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])].filter((v) => v.Key === key && !v.IsLatest && v.VersionId && v.VersionId !== 'null');
    if (older.length) {
      const r = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: older.map((v) => ({ Key: key, VersionId: v.VersionId })), Quiet: true } }));
      if (r.Errors?.length) throw new Error(`could not delete older versions of ${key}: ${r.Errors.map((e) => e.Code).join(', ')}`);
      removed += older.length;
    }
    if (!listed.IsTruncated) return removed;
    KeyMarker = listed.NextKeyMarker;
    VersionIdMarker = listed.NextVersionIdMarker;
  }
}
