import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type S3Config } from '../../src/config.js';

/** The part of s3rver's API used here (the package ships no types). */
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
}) => S3rverInstance;

const require = createRequire(import.meta.url);

export interface S3TestServer {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  bucket: string;
  /** s3rver's storage directory, removed by close(). */
  dir: string;
  close(): Promise<void>;
}

/** Starts s3rver on 127.0.0.1, a free port and a temp directory, with one empty bucket. */
export async function startS3Server(): Promise<S3TestServer> {
  const S3rver = require('s3rver') as S3rverConstructor;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gallra-s3rver-'));
  const bucket = 'gallra-test';
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: bucket }],
  });
  let address: AddressInfo;
  try {
    address = await server.run();
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    bucket,
    dir,
    async close() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An S3Config for the test server: path-style, s3rver's fixed credentials, checksums only when required. */
export function s3ConfigFor(server: Pick<S3TestServer, 'endpoint' | 'bucket'>): S3Config {
  return {
    ...loadConfig({ S3_BUCKET: server.bucket }).s3!,
    bucket: server.bucket,
    endpoint: server.endpoint,
    region: 'eu-north-1',
    forcePathStyle: true,
    sse: 'none',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksum: 'when_required',
  };
}
