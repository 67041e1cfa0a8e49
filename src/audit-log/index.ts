export { createAuditLog, type AuditLog, type AuditInput, type Actor } from './append.js';
export { canonicalJson, canonicalEntry, hashEntry, hashStoredEntry, GENESIS_HASH, type AuditEntry, type StoredAuditEntry } from './canonical.js';
export { verifyChain, type ChainVerdict, type ChainProblem } from './verify-chain.js';
export { createAuditRepository, readAll as readAuditEntries, head as auditHead, fromRow as auditEntryFromRow, type AuditRepository } from './audit-repository.js';
export { verifyAuditLog, verifyAuditPages, type AuditVerdict, type AuditProblem, type AuditProblemKind } from './verify-log.js';
export {
  createSigner, checkpointMessage, checkpointSignatureValid, keyIdOf, publicKeyFromPem, type SignedCheckpoint, type Signer,
} from './signing.js';
export { createAuditCheckpoints, checkpointObjectKey, CHECKPOINTS_PREFIX, type AuditCheckpoints } from './checkpoints.js';
export { createAuditReader, ndjsonLine, csvLine, parseNdjsonLine, CSV_HEADER, type AuditReader, type ExportFormat } from './export.js';
