/**
 * Checks a gallra receipt (a C2SP tlog-proof file) offline, with nothing of gallra's own code: only
 * node:crypto and the formats docs/receipts.md gives. The Python verifier in that document does the
 * same; the tests hold both to the same receipts.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';

export interface ReceiptVerdict {
  ok: boolean;
  /** Why not, in one sentence, when ok is false. */
  reason?: string;
  projection?: { seq: number; at: string; action: string; subject: string | null; commitment: string };
  origin?: string;
  treeSize?: number;
  /** Names of witness keys whose cosignatures verified. */
  witnesses?: string[];
}

const sha256 = (...parts: (Buffer | string)[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const strictB64 = (s: string): Buffer | undefined => {
  if (!B64.test(s)) return undefined;
  const b = Buffer.from(s, 'base64');
  return b.toString('base64') === s ? b : undefined;
};

function rawKey(k: KeyObject): Buffer {
  return Buffer.from(k.export({ format: 'jwk' }).x!, 'base64url');
}

function safeVerify(message: Buffer, key: KeyObject, sig: Buffer): boolean {
  try {
    return verify(null, message, key, sig);
  } catch {
    return false;
  }
}

function rootFromInclusion(index: number, size: number, leaf: Buffer, proof: Buffer[]): Buffer | undefined {
  if (index >= size) return undefined;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = sha256(Buffer.from([1]), p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = sha256(Buffer.from([1]), r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : undefined;
}

/** A witness verifier key, name+keyid+base64(0x04 || key). */
function parseWitnessKey(vkey: string): { name: string; keyId: Buffer; raw: Buffer } | undefined {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+(\S+)$/.exec(vkey.trim());
  const bytes = m && strictB64(m[3]!);
  if (!m || !bytes || bytes.length !== 33 || bytes[0] !== 0x04) return undefined;
  const raw = bytes.subarray(1);
  const keyId = sha256(m[1]!, Buffer.from([0x0a, 0x04]), raw).subarray(0, 4);
  return keyId.toString('hex') === m[2] ? { name: m[1]!, keyId, raw } : undefined;
}

export function checkReceipt(text: string, publicKeyPem: string, opts: { witnessKeys?: string[] } = {}): ReceiptVerdict {
  const no = (reason: string): ReceiptVerdict => ({ ok: false, reason });
  if (text.trimStart().startsWith('{')) {
    try {
      text = String((JSON.parse(text) as { tlogProof?: unknown }).tlogProof ?? '');
    } catch {
      return no('the file is neither a tlog-proof nor a JSON receipt');
    }
  }
  let key: KeyObject;
  try {
    key = createPublicKey(publicKeyPem);
    if (key.asymmetricKeyType !== 'ed25519') return no('the public key is not an Ed25519 key');
  } catch {
    return no('the public key is not a PEM public key');
  }
  const lines = text.split('\n');
  if (lines[0] !== 'c2sp.org/tlog-proof@v1') return no('the first line is not c2sp.org/tlog-proof@v1');
  const extra = lines[1]?.startsWith('extra ') ? strictB64(lines[1].slice(6)) : undefined;
  if (!extra) return no('the extra line (the leaf data) is missing or not base64');
  const indexText = lines[2]?.startsWith('index ') ? lines[2].slice(6) : '';
  if (!/^(0|[1-9][0-9]*)$/.test(indexText) || !Number.isSafeInteger(Number(indexText))) return no('the index line is missing or not a number');
  const index = Number(indexText);
  const hashes: Buffer[] = [];
  let i = 3;
  for (; i < lines.length && lines[i] !== ''; i++) {
    const h = strictB64(lines[i]!);
    if (!h || h.length !== 32) return no(`proof line ${i + 1} is not a base64 SHA-256 hash`);
    hashes.push(h);
  }
  if (i >= lines.length) return no('the blank line before the checkpoint is missing');
  const note = lines.slice(i + 1).join('\n');
  const split = note.indexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) return no('the checkpoint is not a signed note');
  const body = note.slice(0, split + 1);
  const sigLines = note.slice(split + 2, -1).split('\n');
  const [origin, sizeText, rootText, ...rest] = body.split('\n');
  if (rest.length !== 1 || rest[0] !== '' || !origin || !/^(0|[1-9][0-9]*)$/.test(sizeText ?? '')) return no('the checkpoint body is not origin, size and root hash');
  const size = Number(sizeText);
  const root = strictB64(rootText ?? '');
  if (!root || root.length !== 32) return no('the checkpoint root hash is not a base64 SHA-256 hash');

  const raw = rawKey(key);
  const keyId = sha256(origin, Buffer.from([0x0a, 0x01]), raw).subarray(0, 4);
  const sigs = sigLines.map((l) => /^\u2014 (\S+) (\S+)$/.exec(l)).map((m) => (m ? { name: m[1]!, bytes: strictB64(m[2]!) } : undefined));
  if (sigs.some((s) => !s?.bytes || s.bytes.length < 5)) return no('a signature line of the checkpoint is malformed');
  const logSigned = sigs.some((s) => s!.name === origin && s!.bytes!.subarray(0, 4).equals(keyId) && safeVerify(Buffer.from(body, 'utf8'), key, s!.bytes!.subarray(4)));
  if (!logSigned) return no("the checkpoint carries no valid signature by the log's key");

  const witnesses: string[] = [];
  for (const vkey of opts.witnessKeys ?? []) {
    const w = parseWitnessKey(vkey);
    if (!w) return no(`the witness key ${vkey} is not a cosignature/v1 verifier key`);
    const wKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: w.raw.toString('base64url') }, format: 'jwk' });
    const ok = sigs.some((s) => {
      const b = s!.bytes!;
      if (s!.name !== w.name || !b.subarray(0, 4).equals(w.keyId) || b.length !== 4 + 72) return false;
      const time = b.readBigUInt64BE(4);
      return safeVerify(Buffer.from(`cosignature/v1\ntime ${time}\n${body}`, 'utf8'), wKey, b.subarray(12));
    });
    if (!ok) return no(`the checkpoint carries no valid cosignature by the witness ${w.name}`);
    witnesses.push(w.name);
  }

  const computed = rootFromInclusion(index, size, sha256(Buffer.from([0]), extra), hashes);
  if (!computed || !computed.equals(root)) return no(`the inclusion proof does not lead from the entry to the signed root of tree size ${size}`);

  let projection: ReceiptVerdict['projection'];
  try {
    projection = JSON.parse(extra.toString('utf8'));
  } catch {
    return no('the leaf data is not JSON');
  }
  const p = projection!;
  const canonical = JSON.stringify({ action: p.action, at: p.at, commitment: p.commitment, seq: p.seq, subject: p.subject });
  if (canonical !== extra.toString('utf8') || Object.keys(p).length !== 5) return no('the leaf data is not the canonical projection {action, at, commitment, seq, subject}');
  if (p.seq !== index + 1) return no(`the entry's seq ${p.seq} is not index + 1 (${index + 1})`);
  return { ok: true, projection: p, origin, treeSize: size, witnesses };
}
