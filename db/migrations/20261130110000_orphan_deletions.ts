import type { Knex } from 'knex';

// Orphan deletions are written ahead: a row here before the object (or crash leftover) is deleted,
// removed in the transaction that appends the deletion's audit entry. A row left by a crash is finished
// by the next sweep, so every orphan deletion ends with exactly one `recording.orphan-deleted` entry.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('orphan_deletions', (t) => {
    t.string('target', 1024).primary().comment("what the store removes: an object key, or a leftover's id (temp file, lone sidecar, multipart upload)");
    t.string('kind', 32).notNullable().comment('object | temp-file | sidecar | multipart-upload');
    t.string('storage_key', 200).nullable().comment('the object key it belongs to, where known');
    t.string('last_modified', 30).notNullable().comment("the store's time of the target, as the sweep saw it");
    t.string('recorded_at', 30).notNullable().comment('when the sweep decided to delete it');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('orphan_deletions');
}
