import type { Knex } from 'knex';

// Browser sessions opened with an access token. Only the SHA-256 of the cookie value is kept, so a
// copy of the database cannot be replayed as a cookie.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('sessions', (t) => {
    t.string('id', 32).primary().comment('ses_… — names the session in the audit log; not the secret');
    t.string('secret_hash', 64).notNullable().unique().comment('SHA-256 of the cookie value');
    t.string('token_id', 32).notNullable().comment('the access token it was opened with; revoking that ends the session');
    t.string('created_at', 30).notNullable();
    t.string('expires_at', 30).notNullable();
    t.string('closed_at', 30).nullable();
    t.index(['token_id']);
    t.index(['expires_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('sessions');
}
