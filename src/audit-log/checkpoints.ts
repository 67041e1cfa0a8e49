import { Readable } from 'node:stream';
import type { Clock } from '../shared/clock.js';
import { AlreadyExists } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { ObjectStore } from '../storage/index.js';
import type { AuditRepository } from './audit-repository.js';
import { createSigner, type Signer, type SignedCheckpoint } from './signing.js';
import { verifyAuditPages, type AuditVerdict } from './verify-log.js';

export const CHECKPOINTS_PREFIX = 'audit-checkpoints/';

/** audit-checkpoints/000000000042.json: zero-padded so a plain listing is in seq order. */
export function checkpointObjectKey(seq: number): string {
  return `${CHECKPOINTS_PREFIX}${String(seq).padStart(12, '0')}.json`;
}

export interface CheckpointDeps {
  entries: AuditRepository;
  store: ObjectStore;
  clock: Clock;
  logger: Logger;
  /** Ed25519 private key, PEM. Parsed on first use so a service that never signs needs no key. */
  signingKeyPem: string;
}

export function createAuditCheckpoints(deps: CheckpointDeps) {
  const { entries: repo, store, clock, logger } = deps;
  let signer: Signer | undefined;
  const getSigner = () => (signer ??= createSigner(deps.signingKeyPem));

  /** Checkpoints from the database and from the store, merged: removing either copy alone hides nothing. */
  async function all(): Promise<SignedCheckpoint[]> {
    const bySeq = new Map<number, SignedCheckpoint>();
    for (const r of await repo.listCheckpoints()) {
      bySeq.set(r.seq, { seq: r.seq, hash: r.hash, at: r.at, signature: r.signature, keyId: r.keyId });
    }
    const extra: SignedCheckpoint[] = [];
    for await (const o of store.list(CHECKPOINTS_PREFIX)) {
      const m = /(\d{12})\.json$/.exec(o.key);
      if (!m || bySeq.has(Number(m[1]))) continue;
      extra.push(await readObject(o.key));
    }
    for (const c of extra) bySeq.set(c.seq, c);
    return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  }

  async function readObject(key: string): Promise<SignedCheckpoint> {
    const obj = await store.get(key);
    const chunks: Buffer[] = [];
    for await (const c of obj.body) chunks.push(c as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as SignedCheckpoint;
  }

  return {
    publicKeyPem: () => getSigner().publicKeyPem,
    keyId: () => getSigner().keyId,

    /**
     * Signs the current chain head and stores it twice (object first, then row). Does nothing when the
     * log is empty or the head is already checkpointed, so the hourly job and shutdown may both run.
     */
    async create(): Promise<SignedCheckpoint | null> {
      const head = await repo.head();
      if (!head) return null;
      const existing = await repo.listCheckpoints();
      if (existing.at(-1)?.seq === head.seq) return null;
      const cp = getSigner().sign({ seq: head.seq, hash: head.hash, at: clock.now().toISOString() });
      const objectKey = checkpointObjectKey(cp.seq);
      await store.put(objectKey, Readable.from([Buffer.from(JSON.stringify(cp) + '\n', 'utf8')]), { contentType: 'application/json' });
      try {
        await repo.insertCheckpoint({ ...cp, objectKey });
      } catch (err) {
        // Another instance signed the same head first: its checkpoint stands, and both signatures are valid.
        if (err instanceof AlreadyExists) return null;
        throw err;
      }
      logger.info('audit checkpoint signed', { seq: cp.seq, keyId: cp.keyId });
      return cp;
    },

    list: all,

    /** Recomputes the whole chain from the database and holds it against every checkpoint. */
    async verify(): Promise<AuditVerdict> {
      return verifyAuditPages(repo.readStoredPages(), await all(), getSigner().publicKey);
    },
  };
}

export type AuditCheckpoints = ReturnType<typeof createAuditCheckpoints>;
