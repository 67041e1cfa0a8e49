export type Role = 'trainer' | 'auditor' | 'admin' | 'phone-system';
export const ROLES: readonly Role[] = ['trainer', 'auditor', 'admin', 'phone-system'];

/** Who is calling: an access token, or a browser session opened with one. */
export interface Principal {
  id: string;
  role: Role;
  name: string;
  via: 'token' | 'session' | 'webhook';
}

/** "role:id", the actor string the audit log records. */
export function actorOf(p: Principal): string {
  return `${p.role}:${p.id}`;
}
