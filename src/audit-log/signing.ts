import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical.js';

/** A chain head, signed. This is the JSON stored under audit-checkpoints/ and returned by the API. */
export interface SignedCheckpoint {
  seq: number;
  hash: string;
  at: string;
  /** base64 of the 64-byte Ed25519 signature over `checkpointMessage({seq, hash, at})`. */
  signature: string;
  /** SHA-256 (hex) of the signer's public key in DER SubjectPublicKeyInfo form. */
  keyId: string;
}

/** The exact bytes that are signed: canonical JSON of {at, hash, seq}, UTF-8. docs/audit-log.md. */
export function checkpointMessage(c: { seq: number; hash: string; at: string }): Buffer {
  return Buffer.from(canonicalJson({ seq: c.seq, hash: c.hash, at: c.at }), 'utf8');
}

export interface Signer {
  publicKey: KeyObject;
  publicKeyPem: string;
  keyId: string;
  sign(c: { seq: number; hash: string; at: string }): SignedCheckpoint;
  /** Ed25519 over raw bytes (signed notes). */
  signBytes(message: Buffer): Buffer;
}

/** Builds a signer from an Ed25519 private key in PEM (PKCS#8); refuses any other key type. */
export function createSigner(privateKeyPem: string): Signer {
  const privateKey = createPrivateKey(privateKeyPem);
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(`AUDIT_SIGNING_KEY must be an Ed25519 key, not ${privateKey.asymmetricKeyType}`);
  }
  const publicKey = createPublicKey(privateKey);
  const keyId = keyIdOf(publicKey);
  return {
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId,
    signBytes: (message) => sign(null, message, privateKey),
    sign: (c) => ({
      seq: c.seq,
      hash: c.hash,
      at: c.at,
      signature: sign(null, checkpointMessage(c), privateKey).toString('base64'),
      keyId,
    }),
  };
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

export function publicKeyFromPem(pem: string): KeyObject {
  return createPublicKey(pem);
}

export function checkpointSignatureValid(c: SignedCheckpoint, publicKey: KeyObject): boolean {
  try {
    return verify(null, checkpointMessage(c), publicKey, Buffer.from(c.signature, 'base64'));
  } catch {
    return false;
  }
}
