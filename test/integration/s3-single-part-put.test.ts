import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import { createS3Client, createS3ObjectStore } from '../../src/storage/index.js';
import { s3ConfigFor, startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { fixture } from '../helpers/webhook.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function readAll(body: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The audio in many small chunks, as busboy hands it on. */
function chunked(audio: Buffer, size = 16 * 1024): Readable {
  return Readable.from(Array.from({ length: Math.ceil(audio.length / size) }, (_, i) => audio.subarray(i * size, (i + 1) * size)));
}

describe('S3 adapter: a recording that fits in one part, sent from the chunks already read', function () {
  this.timeout(60_000);
  let s3: S3TestServer;
  before(async () => {
    s3 = await startS3Server();
  });
  after(async () => s3.close());

  for (const requestChecksum of ['when_required', 'when_supported'] as const) {
    it(`stores the bytes as they were read, with its SHA-256 as payload hash and checksum (requestChecksum ${requestChecksum})`, async () => {
      const client = createS3Client({ ...s3ConfigFor(s3), requestChecksum });
      const sent: Record<string, string>[] = [];
      client.middlewareStack.add(
        (next) => async (args) => {
          const r = args.request as { method: string; headers: Record<string, string> };
          if (r.method === 'PUT') sent.push({ ...r.headers });
          return next(args);
        },
        { step: 'finalizeRequest', priority: 'low', name: 'recordPuts' },
      );
      const store = createS3ObjectStore({ client, bucket: s3.bucket, sse: 'none' });
      const audio = fixture('call-pcm16-8k.wav');
      const key = `recordings/single/${randomUUID()}`;
      expect(await store.put(key, chunked(audio), { contentType: 'audio/wav', sha256: () => sha(audio) })).to.deep.equal({ bytes: audio.length });

      expect(sent).to.have.length(1);
      expect(sent[0]).to.include({ 'x-amz-content-sha256': sha(audio), 'x-amz-checksum-sha256': Buffer.from(sha(audio), 'hex').toString('base64') });
      expect(sent[0]!['content-length']).to.equal(String(audio.length));
      expect(sent[0], 'no aws-chunked framing').to.not.have.property('content-encoding');
      expect(sha(await readAll((await store.get(key)).body))).to.equal(sha(audio));
      client.destroy();
    });
  }

  it('sends every byte again when the store fails the first attempt part-way through the body', async () => {
    const client = createS3Client(s3ConfigFor(s3));
    let attempts = 0;
    client.middlewareStack.add(
      (next) => async (args) => {
        const r = args.request as { method: string; body: unknown };
        if (r.method === 'PUT' && ++attempts === 1) {
          // Take some of the body, as a connection reset mid-upload would, and fail retryably.
          const body = r.body as Readable;
          for await (const _ of body) break;
          throw Object.assign(new Error('connection reset'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
        }
        return next(args);
      },
      { step: 'deserialize', priority: 'low', name: 'failFirstPut' },
    );
    const store = createS3ObjectStore({ client, bucket: s3.bucket, sse: 'none' });
    const audio = fixture('call-alaw-8k.wav');
    const key = `recordings/retried/${randomUUID()}`;
    await store.put(key, chunked(audio, 4096), { contentType: 'audio/wav', sha256: () => sha(audio) });
    expect(attempts).to.equal(2);
    expect(sha(await readAll((await store.get(key)).body))).to.equal(sha(audio));
    client.destroy();
  });
});
