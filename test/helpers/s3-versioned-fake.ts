import {
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  ListObjectsCommand,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';

/**
 * s3rver has no versioning. This puts a versioned bucket's answers in front of it at the SDK level:
 * GetBucketVersioning says Enabled; every object s3rver holds is its key's current version
 * (`current`), and older versions and delete markers are kept in a register here (seeded with
 * `addOlder`), listed by ListObjectVersions in key order and removed by a DeleteObjects that names
 * their VersionId. A DeleteObjects without a VersionId only adds a delete marker, as S3 does on a
 * versioned bucket, and hides nothing of the current object in s3rver: a deleter that does not remove
 * versions one by one is caught. Everything else goes to s3rver as it is.
 */
export function withVersioning(client: S3Client, bucket: string) {
  const older = new Map<string, Array<{ versionId: string; marker: boolean }>>();
  const send = client.send.bind(client) as (command: unknown, opts?: unknown) => Promise<unknown>;

  async function currentKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const out = (await send(new ListObjectsCommand({ Bucket: bucket, Prefix: prefix || undefined, Marker: marker }))) as { Contents?: { Key?: string }[]; IsTruncated?: boolean };
      const listed = (out.Contents ?? []).map((o) => o.Key!).filter(Boolean);
      keys.push(...listed);
      if (!out.IsTruncated || !listed.length) return keys;
      marker = listed[listed.length - 1];
    }
  }

  const fake = async (command: unknown, opts?: unknown): Promise<unknown> => {
    if (command instanceof GetBucketVersioningCommand) return { $metadata: { httpStatusCode: 200 }, Status: 'Enabled' };
    if (command instanceof ListObjectVersionsCommand) {
      const prefix = command.input.Prefix ?? '';
      const current = new Set(await currentKeys(prefix));
      const keys = [...new Set([...current, ...[...older.keys()].filter((k) => k.startsWith(prefix))])].sort();
      const out: ListObjectVersionsCommandOutput = { $metadata: { httpStatusCode: 200 }, Versions: [], DeleteMarkers: [], IsTruncated: false };
      for (const key of keys) {
        if (current.has(key)) out.Versions!.push({ Key: key, VersionId: 'current', IsLatest: true });
        for (const v of older.get(key) ?? []) (v.marker ? out.DeleteMarkers! : out.Versions!).push({ Key: key, VersionId: v.versionId, IsLatest: false });
      }
      return out;
    }
    if (command instanceof DeleteObjectsCommand) {
      const objects = command.input.Delete?.Objects ?? [];
      const toS3rver = [];
      for (const o of objects) {
        if (o.VersionId === undefined) {
          older.set(o.Key!, [{ versionId: `marker-${(older.get(o.Key!)?.length ?? 0) + 1}`, marker: true }, ...(older.get(o.Key!) ?? [])]);
        } else if (o.VersionId === 'current') toS3rver.push({ Key: o.Key! });
        else {
          const left = (older.get(o.Key!) ?? []).filter((v) => v.versionId !== o.VersionId);
          if (left.length) older.set(o.Key!, left);
          else older.delete(o.Key!);
        }
      }
      if (toS3rver.length) await send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: toS3rver, Quiet: true } }), opts);
      return { $metadata: { httpStatusCode: 200 }, Errors: [] };
    }
    return send(command, opts);
  };
  (client as unknown as { send: typeof fake }).send = fake;

  return {
    /** Older versions (and delete markers: ids starting with "marker") of `key`, kept besides s3rver's current object. */
    addOlder(key: string, ...versionIds: string[]): void {
      older.set(key, [...(older.get(key) ?? []), ...versionIds.map((versionId) => ({ versionId, marker: versionId.startsWith('marker') }))]);
    },
    /** Keys that still have an older version or a delete marker. */
    keysWithOlderVersions(): string[] {
      return [...older.keys()];
    },
  };
}
