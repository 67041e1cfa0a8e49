import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';

/**
 * C2SP signed notes (c2sp.org/signed-note), checkpoints (c2sp.org/tlog-checkpoint) and cosignatures
 * (c2sp.org/tlog-cosignature), Ed25519 only. docs/receipts.md gives the formats for outside checkers.
 */

const ED25519 = 0x01;
const COSIGNATURE_V1 = 0x04;
const DASH = '\u2014';

export interface NoteSignature {
  name: string;
  /** 4 bytes. */
  keyId: Buffer;
  /** The signature bytes (for a cosignature: 8-byte big-endian timestamp, then the 64-byte signature). */
  signature: Buffer;
  /** The whole line, without its newline. */
  line: string;
}

export interface Note {
  /** The signed text: every line up to and including the newline before the blank line. */
  body: string;
  signatures: NoteSignature[];
}

/** 32 raw bytes of an Ed25519 public key. */
export function rawEd25519(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  if (publicKey.asymmetricKeyType !== 'ed25519' || !jwk.x) throw new TypeError('an Ed25519 public key is needed');
  return Buffer.from(jwk.x, 'base64url');
}

export function ed25519FromRaw(raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

/** The key ID: the first 4 bytes of SHA-256(name || 0x0A || type || public key). */
export function noteKeyId(name: string, raw: Buffer, type = ED25519): Buffer {
  return createHash('sha256').update(name, 'utf8').update(Buffer.from([0x0a, type])).update(raw).digest().subarray(0, 4);
}

/** A verifier key as Go's note package writes it: name+hex key id+base64(type || key). */
export function verifierKey(name: string, raw: Buffer, type = ED25519): string {
  return `${name}+${noteKeyId(name, raw, type).toString('hex')}+${Buffer.concat([Buffer.from([type]), raw]).toString('base64')}`;
}

export function parseVerifierKey(vkey: string): { name: string; keyId: Buffer; type: number; raw: Buffer } {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(vkey.trim());
  if (!m) throw new TypeError('a verifier key is name+keyid+base64 key');
  const bytes = Buffer.from(m[3]!, 'base64');
  const type = bytes[0]!;
  const raw = bytes.subarray(1);
  if ((type !== ED25519 && type !== COSIGNATURE_V1) || raw.length !== 32) throw new TypeError('an Ed25519 or cosignature/v1 verifier key is needed');
  if (!noteKeyId(m[1]!, raw, type).equals(Buffer.from(m[2]!, 'hex'))) throw new TypeError('the key id does not match the key');
  return { name: m[1]!, keyId: Buffer.from(m[2]!, 'hex'), type, raw };
}

export function signatureLine(name: string, keyId: Buffer, signature: Buffer): string {
  return `${DASH} ${name} ${Buffer.concat([keyId, signature]).toString('base64')}`;
}

/** A note: the body, a blank line, one signature line each. */
export function noteText(body: string, lines: string[]): string {
  return `${body}\n${lines.map((l) => l + '\n').join('')}`;
}

export function signNote(body: string, name: string, raw: Buffer, sign: (message: Buffer) => Buffer): string {
  if (!body.endsWith('\n')) throw new TypeError('a note body ends with a newline');
  return noteText(body, [signatureLine(name, noteKeyId(name, raw), sign(Buffer.from(body, 'utf8')))]);
}

/** Splits a note; undefined when it is not one (no blank line, a malformed signature line). */
export function parseNote(text: string): Note | undefined {
  const split = text.lastIndexOf('\n\n');
  if (split < 0 || !text.endsWith('\n')) return undefined;
  const body = text.slice(0, split + 1);
  const signatures: NoteSignature[] = [];
  for (const line of text.slice(split + 2, -1).split('\n')) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) return undefined;
    const bytes = Buffer.from(m[2]!, 'base64');
    if (bytes.length < 5) return undefined;
    signatures.push({ name: m[1]!, keyId: bytes.subarray(0, 4), signature: bytes.subarray(4), line });
  }
  return signatures.length ? { body, signatures } : undefined;
}

/** Does the note carry a valid Ed25519 signature by this key? */
export function noteSignedBy(note: Note, name: string, raw: Buffer): boolean {
  const id = noteKeyId(name, raw);
  const key = ed25519FromRaw(raw);
  return note.signatures.some((s) => s.name === name && s.keyId.equals(id) && s.signature.length === 64 && safeVerify(Buffer.from(note.body, 'utf8'), key, s.signature));
}

function safeVerify(message: Buffer, key: KeyObject, signature: Buffer): boolean {
  try {
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}

export interface CheckpointBody {
  origin: string;
  size: number;
  root: Buffer;
}

export function checkpointBody(c: CheckpointBody): string {
  return `${c.origin}\n${c.size}\n${c.root.toString('base64')}\n`;
}

export function parseCheckpointBody(body: string): CheckpointBody | undefined {
  const lines = body.split('\n');
  if (lines.length < 4 || lines.at(-1) !== '') return undefined;
  const [origin, size, root] = lines;
  if (!origin || !/^(0|[1-9][0-9]*)$/.test(size!) || !Number.isSafeInteger(Number(size))) return undefined;
  const rootBytes = Buffer.from(root!, 'base64');
  if (rootBytes.length !== 32 || rootBytes.toString('base64') !== root) return undefined;
  return { origin, size: Number(size), root: rootBytes };
}

/** The message a witness signs (c2sp.org/tlog-cosignature): header, time, then the checkpoint body. */
export function cosignatureMessage(body: string, time: number): Buffer {
  return Buffer.from(`cosignature/v1\ntime ${time}\n${body}`, 'utf8');
}

export function cosignatureLine(name: string, raw: Buffer, time: number, sign: (message: Buffer) => Buffer, body: string): string {
  const ts = Buffer.alloc(8);
  ts.writeBigUInt64BE(BigInt(time));
  return signatureLine(name, noteKeyId(name, raw, COSIGNATURE_V1), Buffer.concat([ts, sign(cosignatureMessage(body, time))]));
}

/** The time of a valid cosignature by this witness key over the body, or undefined. */
export function cosignatureValid(line: NoteSignature, body: string, name: string, raw: Buffer): number | undefined {
  if (line.name !== name || !line.keyId.equals(noteKeyId(name, raw, COSIGNATURE_V1)) || line.signature.length !== 72) return undefined;
  const time = Number(line.signature.readBigUInt64BE(0));
  return safeVerify(cosignatureMessage(body, time), ed25519FromRaw(raw), line.signature.subarray(8)) ? time : undefined;
}

export const KEY_TYPES = { ed25519: ED25519, cosignatureV1: COSIGNATURE_V1 } as const;
