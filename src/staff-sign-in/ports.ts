import type { Role } from '../shared/principal.js';
import type { Tx } from '../shared/transaction.js';

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
