import {
  GetBucketLifecycleConfigurationCommand,
  PutBucketLifecycleConfigurationCommand,
  type LifecycleRule,
  type S3Client,
} from '@aws-sdk/client-s3';

/** Rules this module owns; other rules already on the bucket are kept. */
export const LIFECYCLE_RULE_IDS = ['gallra-recordings-retention', 'gallra-recordings-delete-markers'] as const;

/**
 * The bucket's own safety net behind the retention job: should a deletion fail, S3 still removes a
 * recording a day after its retention ends.
 *
 * S3 counts noncurrent days from when a version became noncurrent, not from its creation, so
 * `NoncurrentDays` is 1 (the minimum): a version made noncurrent by the expiration at day N+1 is gone at
 * N+2 at the latest, where N+1 would keep it until 2N+2. The second rule then removes the delete markers
 * left with no versions behind them. Lifecycle actions run asynchronously, typically within a day.
 */
export function lifecycleRules(retentionDays: number): LifecycleRule[] {
  if (!Number.isInteger(retentionDays) || retentionDays < 1) {
    throw new RangeError(`retentionDays must be a positive integer, got ${retentionDays}`);
  }
  return [
    {
      ID: LIFECYCLE_RULE_IDS[0],
      Status: 'Enabled',
      Filter: { Prefix: 'recordings/' },
      Expiration: { Days: retentionDays + 1 },
      NoncurrentVersionExpiration: { NoncurrentDays: 1 },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
    },
    {
      ID: LIFECYCLE_RULE_IDS[1],
      Status: 'Enabled',
      Filter: { Prefix: 'recordings/' },
      Expiration: { ExpiredObjectDeleteMarker: true },
    },
  ];
}

/**
 * Puts `lifecycleRules(retentionDays)` on the bucket. PutBucketLifecycleConfiguration replaces the whole
 * configuration, so rules with other IDs are read first and sent again unchanged.
 */
export async function applyLifecycle(
  client: S3Client,
  bucket: string,
  retentionDays: number,
): Promise<{ applied: LifecycleRule[]; kept: LifecycleRule[] }> {
  const applied = lifecycleRules(retentionDays);
  let existing: LifecycleRule[] = [];
  try {
    const out = await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    existing = out.Rules ?? [];
  } catch (err) {
    if ((err as { name?: string }).name !== 'NoSuchLifecycleConfiguration') throw err;
  }
  const ours: readonly string[] = LIFECYCLE_RULE_IDS;
  const kept = existing.filter((r) => !ours.includes(r.ID ?? ''));
  await client.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: bucket,
      LifecycleConfiguration: { Rules: [...kept, ...applied] },
    }),
  );
  return { applied, kept };
}
