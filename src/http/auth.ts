import type { RequestHandler } from 'express';
import { Forbidden, Unauthenticated } from '../shared/errors.js';
import { holdsRole, type Principal, type Role } from '../shared/principal.js';

/**
 * Resolves the caller from `Authorization: Bearer <token>` (or from another resolver, such as a browser
 * session, tried in order). Leaves req.principal unset when none applies; `requireRole` refuses then.
 */
export type PrincipalResolver = (req: Parameters<RequestHandler>[0]) => Promise<Principal | undefined | 'invalid'>;

const BEARER = /^Bearer\s+(\S+)$/i;

/** The bearer token of a request; undefined without an Authorization header, null for a malformed one. */
function bearerToken(req: Parameters<RequestHandler>[0]): string | undefined | null {
  const header = req.headers.authorization;
  return header ? (BEARER.exec(header)?.[1] ?? null) : undefined;
}

/** What a bearer token is checked against (the access tokens' `authenticate`); undefined for an unknown token. */
export interface BearerTokens {
  authenticate(token: string): Promise<Principal | undefined>;
}

export function bearerResolver(tokens: BearerTokens): PrincipalResolver {
  return async (req) => {
    const token = bearerToken(req);
    if (token === undefined) return undefined;
    if (token === null) return 'invalid';
    return (await tokens.authenticate(token)) ?? 'invalid';
  };
}

/**
 * Sets req.principal from the first resolver that applies; leaves it unset when none does. An invalid
 * credential is refused (401) after `onFailure` has seen it.
 */
export function authenticate(resolvers: PrincipalResolver[], onFailure?: (req: Parameters<RequestHandler>[0]) => Promise<void>): RequestHandler {
  return async (req, _res, next) => {
    for (const resolve of resolvers) {
      const p = await resolve(req);
      if (p === 'invalid') {
        await onFailure?.(req);
        throw new Unauthenticated('invalid-credentials', 'The access token or session is not valid');
      }
      if (p) {
        req.principal = p;
        break;
      }
    }
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
