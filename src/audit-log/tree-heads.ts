import type { Clock } from '../shared/clock.js';
import type { Transact, Tx } from '../shared/transaction.js';
import type { AuditLog } from './append.js';
import { Conflict, Forbidden, NotFound, TooManyRequests } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { ObjectStore } from '../storage/index.js';
import { verifyConsistency } from './merkle.js';
import {
  checkpointBody, cosignatureValid, parseCheckpointBody, parseNote, parseVerifierKey, rawEd25519, signNote, verifierKey, KEY_TYPES,
} from './signed-note.js';
import type { Signer } from './signing.js';
import type { AuditTree } from './tree.js';

export const TREE_HEADS_PREFIX = 'audit-tree-heads/';

/** audit-tree-heads/000000000042.note: zero-padded so a plain listing is in size order. */
export function treeHeadObjectKey(size: number): string {
  return `${TREE_HEADS_PREFIX}${String(size).padStart(12, '0')}.note`;
}

export interface StoredTreeHead {
  size: number;
  root: Buffer;
  /** The signed note: checkpoint body and the log's signature (cosignatures are kept apart). */
  note: string;
  at: string;
  objectKey: string;
}

/** Where signed tree heads and cosignatures are kept (audit_tree_heads, audit_cosignatures). */
export interface TreeHeadStore {
  latest(): Promise<StoredTreeHead | undefined>;
  bySize(size: number): Promise<StoredTreeHead | undefined>;
  /** False when a head of that size is stored already. */
  insert(h: StoredTreeHead): Promise<boolean>;
  cosignatures(size: number): Promise<string[]>;
  addCosignature(tx: Tx, c: { size: number; keyId: string; name: string; line: string; at: string }): Promise<void>;
}

export interface TreeHead {
  size: number;
  root: Buffer;
  /** The signed note with every accepted cosignature line after the log's signature. */
  note: string;
}

/**
 * The audit tree's signed heads (C2SP tlog-checkpoint notes): signed with the audit signing key
 * hourly and on demand, stored create-only in the object store and as a row, and served with the
 * witnesses' cosignatures.
 */
export function createTreeHeads(deps: {
  tree: AuditTree;
  heads: TreeHeadStore;
  store: ObjectStore;
  transaction: Transact;
  /** A witness's accepted cosignature is a change: audited with it. */
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  signer: () => Signer;
  origin: string;
  /** At least this long between two heads signed on demand (for a receipt). */
  signIntervalMs: number;
  /** Witness verifier keys (name+keyid+base64) whose cosignatures are accepted. */
  witnessKeys: string[];
}) {
  const { tree, heads, store, clock, logger } = deps;
  const witnesses = deps.witnessKeys.map(parseVerifierKey);
  let lastOnDemand = Number.NEGATIVE_INFINITY;
  let onDemand: Promise<unknown> | undefined;

  async function withCosignatures(h: StoredTreeHead): Promise<TreeHead> {
    const lines = await heads.cosignatures(h.size);
    if (!lines.length) return { size: h.size, root: h.root, note: h.note };
    return { size: h.size, root: h.root, note: h.note + lines.map((l) => l + '\n').join('') };
  }

  /**
   * Signs the tree over the whole log, unless its size is signed already. The new root must be
   * consistent with the last signed head (checked with a consistency proof from the stored nodes):
   * a tree that was rewritten below a signed head is refused (Conflict `tree-inconsistent`).
   */
  async function sign(): Promise<TreeHead | null> {
    const size = await tree.size();
    if (size === 0) return null;
    const last = await heads.latest();
    if (last && last.size >= size) return null;
    const root = await tree.root(size);
    if (last) {
      const proof = await tree.consistency(last.size, size);
      if (!Buffer.from(proof.fromRoot, 'base64').equals(last.root) || !verifyConsistency(last.size, size, proof.hashes.map((h) => Buffer.from(h, 'base64')), last.root, root)) {
        logger.error('audit tree head refused: the tree is not consistent with the last signed head', { lastSize: last.size, size });
        throw new Conflict('tree-inconsistent', `the audit tree of size ${size} is not consistent with the signed head of size ${last.size}`, { size: last.size });
      }
    }
    const signer = deps.signer();
    const note = signNote(checkpointBody({ origin: deps.origin, size, root }), deps.origin, rawEd25519(signer.publicKey), signer.signBytes);
    const objectKey = treeHeadObjectKey(size);
    const { created } = await store.create(objectKey, Buffer.from(note, 'utf8'), { contentType: 'text/plain; charset=utf-8' });
    if (!created) {
      logger.warn('audit tree head: the store holds a note for this size already (another instance signed it)', { size });
    }
    const stored: StoredTreeHead = { size, root, note, at: clock.now().toISOString(), objectKey };
    if (!(await heads.insert(stored))) return withCosignatures((await heads.bySize(size))!);
    logger.info('audit tree head signed', { size });
    return withCosignatures(stored);
  }

  return {
    sign,

    /** The log's verifier key (C2SP signed-note): name+keyid+base64. */
    verifierKey: () => verifierKey(deps.origin, rawEd25519(deps.signer().publicKey)),
    origin: deps.origin,

    /** The latest signed head with its cosignatures, or null before the first. */
    async latest(): Promise<TreeHead | null> {
      const h = await heads.latest();
      return h ? withCosignatures(h) : null;
    },

    /**
     * A signed head whose tree holds entry `seq`: the latest, or one signed now when the latest does
     * not reach it. Heads are signed on demand at most once per interval; meanwhile TooManyRequests.
     */
    async covering(seq: number): Promise<TreeHead> {
      let latest = await heads.latest();
      if (latest && latest.size >= seq) return withCosignatures(latest);
      if (onDemand) {
        // Another request is having one signed: it may cover this entry too.
        await onDemand.catch(() => undefined);
        latest = await heads.latest();
        if (latest && latest.size >= seq) return withCosignatures(latest);
      }
      const now = clock.now().getTime();
      if (now - lastOnDemand < deps.signIntervalMs) {
        throw new TooManyRequests('tree-head-pending', 'the entry is not covered by a signed tree head yet; try again shortly', {
          retryAfterSeconds: Math.ceil((lastOnDemand + deps.signIntervalMs - now) / 1000),
        });
      }
      lastOnDemand = now;
      onDemand = sign().finally(() => (onDemand = undefined));
      await onDemand;
      const head = await heads.latest();
      if (!head || head.size < seq) throw new NotFound('not-found', `no audit entry ${seq}`);
      return withCosignatures(head);
    },

    /**
     * Accepts a witness's cosignature: `text` is the checkpoint note the witness cosigned (body and its
     * cosignature lines). Only lines of registered witness keys that verify over a head this log signed
     * are kept. Returns the witnesses whose cosignatures were accepted.
     */
    async addCosignatures(text: string): Promise<{ size: number; accepted: string[] }> {
      const note = parseNote(text);
      const body = note && parseCheckpointBody(note.body);
      if (!note || !body || body.origin !== deps.origin) throw new Forbidden('invalid-cosignature', 'not a cosigned checkpoint of this log');
      const head = await heads.bySize(body.size);
      if (!head || parseNote(head.note)?.body !== note.body) throw new NotFound('unknown-tree-head', `this log signed no tree head like this one of size ${body.size}`);
      const accepted: string[] = [];
      for (const line of note.signatures) {
        const w = witnesses.find((k) => k.name === line.name && k.type === KEY_TYPES.cosignatureV1 && k.keyId.equals(line.keyId));
        if (!w || cosignatureValid(line, note.body, w.name, w.raw) === undefined) continue;
        const keyId = w.keyId.toString('hex');
        await deps.transaction(async (tx) => {
          await heads.addCosignature(tx, { size: body.size, keyId, name: w.name, line: line.line, at: clock.now().toISOString() });
          await deps.audit.append(tx, { actor: `witness:${keyId}`, action: 'audit.cosignature-accepted', subject: null, details: { size: body.size, witness: w.name, keyId } });
        });
        accepted.push(w.name);
      }
      if (!accepted.length) throw new Forbidden('invalid-cosignature', 'no valid cosignature by a registered witness key');
      logger.info('audit tree head cosigned', { size: body.size, witnesses: accepted });
      return { size: body.size, accepted };
    },
  };
}

export type TreeHeads = ReturnType<typeof createTreeHeads>;
