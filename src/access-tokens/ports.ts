import type { Role } from '../shared/principal.js';
import type { Tx } from '../shared/transaction.js';

/** A machine client's access token as gallra keeps it: never the token itself, only its SHA-256. */
export interface AccessToken {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

/** The access_tokens table. */
export interface AccessTokenRepository {
  insert(tx: Tx, t: AccessToken & { tokenHash: string }): Promise<void>;
  list(): Promise<AccessToken[]>;
  findById(id: string, tx?: Tx): Promise<AccessToken | undefined>;
  markRevoked(tx: Tx, id: string, at: string): Promise<void>;
  /** The token behind this hash unless it is revoked. */
  findActiveByHash(tokenHash: string): Promise<AccessToken | undefined>;
}
