// Gives an Amazon Connect call recording its caller, for gallra's bucket source (preset amazon-connect):
// Connect writes no caller number into the recording object. The contact flow stores the customer's
// number in a user-defined contact attribute `caller` (Set contact attributes → System → Customer
// number); this function, run by the bucket's ObjectCreated event on the CallRecordings/ prefix, reads
// that attribute and writes it as the object's tag `caller`, which gallra reads and turns into a
// caller key at once. Node.js 20 or later runtime (its AWS SDK v3). Environment: CONNECT_INSTANCE_ID.
// Permissions: connect:GetContactAttributes on the instance, s3:PutObjectTagging and
// s3:GetObjectTagging on the bucket. The number is never logged.

/** `…/CallRecordings/yyyy/mm/dd/<contactId>_<yyyyMMdd>T<HH:mm>_UTC.wav` → the contact id. */
export function contactIdOf(key) {
  const name = key.split('/').pop() ?? '';
  return /^([0-9a-fA-F-]{36})_\d{8}T\d{2}:\d{2}(?::\d{2})?_UTC\.wav$/i.exec(name)?.[1] ?? null;
}

/**
 * Tags one recording. `getAttributes(contactId)` answers the contact's user-defined attributes;
 * `getTags(bucket, key)` and `putTags(bucket, key, tags)` read and replace the object's tags
 * (passed in so that the logic runs without AWS).
 */
export async function tagRecording({ bucket, key: eventKey }, { getAttributes, getTags, putTags }) {
  // S3 events give the key URL-encoded, spaces as '+'.
  const key = decodeURIComponent(eventKey.replace(/\+/g, ' '));
  const contactId = contactIdOf(key);
  if (!contactId) return 'not-a-recording';
  const attributes = await getAttributes(contactId);
  const caller = attributes?.caller;
  if (!caller) return 'no-caller-attribute';
  const tags = (await getTags(bucket, key)).filter((t) => t.Key !== 'caller');
  await putTags(bucket, key, [...tags, { Key: 'caller', Value: caller }]);
  return 'tagged';
}

export async function handler(event) {
  const { ConnectClient, GetContactAttributesCommand } = await import('@aws-sdk/client-connect');
  const { S3Client, GetObjectTaggingCommand, PutObjectTaggingCommand } = await import('@aws-sdk/client-s3');
  const connect = new ConnectClient({});
  const s3 = new S3Client({});
  const deps = {
    getAttributes: async (contactId) =>
      (await connect.send(new GetContactAttributesCommand({ InstanceId: process.env.CONNECT_INSTANCE_ID, InitialContactId: contactId }))).Attributes,
    getTags: async (Bucket, Key) => (await s3.send(new GetObjectTaggingCommand({ Bucket, Key }))).TagSet ?? [],
    putTags: (Bucket, Key, TagSet) => s3.send(new PutObjectTaggingCommand({ Bucket, Key, Tagging: { TagSet } })),
  };
  const outcomes = [];
  for (const r of event.Records ?? []) outcomes.push(await tagRecording({ bucket: r.s3.bucket.name, key: r.s3.object.key }, deps));
  return { outcomes };
}
