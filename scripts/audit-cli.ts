import path from 'node:path';
import { createAuditCheckpoints, createAuditLog, type AuditCheckpoints } from '../src/audit-log/index.js';
import type { ResolvedConfig } from '../src/config.js';
import { systemClock } from '../src/shared/clock.js';
import type { Database } from '../src/shared/database.js';
import { createLogger } from '../src/shared/logger.js';
import { createFsObjectStore, createS3Client, createS3ObjectStore, type ObjectStore } from '../src/storage/index.js';

export function storeFor(config: ResolvedConfig): ObjectStore {
  if (config.storageDriver === 's3') {
    const s3 = config.s3!;
    return createS3ObjectStore({ client: createS3Client(s3), bucket: s3.bucket, sse: s3.sse, sseKmsKeyId: s3.sseKmsKeyId });
  }
  return createFsObjectStore({ root: path.join(config.dataDir, 'objects') });
}

/** The service's checkpoints on the configured database and store, as the audit CLIs use them. */
export function auditCheckpointsFor(config: ResolvedConfig, db: Database, logLevel = 'silent'): AuditCheckpoints {
  return createAuditCheckpoints({
    db,
    store: storeFor(config),
    clock: systemClock,
    logger: createLogger({ level: logLevel, stream: process.stderr }),
    audit: createAuditLog({ clock: systemClock }),
    signingKeyPem: config.auditSigningKey,
    keyListText: config.auditKeyList,
    objectRetentionMs: config.auditCheckpointRetentionMs,
  });
}
