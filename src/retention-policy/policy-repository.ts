import { handleOf, lockForTransaction, toNumber, trxOf, type Database } from '../shared/database.js';
import type { Tx } from '../shared/transaction.js';
import type { PolicyOrigin, PolicyRepository, PolicyRule, PolicyVersion } from './ports.js';

const fromRow = (r: Record<string, unknown>): PolicyVersion => ({
  version: toNumber(r.version),
  rules: JSON.parse(r.rules as string) as PolicyRule[],
  origin: r.origin as PolicyOrigin,
  changedBy: r.changed_by as string,
  changedAt: r.changed_at as string,
  appliedAt: (r.applied_at as string | null) ?? null,
});

/** retention_policy_versions: the knex adapter of PolicyRepository. */
export function createPolicyRepository(db: Database) {
  return {
    async latest(tx?: Tx) {
      const row = await handleOf(db, tx)('retention_policy_versions').orderBy('version', 'desc').first();
      return row ? fromRow(row) : undefined;
    },
    async history() {
      return (await db('retention_policy_versions').orderBy('version', 'desc')).map(fromRow);
    },
    async insert(tx: Tx, v: Omit<PolicyVersion, 'appliedAt'>) {
      await trxOf(tx)('retention_policy_versions').insert({
        version: v.version, rules: JSON.stringify(v.rules), origin: v.origin, changed_by: v.changedBy, changed_at: v.changedAt, applied_at: null,
      });
    },
    async lockForChange(tx: Tx) {
      // PostgreSQL: an advisory lock (the primary key refuses a second version n anyway); SQLite serialises writers.
      await lockForTransaction(trxOf(tx), 'retention_policy_versions');
    },
    async markApplied(tx: Tx, version: number, at: string) {
      await trxOf(tx)('retention_policy_versions').where({ version }).whereNull('applied_at').update({ applied_at: at });
    },
  } satisfies PolicyRepository;
}
