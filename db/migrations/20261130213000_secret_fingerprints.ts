import type { Knex } from 'knex';

// What the instances sharing this database hold as secrets, without holding them: an HMAC of a constant
// keyed with each secret. An instance started with another caller-key secret would match no opt-out,
// one with other webhook secrets would refuse the phone system's calls: both refuse to start instead.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('secret_fingerprints', (t) => {
    t.string('variable', 64).notNullable().comment('the configuration variable, e.g. CALLER_KEY_SECRET or WEBHOOK_SECRETS');
    t.string('fingerprint', 64).notNullable().comment('hex HMAC-SHA256 keyed with the secret over a constant naming the variable; never the secret');
    t.string('registered_at', 30).notNullable().comment('when an instance first started with it (ISO-8601 UTC)');
    t.primary(['variable', 'fingerprint']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('secret_fingerprints');
}
