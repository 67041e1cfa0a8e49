import { trxOf, type Database } from '../shared/database.js';
import type { Role } from '../shared/principal.js';
import type { Tx } from '../shared/transaction.js';

/** An open session with the token it was opened with. */
export interface SessionOwner {
  sessionId: string;
  tokenId: string;
  role: Role;
  name: string;
}

/** The sessions table (only a cookie value's hash is kept), read together with the token behind each. */
export function createSessionRepository(db: Database) {
  return {
    async insert(tx: Tx, s: { id: string; secretHash: string; tokenId: string; createdAt: string; expiresAt: string }): Promise<void> {
      await trxOf(tx)('sessions').insert({ id: s.id, secret_hash: s.secretHash, token_id: s.tokenId, created_at: s.createdAt, expires_at: s.expiresAt, closed_at: null });
    },

    /** The session behind this hash if it is open, not expired at `now`, and its token not revoked. */
    async findLive(secretHash: string, now: string): Promise<SessionOwner | undefined> {
      const row = await db('sessions as s')
        .join('access_tokens as t', 't.id', 's.token_id')
        .where('s.secret_hash', secretHash)
        .whereNull('s.closed_at')
        .whereNull('t.revoked_at')
        .where('s.expires_at', '>', now)
        .first('s.id as session_id', 't.id as token_id', 't.role', 't.name');
      return row ? { sessionId: row.session_id, tokenId: row.token_id, role: row.role, name: row.name } : undefined;
    },

    /** The session behind this hash if it is not closed (expired or not). */
    async findOpen(tx: Tx, secretHash: string): Promise<SessionOwner | undefined> {
      const row = await trxOf(tx)('sessions as s')
        .join('access_tokens as t', 't.id', 's.token_id')
        .where('s.secret_hash', secretHash)
        .whereNull('s.closed_at')
        .first('s.id as session_id', 't.id as token_id', 't.role', 't.name');
      return row ? { sessionId: row.session_id, tokenId: row.token_id, role: row.role, name: row.name } : undefined;
    },

    async close(tx: Tx, id: string, at: string): Promise<void> {
      await trxOf(tx)('sessions').where({ id }).update({ closed_at: at });
    },
  };
}

export type SessionRepository = ReturnType<typeof createSessionRepository>;
