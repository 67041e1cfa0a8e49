import { handleOf, lockForTransaction, trxOf, type Database } from '../shared/database.js';
import type { Tx } from '../shared/transaction.js';
import type { SecretFingerprintRepository } from './ports.js';

/** The secret_fingerprints table: per configuration variable, the fingerprints of the secrets in use. */
export function createSecretFingerprintRepository(db: Database): SecretFingerprintRepository {
  return {
    /** Serialises instances that start at the same moment, so both cannot register different secrets. */
    lock: (tx: Tx) => lockForTransaction(trxOf(tx), 'secret-fingerprints'),
    async of(variable: string, tx?: Tx): Promise<string[]> {
      const rows: { fingerprint: string }[] = await handleOf(db, tx)('secret_fingerprints').select('fingerprint').where({ variable }).orderBy('fingerprint');
      return rows.map((r) => r.fingerprint);
    },
    /** Makes `fingerprints` the variable's registered set. */
    async replace(tx: Tx, variable: string, fingerprints: string[], at: string): Promise<void> {
      const trx = trxOf(tx);
      await trx('secret_fingerprints').where({ variable }).whereNotIn('fingerprint', fingerprints).delete();
      await trx('secret_fingerprints')
        .insert(fingerprints.map((fingerprint) => ({ variable, fingerprint, registered_at: at })))
        .onConflict(['variable', 'fingerprint'])
        .ignore();
    },
  };
}
