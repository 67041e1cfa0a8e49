export { createSecretFingerprints, secretFingerprint, SecretMismatch, type SecretFingerprints, type SharedSecrets } from './secret-fingerprints.js';
export type { SecretFingerprintRepository } from './ports.js';
export { createSecretFingerprintRepository } from './secret-fingerprint-repository.js';
