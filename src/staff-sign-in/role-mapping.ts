import type { Role } from '../shared/principal.js';

export type RoleMap = ReadonlyArray<{ role: Role; value: string }>;

/**
 * The values of a claim: a list (Entra's `groups` and `roles`), or one string. A name with dots that
 * is not itself a claim is read as a path into nested claims (Keycloak's `realm_access.roles`).
 */
export function claimValues(claims: Record<string, unknown>, name: string): string[] {
  let v: unknown = claims[name];
  if (v === undefined && name.includes('.')) {
    v = name.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), claims);
  }
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

/** The gallra roles a person's claim values map to: the union of every match, widest first. */
export function rolesFromClaims(claims: Record<string, unknown>, claimName: string, map: RoleMap): Role[] {
  const values = new Set(claimValues(claims, claimName));
  const roles = new Set(map.filter((m) => values.has(m.value)).map((m) => m.role));
  return (['admin', 'auditor', 'trainer'] as const).filter((r) => roles.has(r));
}
