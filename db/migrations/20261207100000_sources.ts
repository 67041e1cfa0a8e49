import type { Knex } from 'knex';

// Recordings now also come from sources gallra polls (an SFTP directory, a PBX's spool folder). A call id
// is the phone system's, so it is unique per source only: two sources, a re-export or several legs of
// one call must not collide. The webhook is the source 'webhook'.
//
// source_items: one row per file a source offered, keyed by a keyed hash of its path (a FreePBX file
// name holds the caller's number, so the path itself is never stored). The row is written before the
// item is taken (the intent), carries the lease of the instance taking it, and stays until the copy at
// the source is deleted, so a crash at any step is finished by the next poll.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('recordings', (t) => {
    t.string('source', 64).notNullable().defaultTo('webhook').comment("the source the call came from: 'webhook' or a configured source's name");
  });
  await knex.schema.alterTable('recordings', (t) => {
    t.dropUnique(['call_id']);
    t.unique(['source', 'call_id'], { indexName: 'recordings_source_call_id_unique' });
    t.index(['call_id'], 'recordings_call_id_index');
  });

  await knex.schema.createTable('source_items', (t) => {
    t.string('source', 64).notNullable().comment('the configured source name');
    t.string('item_id', 64).notNullable().comment('HMAC-SHA256 of the path at the source; never the path (it may hold a number)');
    t.string('state', 16).notNullable().comment('seen | taking | taken | rejected | deleted');
    t.bigInteger('size').notNullable().comment('bytes of the audio at the last listing');
    t.bigInteger('mtime_ms').notNullable().comment('modification time at the last listing (ms since epoch)');
    t.string('seen_at', 30).notNullable().comment('when size and mtime were first seen as they are now');
    t.string('lease_owner', 64).nullable().comment('the instance taking the item');
    t.string('lease_until', 30).nullable();
    t.string('recording_id', 36).nullable().comment('the recording (stored or discarded) made from it');
    t.string('outcome', 16).nullable().comment('stored | discarded | duplicate');
    t.string('reason', 64).nullable().comment('why it was rejected (a code, never a file name)');
    t.string('masked_name', 255).nullable().comment('the file name with every digit masked (#), for the web interface; never the name itself');
    t.bigInteger('bytes').nullable().comment('bytes deleted at the source (audio and sidecar)');
    t.string('taken_at', 30).nullable().comment('when the recording was committed; the copy is pending deletion from then');
    t.string('created_at', 30).notNullable();
    t.string('updated_at', 30).notNullable();
    t.primary(['source', 'item_id']);
    t.index(['source', 'state']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('source_items');
  // Only possible while no call id occurs in two sources, which is what the old schema promised.
  await knex.schema.alterTable('recordings', (t) => {
    t.dropIndex(['call_id'], 'recordings_call_id_index');
    t.dropUnique(['source', 'call_id'], 'recordings_source_call_id_unique');
    t.unique(['call_id']);
  });
  await knex.schema.alterTable('recordings', (t) => {
    t.dropColumn('source');
  });
}
