import type { Knex } from 'knex';

// The deletion path claims a recording (in the transaction that checks its holds) before it removes the
// object; placing a hold locks the same row and refuses a claimed one. A claim is never withdrawn: the
// recording is deleted, by the path that claimed it or, after a crash or a store outage, by the next
// retention run, so no hold can slip in between the check and the object's removal.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('recordings', (t) => {
    t.string('deletion_claimed_at', 30).nullable().comment('set when a deletion checked the holds and claimed the row; no hold may be placed after it');
    t.string('deletion_reason', 64).nullable().comment('why the claiming deletion deletes it (retention, manual, caller-opted-out, …); the retention run finishes it with this reason');
    t.index(['deletion_claimed_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('recordings', (t) => {
    t.dropIndex(['deletion_claimed_at']);
  });
  await knex.schema.alterTable('recordings', (t) => {
    t.dropColumn('deletion_reason');
    t.dropColumn('deletion_claimed_at');
  });
}
