import type { Knex } from 'knex';

// Data-subject requests (GDPR art. 15, 17, 18, 21) as tracked cases. Like every other table, no phone
// number: only the keyed hash, and that only while the case is not closed. Times are ISO-8601 UTC
// strings; due dates are Stockholm calendar dates (YYYY-MM-DD) with the instant they end beside them.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('subject_requests', (t) => {
    t.string('id', 40).primary().comment('sr_<hex>; what audit entries and hold reasons name');
    t.string('kind', 16).notNullable().comment('access | restriction | erasure | objection');
    t.string('caller_key', 64).nullable().comment('HMAC-SHA256 of the E.164 number; null once the case is closed');
    t.string('status', 16).notNullable().comment('open | extended | answered | closed');
    t.string('reference', 100).notNullable().comment("the municipality's case number (diarienummer)");
    t.string('note', 1000).nullable();
    t.string('received_at', 30).notNullable().comment('when the request reached the municipality');
    t.string('received_date', 10).notNullable().comment('its Stockholm calendar date');
    t.string('due_date', 10).notNullable().comment('received_date + one calendar month (art. 12(3))');
    t.string('due_at', 30).notNullable().comment('the instant the due date (or the extended one) ends in Stockholm');
    t.string('extended_until', 10).nullable().comment('the new due date, at most three months after receipt');
    t.string('extension_reason', 500).nullable();
    t.string('opened_at', 30).notNullable();
    t.string('opened_by', 200).notNullable().comment('actor "<role>:<id>"');
    t.string('answered_at', 30).nullable();
    t.string('answered_by', 200).nullable();
    t.string('closed_at', 30).nullable();
    t.string('closed_by', 200).nullable();
    t.string('carried_out_at', 30).nullable().comment('when the restriction, erasure or objection was carried out');
    t.index(['caller_key']);
    t.index(['status', 'due_at']);
  });

  await knex.schema.createTable('subject_request_calls', (t) => {
    t.string('request_id', 40).notNullable().references('id').inTable('subject_requests');
    t.string('recording_id', 36).notNullable().comment('a recording the case acted on; kept after its caller key is gone');
    t.string('outcome', 24).notNullable().comment('deleted-on-request | held-for-request | kept-under-hold | preserved');
    t.string('at', 30).notNullable();
    t.string('hold_reason', 500).nullable().comment('for kept-under-hold: the other hold that kept it');
    t.primary(['request_id', 'recording_id', 'outcome']);
    t.index(['recording_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('subject_request_calls');
  await knex.schema.dropTable('subject_requests');
}
