import { hash as digest, randomBytes } from 'node:crypto';
import type { AuditLog } from '../audit-log/index.js';
import type { Clock } from '../shared/clock.js';
import { InvalidInput, NotFound } from '../shared/errors.js';
import { containsPhoneNumber, PHONE_NUMBER_REFUSED } from '../shared/phone-number-text.js';
import { ROLES, type Principal, type Role } from '../shared/principal.js';
import type { Transact } from '../shared/transaction.js';
import type { AccessToken, AccessTokenRepository } from './ports.js';

export type { AccessToken } from './ports.js';

const hashOf = (token: string) => digest('sha256', token, 'hex');

/**
 * How long a successful token lookup is reused. Short, because another process (the token CLI, another
 * instance) may revoke: such a revocation takes effect within this time; one made here, at once.
 */
export const TOKEN_CACHE_TTL_MS = 2_000;
const TOKEN_CACHE_MAX = 1_000;

/** Tokens are shown once; only their SHA-256 is kept. Creating and revoking one is audited. */
export function createAccessTokens(deps: { tokens: AccessTokenRepository; transaction: Transact; audit: AuditLog; clock: Clock }) {
  const { tokens, transaction, audit, clock } = deps;
  // token hash → principal; measured with the monotonic clock: it is a cache lifetime, not business time.
  const cache = new Map<string, { principal: Principal; until: number }>();
  const fresh = (hash: string): Principal | undefined => {
    const hit = cache.get(hash);
    return hit && hit.until > performance.now() ? hit.principal : undefined;
  };
  return {
    async create(input: { role: string; name: string }, actor: string): Promise<{ token: string; accessToken: AccessToken }> {
      if (!ROLES.includes(input.role as Role)) {
        throw new InvalidInput('invalid-role', `role must be one of ${ROLES.join(', ')}`, { errors: [{ pointer: '/role', code: 'invalid-value', detail: `one of ${ROLES.join(', ')}` }] });
      }
      const name = input.name.trim();
      if (!name || name.length > 200) {
        throw new InvalidInput('invalid-name', 'name must be 1–200 characters', { errors: [{ pointer: '/name', code: name ? 'too-long' : 'required', detail: '1–200 characters', limit: 200 }] });
      }
      // The name is stored and audited: never a phone number.
      if (containsPhoneNumber(name)) {
        throw new InvalidInput('invalid-name', `name ${PHONE_NUMBER_REFUSED}`, { errors: [{ pointer: '/name', code: 'contains-phone-number', detail: PHONE_NUMBER_REFUSED }] });
      }
      const id = 'tok_' + randomBytes(6).toString('hex');
      const token = `glr_${randomBytes(32).toString('base64url')}`;
      const at = clock.now().toISOString();
      const accessToken: AccessToken = { id, name, role: input.role as Role, createdAt: at, revokedAt: null, lastUsedAt: null };
      await transaction(async (tx) => {
        await tokens.insert(tx, { ...accessToken, tokenHash: hashOf(token) });
        await audit.append(tx, { actor, action: 'token.created', subject: `token:${id}`, details: { tokenId: id, role: input.role, name } });
      });
      return { token, accessToken };
    },

    list: (): Promise<AccessToken[]> => tokens.list(),

    async revoke(id: string, actor: string): Promise<AccessToken> {
      const revoked = await transaction(async (tx) => {
        const found = await tokens.findById(id, tx);
        if (!found) throw new NotFound('token-not-found', `No access token ${id}`);
        if (found.revokedAt) return found;
        const at = clock.now().toISOString();
        await tokens.markRevoked(tx, id, at);
        await audit.append(tx, { actor, action: 'token.revoked', subject: `token:${id}`, details: { tokenId: id, role: found.role } });
        return { ...found, revokedAt: at };
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
      const found = await tokens.findActiveByHash(hash);
      if (!found) {
        cache.delete(hash);
        return undefined;
      }
      const principal: Principal = { id: found.id, role: found.role, name: found.name, via: 'token' };
      if (cache.size >= TOKEN_CACHE_MAX) cache.clear();
      cache.set(hash, { principal, until: performance.now() + TOKEN_CACHE_TTL_MS });
      return principal;
    },
  };
}

export type AccessTokens = ReturnType<typeof createAccessTokens>;
