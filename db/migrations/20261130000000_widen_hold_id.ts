import type { Knex } from 'knex';

// holds.id is "hold_" and a uuid, 41 characters: varchar(40) refused every hold on PostgreSQL (SQLite
// does not enforce lengths, so only PostgreSQL showed it).

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('holds', (t) => {
    t.string('id', 64).notNullable().alter({ alterNullable: false });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('holds', (t) => {
    t.string('id', 40).notNullable().alter({ alterNullable: false });
  });
}
