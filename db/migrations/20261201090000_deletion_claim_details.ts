import type { Knex } from 'knex';

// A deletion that claimed a recording but could not finish (the store was out, the process crashed) is
// finished later, by another path (the next retention run, a retry). Its audit entry must still say who
// asked for it and why, with the same details (the opt-out, the data-subject request) the first
// attempt would have written: the claim keeps them.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('recordings', (t) => {
    t.string('deletion_actor', 200).nullable().comment('who the claiming deletion acted for (an actor id, never a person\'s number)');
    t.text('deletion_details').nullable().comment('JSON: the details the claiming deletion audits (callOptOutId, requestId, …), kept for the path that finishes it');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('recordings', (t) => {
    t.dropColumn('deletion_details');
    t.dropColumn('deletion_actor');
  });
}
