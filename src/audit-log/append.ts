import type { Clock } from '../shared/clock.js';
import { lockForTransaction, type Transaction } from '../shared/database.js';
import { canonicalJson, GENESIS_HASH, hashEntry, type AuditEntry } from './canonical.js';
import * as repo from './audit-repository.js';

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
  append(trx: Transaction, input: AuditInput): Promise<AuditEntry>;
}

export function createAuditLog(deps: { clock: Clock }): AuditLog {
  return {
    async append(trx, input) {
      await lockForTransaction(trx, 'audit-chain');
      const last = await repo.head(trx);
      const details = input.details ?? {};
      const unsigned = {
        seq: (last?.seq ?? 0) + 1,
        at: deps.clock.now().toISOString(),
        actor: input.actor,
        action: input.action,
        subject: input.subject ?? null,
        details,
        prevHash: last?.hash ?? GENESIS_HASH,
      };
      const entry: AuditEntry = { ...unsigned, hash: hashEntry(unsigned) };
      await repo.insert(trx, entry, canonicalJson(details));
      return entry;
    },
  };
}
