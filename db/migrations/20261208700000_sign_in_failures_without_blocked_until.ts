import type { Knex } from 'knex';

// Failed-credential counts are decided by rate-limiter-flexible from the failures and the window's
// start: a key is over its limit when its failures are, until its window ends. blocked_until said the
// same thing a second time.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sign_in_failures', (t) => t.dropColumn('blocked_until'));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sign_in_failures', (t) => t.string('blocked_until', 30).nullable());
}
