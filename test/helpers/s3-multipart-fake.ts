import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  NoSuchUpload,
  type ListMultipartUploadsCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';

interface Upload {
  key: string;
  uploadId: string;
  initiated: Date;
}

/**
 * s3rver starts, fills and completes multipart uploads but answers ListMultipartUploads with
 * NotImplemented and AbortMultipartUpload and ListParts with 405. This fake answers those three at the
 * SDK level the way S3 does (uploads in key then upload-id order, paged by MaxUploads with KeyMarker/UploadIdMarker;
 * NoSuchUpload, 404, for one that is gone) from a register of the uploads the client started through
 * s3rver; everything else goes to s3rver as it is.
 */
export function withMultipartListing(client: S3Client) {
  const uploads = new Map<string, Upload>();
  const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;

  const fake = async (command: unknown): Promise<unknown> => {
    if (command instanceof ListMultipartUploadsCommand) {
      const { Prefix = '', KeyMarker, UploadIdMarker, MaxUploads = 1000 } = command.input;
      const sorted = [...uploads.values()]
        .filter((u) => u.key.startsWith(Prefix))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.uploadId < b.uploadId ? -1 : a.uploadId > b.uploadId ? 1 : 0))
        .filter((u) => KeyMarker === undefined || u.key > KeyMarker || (u.key === KeyMarker && UploadIdMarker !== undefined && u.uploadId > UploadIdMarker));
      const page = sorted.slice(0, MaxUploads);
      const truncated = sorted.length > page.length;
      const last = page[page.length - 1];
      const out: ListMultipartUploadsCommandOutput = {
        $metadata: { httpStatusCode: 200 },
        Uploads: page.map((u) => ({ Key: u.key, UploadId: u.uploadId, Initiated: u.initiated })),
        IsTruncated: truncated,
        ...(truncated && last ? { NextKeyMarker: last.key, NextUploadIdMarker: last.uploadId } : {}),
      };
      return out;
    }
    if (command instanceof AbortMultipartUploadCommand) {
      const id = command.input.UploadId ?? '';
      if (!uploads.delete(id)) {
        throw new NoSuchUpload({ $metadata: { httpStatusCode: 404 }, message: 'The specified upload does not exist.' });
      }
      return { $metadata: { httpStatusCode: 204 } };
    }
    if (command instanceof ListPartsCommand) {
      if (!uploads.has(command.input.UploadId ?? '')) {
        throw new NoSuchUpload({ $metadata: { httpStatusCode: 404 }, message: 'The specified upload does not exist.' });
      }
      return { $metadata: { httpStatusCode: 200 }, Parts: [], IsTruncated: false };
    }
    const out = await send(command);
    if (command instanceof CreateMultipartUploadCommand) {
      const id = (out as { UploadId?: string }).UploadId;
      if (id) uploads.set(id, { key: command.input.Key!, uploadId: id, initiated: new Date() });
    }
    if (command instanceof CompleteMultipartUploadCommand) uploads.delete(command.input.UploadId ?? '');
    return out;
  };
  (client as unknown as { send: typeof fake }).send = fake;

  return {
    /** Starts a multipart upload of `key` on s3rver and leaves it unfinished, as a killed process would, dated `at`. */
    async abandon(key: string, bucket: string, at: Date): Promise<void> {
      const { UploadId } = (await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: 'audio/wav' })));
      uploads.get(UploadId!)!.initiated = at;
    },
    /** Uploads started and neither completed nor aborted. */
    open(): string[] {
      return [...uploads.values()].map((u) => u.key);
    },
  };
}
