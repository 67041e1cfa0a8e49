import type { Knex } from 'knex';

// /readyz writes one row here on every probe: a database that cannot take a write (disk full,
// read-only, locked for good) is not ready even while it still answers reads.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('heartbeats', (t) => {
    t.string('name', 32).primary().comment('what writes the row, e.g. "readyz"');
    t.string('at', 30).notNullable().comment('when it last wrote it (ISO 8601, UTC)');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('heartbeats');
}
