export { createAuditLog, type AuditLog, type AuditInput, type Actor } from './append.js';
export { canonicalJson, canonicalEntry, hashEntry, hashStoredEntry, GENESIS_HASH, type AuditEntry, type StoredAuditEntry } from './canonical.js';
export { verifyChain, type ChainVerdict, type ChainProblem } from './verify-chain.js';
export type { AuditRepository, EntryFilter, CheckpointRecord } from './ports.js';
export { createAuditRepository } from './audit-repository.js';
export {
  verifyAuditLog, verifyAuditPages, checkCheckpoints, verificationKeys,
  type AuditVerdict, type AuditProblem, type AuditProblemKind, type CheckpointCopy, type MalformedEntry, type MalformedCheckpoint, type VerificationKey, type VerifyOptions,
} from './verify-log.js';
export { parseExportLine, parseExportLine as parseNdjsonLine, parseCheckpointFile, parseKeyFile, type PublishedKey } from './evidence-format.js';
export { parseStrictJson, StrictJsonError, type StrictJsonReason } from './strict-json.js';
export { createAuditMetrics, auditChainReadinessCheck } from './audit-metrics.js';
export {
  createSigner, checkpointMessage, checkpointSignatureValid, keyIdOf, publicKeyFromPem, type SignedCheckpoint, type Signer,
} from './signing.js';
export { createAuditCheckpoints, checkpointObjectKey, checkpointObjectBody, CHECKPOINTS_PREFIX, type AuditCheckpoints, type ChainState } from './checkpoints.js';
export { createAuditReader, ndjsonLine, csvLine, CSV_HEADER, type AuditReader, type ExportFormat } from './export.js';
export { createAuditTree, type AuditTree, type InclusionProof, type ConsistencyProof } from './tree.js';
export {
  leafHash, nodeHash, leafData, verifyInclusion, verifyConsistency, EMPTY_ROOT, type PublicProjection,
} from './merkle.js';
export { createTreeHeads, treeHeadObjectKey, TREE_HEADS_PREFIX, type TreeHeads, type TreeHead, type TreeHeadStore, type StoredTreeHead } from './tree-heads.js';
export { createTreeHeadRepository } from './tree-head-repository.js';
export { createReceipts, tlogProofText, type Receipts, type Receipt } from './receipts.js';
export { TRANSPARENCY_DEFAULTS, type TransparencyConfig } from './transparency-config.js';
export * as signedNote from './signed-note.js';
