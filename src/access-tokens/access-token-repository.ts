import { handleOf, trxOf, type Database } from '../shared/database.js';
import type { Role } from '../shared/principal.js';
import type { Tx } from '../shared/transaction.js';
import { createStoredTextRepository, type StoredTextSource } from '../stored-numbers/index.js';
import type { AccessToken, AccessTokenRepository } from './ports.js';

function toToken(r: Record<string, unknown>): AccessToken {
  return {
    id: r.id as string,
    name: r.name as string,
    role: r.role as Role,
    createdAt: r.created_at as string,
    revokedAt: (r.revoked_at as string | null) ?? null,
    lastUsedAt: (r.last_used_at as string | null) ?? null,
  };
}

/** The access_tokens table: only a token's SHA-256 is kept, never the token. */
export function createAccessTokenRepository(db: Database): AccessTokenRepository {
  return {
    async insert(tx: Tx, t: AccessToken & { tokenHash: string }): Promise<void> {
      await trxOf(tx)('access_tokens').insert({
        id: t.id, name: t.name, role: t.role, token_hash: t.tokenHash, created_at: t.createdAt, revoked_at: t.revokedAt, last_used_at: t.lastUsedAt,
      });
    },
    async list(): Promise<AccessToken[]> {
      return (await db('access_tokens').orderBy('created_at')).map(toToken);
    },
    async findById(id: string, tx?: Tx): Promise<AccessToken | undefined> {
      const row = await handleOf(db, tx)('access_tokens').where({ id }).first();
      return row ? toToken(row) : undefined;
    },
    async markRevoked(tx: Tx, id: string, at: string): Promise<void> {
      await trxOf(tx)('access_tokens').where({ id }).update({ revoked_at: at });
    },
    /** The token behind this hash unless it is revoked. */
    async findActiveByHash(tokenHash: string): Promise<AccessToken | undefined> {
      const row = await db('access_tokens').where({ token_hash: tokenHash }).whereNull('revoked_at').first();
      return row ? toToken(row) : undefined;
    },
  };
}

/** Tokens' names, for masking numbers stored before they were refused. */
export function createAccessTokenStoredText(db: Database): StoredTextSource {
  return createStoredTextRepository(db, { table: 'access_tokens', key: ['id'], fields: { name: { column: 'name', kind: 'text', maxLength: 200 } } });
}
