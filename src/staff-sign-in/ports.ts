import type { Role } from '../shared/principal.js';
import type { Tx } from '../shared/transaction.js';

/** Failed sign-ins counted for one account or token prefix (by hash). */
export interface FailureCount {
  failures: number;
  windowStartedAt: string;
  blockedUntil: string | null;
}

/** The `sign_in_failures` table: counts that instances sharing one database keep together. */
export interface SignInFailuresRepository {
  find(key: string): Promise<FailureCount | undefined>;
  /** Applies `next` to the key's count (undefined when there is none) and stores the result, atomically. */
  update(key: string, next: (current: FailureCount | undefined) => FailureCount): Promise<FailureCount>;
  /** Forgets counts whose window began before `before` (they no longer count): the table stays small. */
  removeStale(before: string): Promise<void>;
  remove(key: string): Promise<void>;
}

/** A member of staff as the identity provider last described them. */
export interface User {
  /** The provider's subject (sub). */
  id: string;
  issuer: string;
  name: string;
  email: string | null;
  roles: Role[];
  lastSignedInAt: string;
}

/** The `users` table: people who signed in with the identity provider. */
export interface UsersRepository {
  /** Creates the person or updates their name, e-mail and roles (each sign-in brings the provider's current view). */
  save(tx: Tx, u: User): Promise<void>;
  /** Every person, by name: for the audit log and reports, which show names instead of subjects. */
  list(): Promise<User[]>;
}
