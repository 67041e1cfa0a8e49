export type Role = 'trainer' | 'auditor' | 'admin' | 'phone-system';
export const ROLES: readonly Role[] = ['trainer', 'auditor', 'admin', 'phone-system'];

/**
 * Who is calling: an access token, a browser session opened with one, or a person signed in with the
 * municipality's identity provider (`person`: id is the provider's subject, name their display name).
 */
export interface Principal {
  id: string;
  /** The widest of `roles`: what the interface opens with, and what decides what a list shows. */
  role: Role;
  /** Every role held; a person may hold several (the union of their mapped groups). Default [role]. */
  roles?: readonly Role[];
  name: string;
  via: 'token' | 'session' | 'webhook';
  kind?: 'person';
}

/** The actor string the audit log records: "user:<sub>" for a person, "role:id" for a token. */
export function actorOf(p: Principal): string {
  return p.kind === 'person' ? `user:${p.id}` : `${p.role}:${p.id}`;
}

/** Whether the principal holds one of the roles. */
export function holdsRole(p: Principal, roles: readonly Role[]): boolean {
  return (p.roles ?? [p.role]).some((r) => roles.includes(r));
}

/** The widest of several roles, for a person who holds more than one. */
export function widestRole(roles: readonly Role[]): Role | undefined {
  return (['admin', 'auditor', 'trainer', 'phone-system'] as const).find((r) => roles.includes(r));
}
