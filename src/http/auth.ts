import type { RequestHandler } from 'express';
import type { AccessTokens } from '../access-tokens/index.js';
import { Forbidden, Unauthenticated } from '../shared/errors.js';
import { holdsRole, type Principal, type Role } from './types.js';

/**
 * Resolves the caller from `Authorization: Bearer <token>` (or from another resolver, such as a browser
 * session, tried in order). Leaves req.principal unset when none applies; `requireRole` refuses then.
 * `atHand` answers the same without waiting where it can (a token looked up moments ago), else undefined.
 */
export type PrincipalResolver = ((req: Parameters<RequestHandler>[0]) => Promise<Principal | undefined | 'invalid'>) & {
  atHand?: (req: Parameters<RequestHandler>[0]) => Principal | undefined;
};

const BEARER = /^Bearer\s+(\S+)$/i;

/** The bearer token of a request; undefined without an Authorization header, null for a malformed one. */
function bearerToken(req: Parameters<RequestHandler>[0]): string | undefined | null {
  const header = req.headers.authorization;
  return header ? (BEARER.exec(header)?.[1] ?? null) : undefined;
}

export function bearerResolver(tokens: AccessTokens): PrincipalResolver {
  const resolve: PrincipalResolver = async (req) => {
    const token = bearerToken(req);
    if (token === undefined) return undefined;
    if (token === null) return 'invalid';
    return (await tokens.authenticate(token)) ?? 'invalid';
  };
  resolve.atHand = (req) => {
    const token = bearerToken(req);
    return token ? tokens.cached(token) : undefined;
  };
  return resolve;
}

/**
 * What `principalOf` would resolve, without waiting, where the first resolver has it at hand; undefined
 * otherwise (then ask principalOf). Only the first: a later one applies only when those before it do not.
 */
export function principalAtHand(resolvers: PrincipalResolver[]): (req: Parameters<RequestHandler>[0]) => Principal | undefined {
  const first = resolvers[0]?.atHand;
  return (req) => first?.(req);
}

/**
 * The caller of a request from the first resolver that applies, or undefined when none does. An invalid
 * credential is refused (401) after `onFailure` has seen it.
 */
export function principalOf(
  resolvers: PrincipalResolver[],
  onFailure?: (req: Parameters<RequestHandler>[0]) => Promise<void>,
): (req: Parameters<RequestHandler>[0]) => Promise<Principal | undefined> {
  return async (req) => {
    for (const resolve of resolvers) {
      const p = await resolve(req);
      if (p === 'invalid') {
        await onFailure?.(req);
        throw new Unauthenticated('invalid-credentials', 'The access token or session is not valid');
      }
      if (p) return p;
    }
    return undefined;
  };
}

export function authenticate(resolvers: PrincipalResolver[], onFailure?: (req: Parameters<RequestHandler>[0]) => Promise<void>): RequestHandler {
  const resolve = principalOf(resolvers, onFailure);
  return async (req, _res, next) => {
    const p = await resolve(req);
    if (p) req.principal = p;
    next();
  };
}

/** Refuses with 401 when nobody is signed in and 403 when the role is not named. */
export function assertRole(principal: Principal | undefined, roles: readonly Role[]): asserts principal is Principal {
  if (!principal) throw new Unauthenticated('authentication-required', 'Send an access token: Authorization: Bearer <token>');
  if (!holdsRole(principal, roles)) {
    throw new Forbidden('forbidden', `This needs one of the roles: ${roles.join(', ')}`);
  }
}

export function requireRole(...roles: Role[]): RequestHandler {
  return (req, _res, next) => {
    assertRole(req.principal, roles);
    next();
  };
}
