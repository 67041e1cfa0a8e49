/**
 * The floor for bench:ingest: the least any receiver of the webhook must do with a recording, and
 * nothing else. It parses the multipart body with busboy, computes the Standard Webhooks HMAC over
 * the raw body and the SHA-256 of the audio, and puts the audio to the store in one PutObject signed
 * with that SHA-256, as the service does. It has no Express, no database, no audit log, no content
 * sniffing, no idempotency, no clean-up on failure; it even holds each recording in memory. It is
 * not a service and is used by nothing but the benchmark, which runs it beside the service against
 * the same baseline: its ratio is a ceiling for the service's on the machine the bench runs on.
 *
 * Configured by the same environment as the service (S3_*, WEBHOOK_SECRETS); prints its port.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import busboy from 'busboy';

const env = process.env;
const client = new S3Client({
  region: env.S3_REGION,
  endpoint: env.S3_ENDPOINT,
  forcePathStyle: true,
  credentials: { accessKeyId: env.S3_ACCESS_KEY_ID!, secretAccessKey: env.S3_SECRET_ACCESS_KEY! },
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
const key = Buffer.from(env.WEBHOOK_SECRETS!.split(',')[0]!.slice('whsec_'.length), 'base64');

async function put(chunks: Buffer[], bytes: number, sha256: string): Promise<void> {
  const command = new PutObjectCommand({ Bucket: env.S3_BUCKET, Key: `floor/${randomUUID()}`, Body: Readable.from(chunks), ContentLength: bytes, ContentType: 'audio/wav' });
  command.middlewareStack.add(
    (next) => async (args) => {
      (args.request as { headers: Record<string, string> }).headers['x-amz-content-sha256'] = sha256;
      return next(args);
    },
    { step: 'build', name: 'payloadHash' },
  );
  await client.send(command);
}

const server = http.createServer((req, res) => {
  const mac = createHmac('sha256', key).update(`${req.headers['webhook-id']}.${req.headers['webhook-timestamp']}.`);
  const bb = busboy({ headers: req.headers });
  let stored: Promise<string> | undefined;
  bb.on('file', (_name, file) => {
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    let bytes = 0;
    file.on('data', (c: Buffer) => {
      hash.update(c);
      chunks.push(c);
      bytes += c.length;
    });
    stored = new Promise<void>((resolve) => file.on('end', resolve)).then(async () => {
      const sha256 = hash.digest('hex');
      await put(chunks, bytes, sha256);
      return sha256;
    });
  });
  req.on('data', (c: Buffer) => mac.update(c));
  bb.on('close', () => {
    const signed = String(req.headers['webhook-signature']).split(' ').includes(`v1,${mac.digest('base64')}`);
    (stored ?? Promise.reject(new Error('no audio'))).then(
      (sha256) => res.writeHead(signed ? 201 : 401, { 'content-type': 'application/json' }).end(JSON.stringify({ sha256 })),
      () => res.writeHead(500).end(),
    );
  });
  req.pipe(bb);
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ msg: 'floor is listening', port: (server.address() as AddressInfo).port })));
// Exit on SIGTERM (the bench's stop) so that --cpu-prof, when asked for, is written.
process.on('SIGTERM', () => process.exit(0));
