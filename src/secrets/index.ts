export { createSecretFingerprints, secretFingerprint, SecretMismatch, type SecretFingerprints, type SharedSecrets } from './secret-fingerprints.js';
export { createSecretFingerprintRepository, type SecretFingerprintRepository } from './secret-fingerprint-repository.js';
