import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DecryptionFailed } from './segment-format.js';

/** nonce (12) ‖ AES-256-GCM(kek, nonce, aad, data key) (32) ‖ tag (16), as docs/encryption.md states. */
const aadOf = (keyId: string, kekId: string) => Buffer.from(`gallra-data-key:v1:${keyId}:${kekId}`, 'utf8');

export function wrapDataKey(kek: Buffer, kekId: string, keyId: string, dataKey: Buffer): Buffer {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', kek, nonce);
  c.setAAD(aadOf(keyId, kekId));
  const body = Buffer.concat([c.update(dataKey), c.final()]);
  return Buffer.concat([nonce, body, c.getAuthTag()]);
}

export function unwrapDataKey(kek: Buffer, kekId: string, keyId: string, wrapped: Buffer): Buffer {
  if (wrapped.length !== 60) throw new DecryptionFailed('a wrapped data key is 60 bytes', { keyId });
  const d = createDecipheriv('aes-256-gcm', kek, wrapped.subarray(0, 12));
  d.setAAD(aadOf(keyId, kekId));
  d.setAuthTag(wrapped.subarray(44));
  try {
    return Buffer.concat([d.update(wrapped.subarray(12, 44)), d.final()]);
  } catch {
    throw new DecryptionFailed(`the data key ${keyId} does not unwrap under ${kekId} (wrong or altered key)`, { keyId, kekId });
  }
}
