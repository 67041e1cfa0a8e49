import type { Knex } from 'knex';

// Encryption at rest (issue #27). recording_data_keys: each stored recording's data key, only ever wrapped
// by a key-encryption key (a period key or a hold key) that lives in the key store, never in this
// database. encryption_keys: which key-encryption keys exist, how many data keys each covered, and
// whether it is destroyed (so a destroyed period is never made again, and each destruction is audited once).

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('recording_data_keys', (t) => {
    t.string('storage_key', 200).primary().comment('the object the data key encrypts');
    t.string('recording_id', 36).notNullable().unique().comment('the recording (written in the same transaction)');
    t.string('key_id', 32).notNullable().unique().comment("16 bytes hex, as in the object's header");
    t.string('kek_id', 32).notNullable().index().comment('the key-encryption key it is wrapped under: period-YYYYMMDDTHH or hold-…');
    t.string('period', 32).notNullable().comment('the deadline period it was first wrapped for');
    t.binary('wrapped_key').notNullable().comment('nonce ‖ AES-256-GCM(kek, data key) ‖ tag; never the data key in clear');
    t.string('created_at', 30).notNullable();
    t.string('updated_at', 30).notNullable();
  });
  await knex.schema.createTable('encryption_keys', (t) => {
    t.string('id', 32).primary().comment('key-encryption key id in the key store');
    t.string('kind', 8).notNullable().comment('period | hold');
    t.string('period_start', 30).nullable().comment('period keys: when the period begins (the key dies before)');
    t.integer('covered').notNullable().defaultTo(0).comment('data keys ever wrapped under it');
    t.string('state', 12).notNullable().defaultTo('live').comment('live | destroying | destroyed');
    t.string('destroyed_at', 30).nullable();
    t.string('created_at', 30).notNullable();
    t.index(['state', 'period_start']);
  });
  await knex.schema.createTable('encryption_intents', (t) => {
    t.string('storage_key', 200).primary().comment('a plaintext object npm run storage:encrypt is encrypting in place');
    t.string('recording_id', 36).notNullable();
    t.string('key_id', 32).notNullable();
    t.string('kek_id', 32).notNullable();
    t.string('period', 32).notNullable();
    t.binary('wrapped_key').notNullable().comment('the data key, wrapped, durable before the encrypted object replaces the plaintext');
    t.string('created_at', 30).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('encryption_intents');
  await knex.schema.dropTable('encryption_keys');
  await knex.schema.dropTable('recording_data_keys');
}
