import type { Knex } from 'knex';

// The standing opt-out registry and after-the-fact opt-outs of single calls. Neither table ever holds a
// phone number: only the keyed hash (HMAC-SHA256 of the E.164 form), and not even that once removed.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('opt_outs', (t) => {
    t.string('id', 32).primary().comment('opt_<hex>; what audit entries name instead of the number');
    t.string('caller_key', 64).nullable().unique().comment('HMAC-SHA256 of the E.164 number; null once the opt-out is removed');
    t.string('source', 16).nullable().comment('ivr | agent | web | letter');
    t.string('created_at', 30).notNullable();
    t.string('created_by', 200).notNullable().comment('actor "<role>:<id>"');
    t.string('removed_at', 30).nullable().comment('set when the caller consented to recording again');
    t.string('removed_by', 200).nullable();
  });

  await knex.schema.createTable('call_opt_outs', (t) => {
    t.string('id', 32).primary().comment('cop_<hex>');
    t.string('call_id', 128).notNullable().unique().comment("the phone system's id of the call opted out after the fact");
    t.string('source', 16).nullable().comment('ivr | agent | web | letter');
    t.string('requested_at', 30).notNullable();
    t.string('requested_by', 200).notNullable().comment('actor "<role>:<id>"');
    t.string('recording_id', 36).nullable().comment('the upload it discarded when that arrived after the opt-out');
    t.string('discarded_at', 30).nullable().comment('set when the upload arrived and was discarded; null while still awaited');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('call_opt_outs');
  await knex.schema.dropTable('opt_outs');
}
