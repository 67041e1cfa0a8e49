import type { Knex } from 'knex';

// An after-the-fact opt-out of a call may be narrowed to one source's recording of that call id (call ids
// are unique per source only). recording_source null: every source's recording. One opt-out per call id
// and scope: the unique index treats null as its own value (COALESCE), which both databases index.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('call_opt_outs', (t) => {
    t.string('recording_source', 64).nullable().comment("the one source whose recording of the call is opted out; null: every source's");
  });
  await knex.schema.alterTable('call_opt_outs', (t) => {
    t.dropUnique(['call_id']);
    t.index(['call_id'], 'call_opt_outs_call_id_index');
  });
  await knex.raw("CREATE UNIQUE INDEX call_opt_outs_call_scope_unique ON call_opt_outs (call_id, COALESCE(recording_source, ''))");
}

export async function down(knex: Knex): Promise<void> {
  // Only possible while no call id has two opt-outs, which is what the old schema promised.
  await knex.raw('DROP INDEX call_opt_outs_call_scope_unique');
  await knex.schema.alterTable('call_opt_outs', (t) => {
    t.dropIndex(['call_id'], 'call_opt_outs_call_id_index');
    t.unique(['call_id']);
  });
  await knex.schema.alterTable('call_opt_outs', (t) => {
    t.dropColumn('recording_source');
  });
}
