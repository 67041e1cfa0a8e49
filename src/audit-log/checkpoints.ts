import type { Clock } from '../shared/clock.js';
import { AlreadyExists, Conflict } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { Transact } from '../shared/transaction.js';
import type { ObjectStore } from '../storage/index.js';
import type { AuditLog } from './append.js';
import type { AuditRepository } from './ports.js';
import { parseCheckpointFile, parseKeyFile, type PublishedKey } from './evidence-format.js';
import { createSigner, keyIdOf, publicKeyFromPem, type Signer, type SignedCheckpoint } from './signing.js';
import { checkCheckpoints, verifyAuditPages, type AuditProblem, type AuditVerdict, type CheckpointCopy, type VerificationKey } from './verify-log.js';

export const CHECKPOINTS_PREFIX = 'audit-checkpoints/';

/** The audit action that registers a signing key's public key (details: keyId, publicKey PEM, notBefore). */
export const SIGNING_KEY_REGISTERED = 'audit.signing-key-registered';

/** audit-checkpoints/000000000042.json: zero-padded so a plain listing is in seq order. */
export function checkpointObjectKey(seq: number): string {
  return `${CHECKPOINTS_PREFIX}${String(seq).padStart(12, '0')}.json`;
}

/** The bytes of a checkpoint object: its JSON, fields in the order of docs/audit-log.md §5, and a newline. */
export function checkpointObjectBody(cp: SignedCheckpoint): Buffer {
  return Buffer.from(JSON.stringify({ seq: cp.seq, hash: cp.hash, at: cp.at, signature: cp.signature, keyId: cp.keyId }) + '\n', 'utf8');
}

export interface CheckpointDeps {
  entries: AuditRepository;
  transaction: Transact;
  store: ObjectStore;
  clock: Clock;
  logger: Logger;
  /** Appends the service's own entries about the chain (requests, acknowledgements, repairs). */
  audit: AuditLog;
  /** Ed25519 private key, PEM. Parsed on first use so a service that never signs needs no key. */
  signingKeyPem: string;
  /** Earlier keys, as a key list file's text (docs/audit-log.md §5.2): they verify what they signed while valid. */
  keyListText?: string;
  /** When set, checkpoint objects are put with a compliance-mode retention this long (S3 Object Lock). */
  objectRetentionMs?: number;
}

/** What the service last found when it verified the chain (at start, before each signing, on request). */
export interface ChainState {
  /** False until the first verification has finished. */
  checked: boolean;
  ok: boolean;
  at?: string;
  /** The proven checkpoint the verification resumed at (1: from the start). */
  verifiedFrom?: number;
  head?: { seq: number; hash: string } | null;
  problem?: AuditProblem;
  /** The problem was acknowledged by an admin (an `audit.problem-acknowledged` entry names it). */
  acknowledged?: { entrySeq: number; actor?: string };
}

const SAME = (a: SignedCheckpoint, b: SignedCheckpoint) =>
  a.seq === b.seq && a.hash === b.hash && a.at === b.at && a.signature === b.signature && a.keyId === b.keyId;

export function createAuditCheckpoints(deps: CheckpointDeps) {
  const { entries: repo, transaction, store, clock, logger, audit } = deps;
  let signer: Signer | undefined;
  const getSigner = () => (signer ??= createSigner(deps.signingKeyPem));
  let listedKeys: VerificationKey[] | undefined;
  const keyList = (): VerificationKey[] => (listedKeys ??= deps.keyListText ? parseKeyFile(deps.keyListText) : []);

  /** Keys registered in the log itself (`audit.signing-key-registered`): one entry per key, the first wins. */
  async function registeredKeys(): Promise<VerificationKey[]> {
    const out: VerificationKey[] = [];
    for (const { details } of await repo.detailsOfAction(SIGNING_KEY_REGISTERED)) {
      try {
        const publicKey = publicKeyFromPem(String(details.publicKey));
        const keyId = keyIdOf(publicKey);
        if (keyId !== details.keyId || publicKey.asymmetricKeyType !== 'ed25519' || out.some((k) => k.keyId === keyId)) continue;
        const notBefore = typeof details.notBefore === 'string' && !Number.isNaN(Date.parse(details.notBefore)) ? new Date(details.notBefore).toISOString() : undefined;
        out.push({ keyId, publicKey, ...(notBefore ? { notBefore } : {}) });
      } catch {
        // An entry that names no usable key verifies nothing; the chain verification judges the entry itself.
      }
    }
    return out;
  }

  /**
   * The verifying keys: the signing key (valid at any time) unless the key list bounds it, the key list's
   * keys (the operator's word on validity wins), then every key registered in the log, each from when it
   * was registered. Read on every verification, so an instance sees a key another instance registered.
   */
  async function verificationKeys(): Promise<VerificationKey[]> {
    const listed = keyList();
    const own = getSigner();
    const base = listed.some((k) => k.keyId === own.keyId) ? listed : [{ keyId: own.keyId, publicKey: own.publicKey }, ...listed];
    return [...base, ...(await registeredKeys()).filter((r) => !base.some((k) => k.keyId === r.keyId))];
  }
  let state: ChainState = { checked: false, ok: true };
  /**
   * Store copies already read, by key: checkpoint objects are written once, so the hourly check reads
   * only new ones instead of every checkpoint of past years. A full verification reads them all again.
   */
  const storeCopies = new Map<string, CheckpointCopy[]>();
  /** The problem this process saw last, until a verification passes again (then recorded as repaired). */
  let brokenSince: { problem: AuditProblem; at: string } | undefined;

  async function readText(key: string): Promise<string> {
    const obj = await store.get(key);
    const chunks: Buffer[] = [];
    for await (const c of obj.body) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  /**
   * Every copy of every checkpoint: the rows and the store objects. A row and its store copy that differ
   * are a conflict; a checkpoint is proven when both copies exist, agree and carry a valid signature.
   */
  async function gather(opts: { fresh: boolean }): Promise<{ copies: CheckpointCopy[]; problems: AuditProblem[]; proven: SignedCheckpoint[]; keys: VerificationKey[] }> {
    const keys = await verificationKeys();
    const rows = (await repo.listCheckpoints()).map((r): SignedCheckpoint => ({ seq: r.seq, hash: r.hash, at: r.at, signature: r.signature, keyId: r.keyId }));
    const stored: CheckpointCopy[] = [];
    const listed = new Set<string>();
    for await (const o of store.list(CHECKPOINTS_PREFIX)) {
      if (!/\d{12}\.json$/.test(o.key)) continue;
      listed.add(o.key);
      let copies = opts.fresh ? undefined : storeCopies.get(o.key);
      if (!copies) {
        copies = parseCheckpointFile(await readText(o.key), `store ${o.key}`);
        storeCopies.set(o.key, copies);
      }
      stored.push(...copies);
    }
    for (const key of storeCopies.keys()) if (!listed.has(key)) storeCopies.delete(key);
    const problems: AuditProblem[] = [];
    const proven: SignedCheckpoint[] = [];
    const valid = new Set(checkCheckpoints(rows, keys).valid.map((c) => JSON.stringify(c)));
    for (const row of rows) {
      const copies = stored.filter((c): c is SignedCheckpoint => !('malformed' in c) && c.seq === row.seq);
      const differing = copies.filter((c) => !SAME(c, row));
      if (differing.length) {
        problems.push({ seq: row.seq, kind: 'checkpoint-conflict', detail: `the database row and the store copy of the checkpoint at seq ${row.seq} differ` });
      } else if (copies.length && valid.has(JSON.stringify(row))) {
        proven.push(row);
      }
    }
    return { copies: [...rows.map((r) => ({ ...r, source: 'row' })), ...stored], problems, proven, keys };
  }

  async function verifyFrom(resume: boolean): Promise<AuditVerdict> {
    const { copies, problems, proven, keys } = await gather({ fresh: !resume });
    const anchor = resume ? proven.at(-1) : undefined;
    return verifyAuditPages(repo.readStoredPages(undefined, undefined, anchor ? anchor.seq - 1 : 0), copies, keys, { resumeAt: anchor?.seq, problems });
  }

  async function acknowledgementOf(problem: AuditProblem): Promise<ChainState['acknowledged']> {
    const acks = await repo.detailsOfAction('audit.problem-acknowledged');
    const ack = acks.filter((a) => a.details.problemSeq === problem.seq && a.details.problemKind === problem.kind).at(-1);
    return ack ? { entrySeq: ack.seq } : undefined;
  }

  /**
   * Verifies from the last proven checkpoint to the head and records the outcome: the state behind
   * /readyz and gallra_audit_chain_ok, an error in the log while the chain is broken, and an
   * `audit.chain-repaired` entry when a chain this process saw broken verifies again.
   */
  async function check(why: string): Promise<ChainState> {
    const v = await verifyFrom(true);
    const at = clock.now().toISOString();
    if (v.ok) {
      if (brokenSince) {
        const { problem, at: detectedAt } = brokenSince;
        brokenSince = undefined;
        await transaction((tx) =>
          audit.append(tx, { actor: 'system:audit', action: 'audit.chain-repaired', subject: null, details: { problemSeq: problem.seq, problemKind: problem.kind, detectedAt } }),
        );
        logger.warn('audit chain verifies again', { problemSeq: problem.seq, problemKind: problem.kind });
      }
      state = { checked: true, ok: true, at, verifiedFrom: v.verifiedFrom, head: v.head };
      return state;
    }
    const problem = v.firstProblem!;
    const acknowledged = await acknowledgementOf(problem);
    if (!acknowledged && (brokenSince?.problem.seq !== problem.seq || brokenSince.problem.kind !== problem.kind)) brokenSince = { problem, at };
    if (acknowledged) brokenSince = undefined;
    state = { checked: true, ok: false, at, verifiedFrom: v.verifiedFrom, head: v.head, problem, ...(acknowledged ? { acknowledged } : {}) };
    const facts = { why, seq: problem.seq, kind: problem.kind, detail: problem.detail };
    if (acknowledged) logger.warn('audit chain does not verify (problem acknowledged)', facts);
    else logger.error('audit chain does not verify: no checkpoint is signed until it is repaired or acknowledged', facts);
    return state;
  }

  function refuse(problem: AuditProblem): never {
    throw new Conflict('audit-chain-broken', `the audit log does not verify at seq ${problem.seq} (${problem.kind}): no checkpoint is signed over it`, {
      seq: problem.seq,
      kind: problem.kind,
      detail: problem.detail,
    });
  }

  /**
   * Verifies, then signs the verified head and stores it create-only: object first (never replacing
   * one), then row. Returns null when the head is signed already. Throws Conflict `audit-chain-broken`
   * when the chain does not verify (unless an admin acknowledged that problem) and `checkpoint-conflict`
   * when the store already holds a different checkpoint for the seq.
   */
  async function create(): Promise<SignedCheckpoint | null> {
    const s = await check('before signing');
    if (!s.ok && !s.acknowledged) refuse(s.problem!);
    const head = s.ok ? s.head : await repo.head();
    if (!head) return null;
    const { copies, keys } = await gather({ fresh: false });
    const signedAlready = checkCheckpoints(copies, keys).valid.some((c) => c.seq === head.seq && c.hash === head.hash);
    if (signedAlready) return null;

    const cp = getSigner().sign({ seq: head.seq, hash: head.hash, at: clock.now().toISOString() });
    const objectKey = checkpointObjectKey(cp.seq);
    const retainUntil = deps.objectRetentionMs ? new Date(clock.now().getTime() + deps.objectRetentionMs) : undefined;
    const { created } = await store.create(objectKey, checkpointObjectBody(cp), { contentType: 'application/json', ...(retainUntil ? { retainUntil } : {}) });
    if (!created) {
      const [existing] = parseCheckpointFile(await readText(objectKey), `store ${objectKey}`);
      if (existing && !('malformed' in existing) && existing.seq === cp.seq && existing.hash === cp.hash) {
        // Another instance signed the same head first: its checkpoint stands (and writes its own row).
        return null;
      }
      const problem: AuditProblem = {
        seq: cp.seq,
        kind: 'checkpoint-conflict',
        detail: `the store already holds a different checkpoint for seq ${cp.seq}; it was kept, not replaced`,
      };
      brokenSince ??= { problem, at: clock.now().toISOString() };
      state = { ...state, checked: true, ok: false, problem };
      delete state.acknowledged;
      logger.error('audit checkpoint refused: the store holds a different checkpoint for this seq', { seq: cp.seq, objectKey });
      throw new Conflict('checkpoint-conflict', problem.detail, { seq: cp.seq });
    }
    storeCopies.set(objectKey, [{ ...cp, source: `store ${objectKey}` }]);
    try {
      await repo.insertCheckpoint({ ...cp, objectKey });
    } catch (err) {
      if (err instanceof AlreadyExists) return null;
      throw err;
    }
    logger.info('audit checkpoint signed', { seq: cp.seq, keyId: cp.keyId });
    return cp;
  }

  return {
    /** The audit signing key (also signs the Merkle tree's heads). */
    signer: getSigner,
    publicKeyPem: () => getSigner().publicKeyPem,
    keyId: () => getSigner().keyId,
    /** The verifying keys as a key list (GET /v1/audit/public-keys): the current one, listed and registered ones. */
    async publicKeys(): Promise<PublishedKey[]> {
      return (await verificationKeys()).map((k) => ({
        keyId: k.keyId,
        publicKey: k.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        ...(k.notBefore ? { notBefore: k.notBefore } : {}),
        ...(k.notAfter ? { notAfter: k.notAfter } : {}),
      }));
    },

    create,

    /**
     * Registers the signing key's public key in the log (an `audit.signing-key-registered` entry), once:
     * after a rotation, checkpoints it signed keep verifying without a key list, on every instance. A key
     * that signed checkpoints before it was registered (a log older than registration) is valid from its
     * first valid checkpoint, otherwise from now. True when it registered the key now.
     */
    async registerSigningKey(actor: string): Promise<boolean> {
      const own = getSigner();
      if (keyList().some((k) => k.keyId === own.keyId)) return false;
      if ((await registeredKeys()).some((k) => k.keyId === own.keyId)) return false;
      const signed = checkCheckpoints(
        (await repo.listCheckpoints()).filter((r) => r.keyId === own.keyId).map((r): SignedCheckpoint => ({ seq: r.seq, hash: r.hash, at: r.at, signature: r.signature, keyId: r.keyId })),
        [{ keyId: own.keyId, publicKey: own.publicKey }],
      ).valid;
      const notBefore = signed.map((c) => c.at).sort()[0] ?? clock.now().toISOString();
      await transaction((tx) =>
        audit.append(tx, { actor, action: SIGNING_KEY_REGISTERED, subject: null, details: { keyId: own.keyId, publicKey: own.publicKeyPem, notBefore } }),
      );
      logger.info('audit signing key registered', { keyId: own.keyId, notBefore });
      return true;
    },

    /** An admin's (or the operator's) request to sign the head now: audited, then signed, so the checkpoint covers its own request. */
    async request(actor: string): Promise<SignedCheckpoint | null> {
      await transaction((tx) => audit.append(tx, { actor, action: 'audit.checkpoint-requested', subject: null, details: {} }));
      return create();
    },

    /**
     * Records an admin's acknowledgement of the problem the last verification found; it must name that
     * problem (seq and kind). Signing resumes over later entries; every full verification still
     * reports the problem.
     */
    async acknowledge(actor: string, input: { seq: number; kind: string; reason: string }): Promise<ChainState> {
      const s = await check('acknowledgement');
      if (s.ok) throw new Conflict('audit-chain-ok', 'the audit log verifies: there is nothing to acknowledge');
      if (s.problem!.seq !== input.seq || s.problem!.kind !== input.kind) {
        throw new Conflict('audit-problem-differs', `the problem found is at seq ${s.problem!.seq} (${s.problem!.kind}), not the one named`, { seq: s.problem!.seq, kind: s.problem!.kind });
      }
      const entry = await transaction((tx) =>
        audit.append(tx, {
          actor,
          action: 'audit.problem-acknowledged',
          subject: null,
          details: { problemSeq: s.problem!.seq, problemKind: s.problem!.kind, detail: s.problem!.detail, reason: input.reason },
        }),
      );
      brokenSince = undefined;
      state = { ...s, acknowledged: { entrySeq: entry.seq, actor } };
      logger.warn('audit chain problem acknowledged', { seq: input.seq, kind: input.kind, entrySeq: entry.seq });
      return state;
    },

    check,
    /** The last verification's outcome, without verifying again. */
    state: (): ChainState => state,

    /** Every distinct checkpoint the service holds (rows and store objects); conflicting ones included. */
    async list(): Promise<SignedCheckpoint[]> {
      const { copies } = await gather({ fresh: true });
      const out: SignedCheckpoint[] = [];
      for (const c of copies) {
        if ('malformed' in c) continue;
        const cp = { seq: c.seq, hash: c.hash, at: c.at, signature: c.signature, keyId: c.keyId };
        if (!out.some((o) => SAME(o, cp))) out.push(cp);
      }
      return out.sort((a, b) => a.seq - b.seq || (a.hash < b.hash ? -1 : 1));
    },

    /** Recomputes the whole chain from the database and holds it against every copy of every checkpoint. */
    verify: (): Promise<AuditVerdict> => verifyFrom(false),
  };
}

export type AuditCheckpoints = ReturnType<typeof createAuditCheckpoints>;
