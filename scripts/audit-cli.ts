import { createAuditCheckpoints, createAuditLog, createAuditRepository, type AuditCheckpoints } from '../src/audit-log/index.js';
import type { ResolvedConfig } from '../src/config.js';
import { systemClock } from '../src/shared/clock.js';
import { transactor, type Database } from '../src/shared/database.js';
import { createLogger } from '../src/shared/logger.js';
import { createStore } from '../src/storage/index.js';

/** The service's checkpoints on the configured database and store, as the audit CLIs use them. */
export function auditCheckpointsFor(config: ResolvedConfig, db: Database, logLevel = 'silent'): AuditCheckpoints {
  const entries = createAuditRepository(db);
  return createAuditCheckpoints({
    entries,
    transaction: transactor(db),
    store: createStore(config),
    clock: systemClock,
    logger: createLogger({ level: logLevel, stream: process.stderr }),
    audit: createAuditLog({ clock: systemClock, entries }),
    signingKeyPem: config.auditSigningKey,
    keyListText: config.auditKeyList,
    objectRetentionMs: config.auditCheckpointRetentionMs,
  });
}
