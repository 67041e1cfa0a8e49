import type { Knex } from 'knex';

// Times are ISO-8601 UTC strings with milliseconds ("2026-11-23T09:00:00.000Z"): identical on SQLite and
// PostgreSQL, and they sort correctly as text.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('recordings', (t) => {
    t.string('id', 36).primary().comment('server-made uuid; also the last segment of storage_key');
    t.string('call_id', 128).notNullable().unique().comment("the phone system's id of the call");
    t.string('started_at', 30).notNullable();
    t.string('ended_at', 30).notNullable();
    t.string('queue', 64).nullable();
    t.string('agent_id', 64).nullable();
    t.string('caller_key', 64).nullable().comment('HMAC-SHA256 of the E.164 number; never the number; null when withheld or deleted');
    t.string('storage_key', 200).nullable().comment('null for a call that was discarded and never stored');
    t.string('content_type', 100).nullable();
    t.bigInteger('bytes').nullable();
    t.string('sha256', 64).nullable();
    t.integer('duration_ms').nullable();
    t.string('status', 16).notNullable().comment('stored | deleted | discarded');
    t.string('reason', 64).nullable().comment('why it was deleted or discarded');
    t.string('deadline', 30).notNullable().comment('started_at + retention: the moment it must be gone');
    t.string('deleted_at', 30).nullable();
    t.string('created_at', 30).notNullable();
    t.string('updated_at', 30).notNullable();
    t.index(['status', 'deadline']);
    t.index(['caller_key']);
    t.index(['started_at']);
  });

  await knex.schema.createTable('audit_entries', (t) => {
    t.bigInteger('seq').primary().comment('1, 2, 3 … without gaps');
    t.string('at', 30).notNullable();
    t.string('actor', 200).notNullable();
    t.string('action', 64).notNullable();
    t.string('subject', 200).nullable();
    t.text('details').notNullable().comment('canonical JSON object');
    t.string('prev_hash', 64).notNullable();
    t.string('hash', 64).notNullable();
    t.index(['action']);
    t.index(['subject']);
    t.index(['at']);
  });

  await knex.schema.createTable('access_tokens', (t) => {
    t.string('id', 32).primary();
    t.string('name', 200).notNullable();
    t.string('role', 32).notNullable();
    t.string('token_hash', 64).notNullable().unique().comment('SHA-256 of the token; the token itself is shown once');
    t.string('created_at', 30).notNullable();
    t.string('revoked_at', 30).nullable();
    t.string('last_used_at', 30).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('access_tokens');
  await knex.schema.dropTable('audit_entries');
  await knex.schema.dropTable('recordings');
}
