import type { Knex } from 'knex';

// Times are ISO-8601 UTC strings with milliseconds, as in every other table: they compare correctly as text.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('holds', (t) => {
    t.string('id', 40).primary().comment('hold_<uuid>');
    t.string('recording_id', 36).notNullable().references('id').inTable('recordings');
    t.string('reason', 500).notNullable().comment('why processing is restricted, e.g. a pending public-records request');
    t.string('until', 30).nullable().comment('the hold lapses at this moment; null: until released');
    t.string('placed_at', 30).notNullable();
    t.string('placed_by', 200).notNullable().comment('actor "<role>:<id>"');
    t.string('released_at', 30).nullable();
    t.string('released_by', 200).nullable();
    t.string('lapsed_at', 30).nullable().comment('set by the retention job once until has passed');
    t.index(['recording_id']);
    t.index(['released_at', 'lapsed_at']);
  });

  await knex.schema.createTable('job_leases', (t) => {
    t.string('name', 64).primary().comment('one row per job: whoever holds an unexpired lease runs it');
    t.string('holder', 64).notNullable().comment('random per acquisition, so only that holder renews or releases');
    t.string('acquired_at', 30).notNullable();
    t.string('expires_at', 30).notNullable().comment('renewed while the run lasts; a crashed holder loses it here');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('job_leases');
  await knex.schema.dropTable('holds');
}
