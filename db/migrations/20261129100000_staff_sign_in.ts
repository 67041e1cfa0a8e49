import type { Knex } from 'knex';

// Staff sign in with the municipality's OpenID Connect provider: people (users), sessions that belong
// to a person or to an access token, idle expiry, and failed sign-ins counted per account or token
// prefix in the database, so that every instance sees the same counts.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.string('id', 255).primary().comment("the provider's subject (sub); the audit log names the person user:<sub>");
    t.string('issuer', 500).notNullable().comment('the OpenID Connect issuer that vouched for the person');
    t.string('name', 200).notNullable().comment('display name from the provider, updated at each sign-in; staff data, shown to auditors');
    t.string('email', 320).nullable();
    t.string('roles', 100).notNullable().comment('comma-separated gallra roles from the last sign-in');
    t.string('created_at', 30).notNullable();
    t.string('last_signed_in_at', 30).notNullable();
  });

  await knex.schema.alterTable('sessions', (t) => {
    t.string('token_id', 32).nullable().alter();
    t.string('user_id', 255).nullable().comment('the person signed in with the identity provider; null for a token session');
    t.string('roles', 100).nullable().comment("a person's roles at sign-in; a token session takes its token's role");
    t.string('last_seen_at', 30).nullable().comment('last use, for the idle lifetime');
  });
  await knex.schema.alterTable('sessions', (t) => t.index(['user_id']));

  await knex.schema.createTable('sign_in_failures', (t) => {
    t.string('key', 64).primary().comment('SHA-256 of "account:<sub>" or "token:<prefix>": never an address, never a whole token');
    t.string('window_started_at', 30).notNullable();
    t.integer('failures').notNullable();
    t.string('blocked_until', 30).nullable();
    t.index(['window_started_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('sign_in_failures');
  // Sessions of people cannot survive without a token: they end with the rollback.
  await knex('sessions').whereNull('token_id').delete();
  await knex.schema.alterTable('sessions', (t) => t.dropIndex(['user_id']));
  await knex.schema.alterTable('sessions', (t) => {
    t.dropColumn('user_id');
    t.dropColumn('roles');
    t.dropColumn('last_seen_at');
  });
  await knex.schema.alterTable('sessions', (t) => t.string('token_id', 32).notNullable().alter());
  await knex.schema.dropTable('users');
}
