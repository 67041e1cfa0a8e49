import type { Role } from '../shared/principal.js';
import { trxOf, type Database } from '../shared/database.js';
import type { Tx } from '../shared/transaction.js';
import type { User, UsersRepository } from './ports.js';

/** SQL of the `users` table: people who signed in with the identity provider. */
export function createUsersRepository(db: Database): UsersRepository {
  return {
    /** Creates the person or updates their name, e-mail and roles (each sign-in brings the provider's current view). */
    async save(tx: Tx, u: User): Promise<void> {
      const row = { issuer: u.issuer, name: u.name, email: u.email, roles: u.roles.join(','), last_signed_in_at: u.lastSignedInAt };
      await trxOf(tx)('users')
        .insert({ id: u.id, ...row, created_at: u.lastSignedInAt })
        .onConflict('id')
        .merge(row);
    },

    /** Every person, by name: for the audit log and reports, which show names instead of subjects. */
    async list(): Promise<User[]> {
      const rows = await db('users').orderBy('name');
      return rows.map((r) => ({
        id: r.id,
        issuer: r.issuer,
        name: r.name,
        email: r.email ?? null,
        roles: r.roles ? (r.roles.split(',') as Role[]) : [],
        lastSignedInAt: r.last_signed_in_at,
      }));
    },
  };
}
