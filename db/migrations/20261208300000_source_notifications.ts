import type { Knex } from 'knex';

// Sources that notify (Twilio, 46elks) instead of being polled. A notification is written here, with
// its source_items row, before the platform gets its 202: a process killed after the 202 still fetches
// the recording after restart. The item's state (seen → taking → taken → deleted) stays in
// source_items; this table holds what is needed to fetch it and the retry schedule. No number is ever
// stored: 46elks sends the caller's number, kept only as its caller key; Twilio's is looked up at fetch.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('source_notifications', (t) => {
    t.string('source', 64).notNullable().comment('the configured source name');
    t.string('item_id', 64).notNullable().comment("the platform's recording id (Twilio RE…, 46elks call id); the source_items key");
    t.string('call_id', 128).notNullable().comment("the platform's call id (Twilio CA…, 46elks call id)");
    t.text('media_url').notNullable().comment('the notified audio URL (checked against the allowed hosts when fetched); never holds a number');
    t.string('caller_key', 64).nullable().comment("HMAC of the caller's E.164 number when the notification carries it (46elks); null until looked up (Twilio)");
    t.string('started_at', 30).nullable().comment('the call start when the notification gives it');
    t.string('ended_at', 30).nullable().comment('the call end when the notification gives it');
    t.integer('attempts').notNullable().defaultTo(0).comment('failed fetch attempts so far');
    t.string('next_attempt_at', 30).notNullable().comment('not fetched again before this (backoff after failures)');
    t.string('last_error', 64).nullable().comment('the code of the last failure (media-unreachable, …), never a URL');
    t.string('received_at', 30).notNullable();
    t.primary(['source', 'item_id']);
    t.index(['source', 'next_attempt_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('source_notifications');
}
