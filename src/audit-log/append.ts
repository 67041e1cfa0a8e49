import type { Clock } from '../shared/clock.js';
import type { Tx } from '../shared/transaction.js';
import type { AuditRepository } from './ports.js';
import { canonicalJson, GENESIS_HASH, hashEntry, type AuditEntry } from './canonical.js';

/** Who did it: "<role>:<id>", e.g. "admin:tok_3f9a…", "phone-system:webhook", "system:retention". */
export type Actor = string;

export interface AuditInput {
  actor: Actor;
  action: string;
  subject?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditLog {
  /**
   * Appends one entry inside the caller's transaction, so the entry exists exactly when the change it
   * records does. Never pass personal data (numbers, caller keys) in details.
   */
  append(tx: Tx, input: AuditInput): Promise<AuditEntry>;
  /** Appends several entries, in order, as one step of the chain (one head read, multi-row inserts). */
  appendAll(tx: Tx, inputs: AuditInput[]): Promise<AuditEntry[]>;
}

export function createAuditLog(deps: { clock: Clock; entries: Pick<AuditRepository, 'lockChain' | 'head' | 'insertAll'> }): AuditLog {
  const repo = deps.entries;
  async function appendAll(tx: Tx, inputs: AuditInput[]): Promise<AuditEntry[]> {
    if (!inputs.length) return [];
    await repo.lockChain(tx);
    const last = await repo.head(tx);
    let seq = last?.seq ?? 0;
    let prevHash = last?.hash ?? GENESIS_HASH;
    const at = deps.clock.now().toISOString();
    const rows = inputs.map((input) => {
      const details = input.details ?? {};
      const unsigned = { seq: ++seq, at, actor: input.actor, action: input.action, subject: input.subject ?? null, details, prevHash };
      const entry: AuditEntry = { ...unsigned, hash: hashEntry(unsigned) };
      prevHash = entry.hash;
      return { entry, canonicalDetails: canonicalJson(details) };
    });
    await repo.insertAll(tx, rows);
    return rows.map((r) => r.entry);
  }
  return {
    async append(tx, input) {
      return (await appendAll(tx, [input]))[0]!;
    },
    appendAll,
  };
}
