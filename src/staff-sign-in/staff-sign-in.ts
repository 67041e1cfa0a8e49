import type { Principal, Role } from '../shared/principal.js';
import { SignInRejected, type IdentityProvider, type SignInTransaction } from './identity-provider.js';
import { rolesFromClaims, type RoleMap } from './role-mapping.js';
import type { SignInFailures } from './sign-in-failures.js';

/** How a return from the identity provider ended. A person without a gallra role is an outcome, not an error. */
export type SignInOutcome =
  | { outcome: 'signed-in'; session: OpenedSession }
  | { outcome: 'no-role'; name: string }
  | { outcome: 'too-many-failures'; name: string }
  | { outcome: 'rejected'; reason: string };

/** A browser session just opened (by web's sessions, for a person or a token). */
export interface OpenedSession {
  /** The cookie value: shown to the browser once, only its hash is kept. */
  secret: string;
  sessionId: string;
  expiresAt: Date;
  principal: Principal;
}

/** A person vouched for by the identity provider, with the gallra roles their claims map to. */
export interface Person {
  sub: string;
  issuer: string;
  name: string;
  email: string | null;
  roles: Role[];
}

/** The sessions port this use case needs (web's sessions implement it). */
export interface PersonSessions {
  openForPerson(person: Person, replacing?: string): Promise<OpenedSession>;
  recordRefusedPerson(input: { account: string; reason: string; method: string; path: string }): Promise<void>;
}

/**
 * Staff sign-in with the municipality's OpenID Connect provider: roles come from a claim (groups or
 * app roles) through the configured map, a person with several mapped values gets the union, and one
 * with none is refused, audited and counted toward their account's limit. A response that cannot be
 * verified names nobody: it is an outcome for the caller to log, not an audit entry (anyone could send one).
 */
export function createStaffSignIn(deps: { provider: IdentityProvider; sessions: PersonSessions; failures: SignInFailures; roleClaim: string; roles: RoleMap }) {
  const { provider, sessions, failures } = deps;
  const audited = { method: 'GET', path: '/auth/callback' };
  return {
    begin: () => provider.begin(),

    async finish(callbackUrl: URL, transaction: SignInTransaction, replacing?: string): Promise<SignInOutcome> {
      let verified;
      try {
        verified = await provider.finish(callbackUrl, transaction, [deps.roleClaim, 'name']);
      } catch (err) {
        if (!(err instanceof SignInRejected)) throw err;
        return { outcome: 'rejected', reason: err.reason };
      }
      const { claims } = verified;
      // The audit log names the person user:<sub>, in a column of 200 characters.
      if (claims.sub.length > 190) {
        return { outcome: 'rejected', reason: 'subject-too-long' };
      }
      const name = displayName(claims);
      const roles = rolesFromClaims(claims, deps.roleClaim, deps.roles);
      const key = failures.keyForAccount(claims.sub);
      if (roles.length === 0) {
        const blocked = await failures.record(key);
        await sessions.recordRefusedPerson({ ...audited, reason: 'no-mapped-role', account: claims.sub });
        return blocked ? { outcome: 'too-many-failures', name } : { outcome: 'no-role', name };
      }
      const person: Person = { sub: claims.sub, issuer: verified.issuer, name, email: typeof claims.email === 'string' ? claims.email : null, roles };
      const session = await sessions.openForPerson(person, replacing);
      await failures.clear(key);
      return { outcome: 'signed-in', session };
    },

    signOutUrl: () => provider.signOutUrl(),
  };
}

export type StaffSignIn = ReturnType<typeof createStaffSignIn>;

function displayName(claims: Record<string, unknown>): string {
  for (const k of ['name', 'preferred_username', 'email']) {
    const v = claims[k];
    if (typeof v === 'string' && v.trim()) return v.trim().slice(0, 200);
  }
  return String(claims.sub).slice(0, 200);
}
