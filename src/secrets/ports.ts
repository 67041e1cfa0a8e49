import type { Tx } from '../shared/transaction.js';

/** The secret_fingerprints table: per configuration variable, the fingerprints of the secrets in use. */
export interface SecretFingerprintRepository {
  /** Serialises instances that start at the same moment, so both cannot register different secrets. */
  lock(tx: Tx): Promise<void>;
  of(variable: string, tx?: Tx): Promise<string[]>;
  /** Makes `fingerprints` the variable's registered set. */
  replace(tx: Tx, variable: string, fingerprints: string[], at: string): Promise<void>;
}
