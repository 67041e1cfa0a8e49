import { hash as digest, randomBytes } from 'node:crypto';
import type { AuditLog } from '../audit-log/index.js';
import type { Clock } from '../shared/clock.js';
import type { Database } from '../shared/database.js';
import { InvalidInput, NotFound } from '../shared/errors.js';
import { containsPhoneNumber, PHONE_NUMBER_REFUSED } from '../shared/phone-number-text.js';
import { ROLES, type Principal, type Role } from '../http/types.js';

export interface AccessToken {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

const hashOf = (token: string) => digest('sha256', token, 'hex');

/**
 * How long a successful token lookup is reused. Short, because another process (the token CLI, another
 * instance) may revoke: such a revocation takes effect within this time; one made here, at once.
 */
export const TOKEN_CACHE_TTL_MS = 2_000;
const TOKEN_CACHE_MAX = 1_000;

/** Tokens are shown once; only their SHA-256 is kept. Creating and revoking one is audited. */
export function createAccessTokens(deps: { db: Database; audit: AuditLog; clock: Clock }) {
  const { db, audit, clock } = deps;
  // token hash → principal; measured with the monotonic clock: it is a cache lifetime, not business time.
  const cache = new Map<string, { principal: Principal; until: number }>();
  const fresh = (hash: string): Principal | undefined => {
    const hit = cache.get(hash);
    return hit && hit.until > performance.now() ? hit.principal : undefined;
  };
  return {
    async create(input: { role: string; name: string }, actor: string): Promise<{ token: string; accessToken: AccessToken }> {
      if (!ROLES.includes(input.role as Role)) {
        throw new InvalidInput('invalid-role', `role must be one of ${ROLES.join(', ')}`, { errors: [{ pointer: '/role', detail: `one of ${ROLES.join(', ')}` }] });
      }
      const name = input.name.trim();
      if (!name || name.length > 200) {
        throw new InvalidInput('invalid-name', 'name must be 1–200 characters', { errors: [{ pointer: '/name', detail: '1–200 characters' }] });
      }
      // The name is stored and audited: never a phone number.
      if (containsPhoneNumber(name)) {
        throw new InvalidInput('invalid-name', `name ${PHONE_NUMBER_REFUSED}`, { errors: [{ pointer: '/name', detail: PHONE_NUMBER_REFUSED }] });
      }
      const id = 'tok_' + randomBytes(6).toString('hex');
      const token = `glr_${randomBytes(32).toString('base64url')}`;
      const at = clock.now().toISOString();
      const row = { id, name, role: input.role, token_hash: hashOf(token), created_at: at, revoked_at: null, last_used_at: null };
      await db.transaction(async (trx) => {
        await trx('access_tokens').insert(row);
        await audit.append(trx, { actor, action: 'token.created', subject: `token:${id}`, details: { tokenId: id, role: input.role, name } });
      });
      return { token, accessToken: toToken(row) };
    },

    async list(): Promise<AccessToken[]> {
      return (await db('access_tokens').orderBy('created_at')).map(toToken);
    },

    async revoke(id: string, actor: string): Promise<AccessToken> {
      const revoked = await db.transaction(async (trx) => {
        const row = await trx('access_tokens').where({ id }).first();
        if (!row) throw new NotFound('token-not-found', `No access token ${id}`);
        if (!row.revoked_at) {
          row.revoked_at = clock.now().toISOString();
          await trx('access_tokens').where({ id }).update({ revoked_at: row.revoked_at });
          await audit.append(trx, { actor, action: 'token.revoked', subject: `token:${id}`, details: { tokenId: id, role: row.role } });
        }
        return toToken(row);
      });
      // After the commit, so a lookup racing the revocation cannot put the token back.
      for (const [hash, entry] of cache) if (entry.principal.id === id) cache.delete(hash);
      return revoked;
    },

    /** The principal a bearer token stands for, or undefined when it is unknown or revoked. */
    async authenticate(token: string): Promise<Principal | undefined> {
      const hash = hashOf(token);
      const hit = fresh(hash);
      if (hit) return hit;
      const row = await db('access_tokens').where({ token_hash: hash }).whereNull('revoked_at').first();
      if (!row) {
        cache.delete(hash);
        return undefined;
      }
      const principal: Principal = { id: row.id, role: row.role, name: row.name, via: 'token' };
      if (cache.size >= TOKEN_CACHE_MAX) cache.clear();
      cache.set(hash, { principal, until: performance.now() + TOKEN_CACHE_TTL_MS });
      return principal;
    },
  };
}

export type AccessTokens = ReturnType<typeof createAccessTokens>;

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
