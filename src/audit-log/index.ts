export { createAuditLog, type AuditLog, type AuditInput, type Actor } from './append.js';
export { canonicalJson, canonicalEntry, hashEntry, GENESIS_HASH, type AuditEntry } from './canonical.js';
export { verifyChain, type ChainVerdict, type ChainProblem } from './verify-chain.js';
export { readAll as readAuditEntries, head as auditHead } from './audit-repository.js';
