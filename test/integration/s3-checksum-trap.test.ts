import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { createS3Client, createS3ObjectStore } from '../../src/storage/s3-object-store.js';
import { s3ConfigFor, startS3Server, type S3TestServer } from '../helpers/s3-server.js';

/**
 * Why S3_REQUEST_CHECKSUM=when_required exists. With the SDK default (WHEN_SUPPORTED) a streamed
 * PutObject body is sent with `Content-Encoding: aws-chunked` framing and a trailing CRC32. s3rver does
 * not decode that framing and stores it as part of the object: the upload succeeds and the bytes that
 * come back are not the bytes that were sent. Measured on @aws-sdk/client-s3 3.1173.0.
 *
 * The adapter itself goes through lib-storage's Upload, which (on this SDK version) buffers each part
 * into memory and sends it as a Buffer with a plain checksum header, so it round-trips either way; the
 * last test pins that, so an SDK upgrade that starts streaming parts shows up here first.
 */
describe('S3 checksum trap against s3rver', () => {
  let server: S3TestServer;
  const clients: S3Client[] = [];

  before(async () => {
    server = await startS3Server();
  });
  after(async () => {
    clients.forEach((c) => c.destroy());
    await server?.close();
  });

  function client(requestChecksum: 'when_supported' | 'when_required'): S3Client {
    const c = createS3Client({ ...s3ConfigFor(server), requestChecksum });
    clients.push(c);
    return c;
  }

  async function streamedPutThenGet(c: S3Client, data: Buffer): Promise<Buffer> {
    const key = `recordings/trap/${randomUUID()}`;
    await c.send(
      new PutObjectCommand({ Bucket: server.bucket, Key: key, Body: Readable.from([data]), ContentLength: data.length }),
    );
    const out = await c.send(new GetObjectCommand({ Bucket: server.bucket, Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  }

  it("stores aws-chunked framing inside the object with 'when_supported'", async () => {
    const data = randomBytes(100_000);
    const got = await streamedPutThenGet(client('when_supported'), data);

    expect(got.equals(data)).to.equal(false);
    expect(got.length).to.be.greaterThan(data.length);
    // The first chunk header: the chunk size in hex, then CRLF, then the payload.
    expect(got.subarray(0, 7).toString('latin1')).to.equal(`${data.length.toString(16)}\r\n`);
    expect(got.includes(data)).to.equal(true);
    expect(got.toString('latin1')).to.match(/x-amz-checksum-crc32:/);
  });

  it("returns exactly the bytes sent with 'when_required'", async () => {
    const data = randomBytes(100_000);
    const got = await streamedPutThenGet(client('when_required'), data);
    expect(got.equals(data)).to.equal(true);
  });

  for (const mode of ['when_required', 'when_supported'] as const) {
    it(`round-trips through the adapter's multipart upload with '${mode}'`, async () => {
      const store = createS3ObjectStore({ client: client(mode), bucket: server.bucket, sse: 'none', partSize: 5 * 1024 * 1024 });
      const data = randomBytes(11 * 1024 * 1024 + 123);
      const key = `recordings/trap/${randomUUID()}`;
      await store.put(key, Readable.from([data.subarray(0, 4 * 1024 * 1024), data.subarray(4 * 1024 * 1024)]), {
        contentType: 'audio/wav',
      });
      const hash = createHash('sha256');
      for await (const chunk of (await store.get(key)).body) hash.update(chunk as Buffer);
      expect(hash.digest('hex')).to.equal(createHash('sha256').update(data).digest('hex'));
    });
  }
});
