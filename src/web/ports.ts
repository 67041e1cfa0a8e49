import type { Role } from '../shared/principal.js';
import type { Transact, Tx } from '../shared/transaction.js';

/** A session row as stored: only the SHA-256 of the cookie value is kept. */
export interface SessionRow {
  id: string;
  secretHash: string;
  tokenId: string | null;
  userId: string | null;
  roles: Role[] | null;
  createdAt: string;
  expiresAt: string;
  lastSeenAt: string;
}

/** An open session with who it belongs to: a token (its role and name) or a person (their name). */
export interface ActiveSession {
  id: string;
  tokenId: string | null;
  userId: string | null;
  role: Role | null;
  roles: Role[];
  name: string;
  lastSeenAt: string;
}

/** Browser sessions (the `sessions` table), each with the token or person it belongs to. */
export interface SessionsRepository {
  transaction: Transact;
  insert(tx: Tx, s: SessionRow): Promise<void>;
  /**
   * The session behind a cookie hash that is open, not past `now` and used since `idleSince`, and
   * whose token (if any) is not revoked.
   */
  findActive(secretHash: string, now: string, idleSince: string): Promise<ActiveSession | undefined>;
  touch(id: string, at: string): Promise<void>;
  /** The open session behind a cookie hash (expired or not), for closing it. */
  findOpen(tx: Tx, secretHash: string): Promise<{ id: string; tokenId: string | null; userId: string | null; tokenRole: Role | null } | undefined>;
  close(tx: Tx, id: string, at: string): Promise<void>;
}
