import path from 'node:path';
import type { Config } from '../config.js';
import { createFsObjectStore } from './fs-object-store.js';
import type { ObjectStore } from './object-store.js';
import { createS3Client, createS3ObjectStore } from './s3-object-store.js';

/** The ObjectStore the configuration names: the S3 bucket, or files under DATA_DIR/objects. */
export function createStore(config: Pick<Config, 'storageDriver' | 's3' | 'dataDir'>): ObjectStore {
  if (config.storageDriver === 's3') {
    const s3 = config.s3!;
    return createS3ObjectStore({
      client: createS3Client(s3),
      bucket: s3.bucket,
      sse: s3.sse,
      sseKmsKeyId: s3.sseKmsKeyId,
      operationTimeoutMs: s3.operationTimeoutMs,
    });
  }
  return createFsObjectStore({ root: storeRoot(config) });
}

/** Where the filesystem store keeps its objects. */
export function storeRoot(config: Pick<Config, 'dataDir'>): string {
  return path.join(config.dataDir, 'objects');
}
