import type { Role } from '../shared/principal.js';
import { asTx, trxOf, type Database } from '../shared/database.js';
import type { Tx } from '../shared/transaction.js';
import type { ActiveSession, SessionRow, SessionsRepository } from './ports.js';

const rolesFrom = (v: unknown): Role[] => (typeof v === 'string' && v ? (v.split(',') as Role[]) : []);

/** SQL of browser sessions (the `sessions` table, joined to the token or person it belongs to). */
export function createSessionsRepository(db: Database): SessionsRepository {
  return {
    transaction: <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => db.transaction((trx) => fn(asTx(trx))),

    async insert(tx: Tx, s: SessionRow): Promise<void> {
      await trxOf(tx)('sessions').insert({
        id: s.id,
        secret_hash: s.secretHash,
        token_id: s.tokenId,
        user_id: s.userId,
        roles: s.roles ? s.roles.join(',') : null,
        created_at: s.createdAt,
        expires_at: s.expiresAt,
        last_seen_at: s.lastSeenAt,
        closed_at: null,
      });
    },

    /**
     * The session behind a cookie hash that is open, not past `now` and used since `idleSince`, and
     * whose token (if any) is not revoked.
     */
    async findActive(secretHash: string, now: string, idleSince: string): Promise<ActiveSession | undefined> {
      const row = await db('sessions as s')
        .leftJoin('access_tokens as t', 't.id', 's.token_id')
        .leftJoin('users as u', 'u.id', 's.user_id')
        .where('s.secret_hash', secretHash)
        .whereNull('s.closed_at')
        .where('s.expires_at', '>', now)
        .where((q) => q.where('s.last_seen_at', '>', idleSince).orWhere((q2) => q2.whereNull('s.last_seen_at').where('s.created_at', '>', idleSince)))
        .where((q) => q.where((q2) => q2.whereNotNull('s.token_id').whereNull('t.revoked_at').whereNotNull('t.id')).orWhereNotNull('u.id'))
        .first('s.id', 's.token_id', 's.user_id', 's.roles', 's.created_at', 's.last_seen_at', 't.role as token_role', 't.name as token_name', 'u.name as user_name');
      if (!row) return undefined;
      return {
        id: row.id,
        tokenId: row.token_id ?? null,
        userId: row.user_id ?? null,
        role: row.token_role ?? null,
        roles: row.token_id ? [row.token_role] : rolesFrom(row.roles),
        name: (row.token_id ? row.token_name : row.user_name) ?? '',
        lastSeenAt: row.last_seen_at ?? row.created_at,
      };
    },

    async touch(id: string, at: string): Promise<void> {
      await db('sessions').where({ id }).whereNull('closed_at').update({ last_seen_at: at });
    },

    /** The open session behind a cookie hash (expired or not), for closing it. */
    async findOpen(tx: Tx, secretHash: string): Promise<{ id: string; tokenId: string | null; userId: string | null; tokenRole: Role | null } | undefined> {
      const row = await trxOf(tx)('sessions as s')
        .leftJoin('access_tokens as t', 't.id', 's.token_id')
        .where('s.secret_hash', secretHash)
        .whereNull('s.closed_at')
        .first('s.id', 's.token_id', 's.user_id', 't.role as token_role');
      return row ? { id: row.id, tokenId: row.token_id ?? null, userId: row.user_id ?? null, tokenRole: row.token_role ?? null } : undefined;
    },

    async close(tx: Tx, id: string, at: string): Promise<void> {
      await trxOf(tx)('sessions').where({ id }).update({ closed_at: at });
    },
  };
}
