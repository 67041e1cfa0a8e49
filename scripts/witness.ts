/**
 * A witness of gallra's transparency log (docs/receipts.md §5): checks that the log's latest signed
 * checkpoint extends the one it saw last, and only then cosigns it (C2SP tlog-cosignature) and posts
 * the cosignature. Kept apart from the CLI so that tests run it against a live service.
 */
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { signedNote, verifyConsistency } from '../src/audit-log/index.js';

export interface WitnessState {
  origin: string;
  /** The log's verifier key, pinned on first use. */
  logKey: string;
  size: number;
  /** base64 root hash of that size. */
  root: string;
  at: string;
}

export interface WitnessOutcome {
  cosigned: boolean;
  /** What the witness did or why it refused, in one sentence. */
  message: string;
  size?: number;
}

export function witnessKeyOf(privateKeyPem: string, name: string): { key: KeyObject; raw: Buffer; vkey: string } {
  const key = createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError('the witness key must be an Ed25519 private key (PEM)');
  const raw = signedNote.rawEd25519(createPublicKey(key));
  return { key, raw, vkey: signedNote.verifierKey(name, raw, signedNote.KEY_TYPES.cosignatureV1) };
}

function readState(file: string): WitnessState | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as WitnessState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function runWitness(opts: { log: string; privateKeyPem: string; name: string; stateFile: string; logKey?: string; now?: () => Date }): Promise<WitnessOutcome> {
  const base = opts.log.replace(/\/+$/, '');
  const now = opts.now ?? (() => new Date());
  const get = async (path: string) => {
    const res = await fetch(base + path);
    if (!res.ok) throw new Error(`GET ${path} answered ${res.status}`);
    return res;
  };
  const state = readState(opts.stateFile);
  const served = (await (await get('/v1/transparency/key')).json()) as { origin: string; verifierKey: string };
  const logKey = state?.logKey ?? opts.logKey ?? served.verifierKey;
  if (opts.logKey && opts.logKey !== logKey) return { cosigned: false, message: 'the log key given differs from the one pinned in the state file' };
  const pinned = signedNote.parseVerifierKey(logKey);
  const text = await (await get('/v1/transparency/checkpoint')).text();
  const note = signedNote.parseNote(text);
  const body = note && signedNote.parseCheckpointBody(note.body);
  if (!note || !body) return { cosigned: false, message: 'the log served something that is not a signed checkpoint' };
  if (body.origin !== pinned.name || !signedNote.noteSignedBy(note, pinned.name, pinned.raw)) {
    return { cosigned: false, message: `the checkpoint is not signed by the log key ${logKey}` };
  }
  if (state) {
    const oldRoot = Buffer.from(state.root, 'base64');
    if (body.size < state.size) return { cosigned: false, size: body.size, message: `the log shrank: size ${body.size} after ${state.size} seen at ${state.at}` };
    if (body.size === state.size && !body.root.equals(oldRoot)) {
      return { cosigned: false, size: body.size, message: `the checkpoint of size ${body.size} has another root than the one seen at ${state.at}: the log was rewritten` };
    }
    if (body.size > state.size) {
      const proof = (await (await get(`/v1/transparency/consistency?from=${state.size}&to=${body.size}`)).json()) as { hashes: string[] };
      if (!verifyConsistency(state.size, body.size, proof.hashes.map((h) => Buffer.from(h, 'base64')), oldRoot, body.root)) {
        return {
          cosigned: false,
          size: body.size,
          message: `the checkpoint of size ${body.size} is not consistent with the one of size ${state.size} seen at ${state.at}: the log was rewritten, not extended`,
        };
      }
    }
  }
  const { key, raw } = witnessKeyOf(opts.privateKeyPem, opts.name);
  const time = Math.floor(now().getTime() / 1000);
  const line = signedNote.cosignatureLine(opts.name, raw, time, (m) => sign(null, m, key), note.body);
  const res = await fetch(`${base}/v1/transparency/cosignatures`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: signedNote.noteText(note.body, [line]) });
  const next: WitnessState = { origin: body.origin, logKey, size: body.size, root: body.root.toString('base64'), at: now().toISOString() };
  writeFileSync(opts.stateFile + '.tmp', JSON.stringify(next, null, 2) + '\n');
  renameSync(opts.stateFile + '.tmp', opts.stateFile);
  if (!res.ok) return { cosigned: false, size: body.size, message: `the checkpoint of size ${body.size} checks out, but the log refused the cosignature (${res.status}): is this witness key in TRANSPARENCY_WITNESS_KEYS?` };
  return { cosigned: true, size: body.size, message: `cosigned the checkpoint of size ${body.size}${state ? `, consistent with size ${state.size}` : ' (first seen)'}` };
}
