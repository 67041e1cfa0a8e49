import type { Knex } from 'knex';

// Signed chain heads. A copy of each is also written to the object store under audit-checkpoints/, so
// that deleting rows here cannot hide a truncated log.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit_checkpoints', (t) => {
    t.bigInteger('seq').primary().comment('seq of the audit entry that was the chain head');
    t.string('hash', 64).notNullable().comment('hash of that entry');
    t.string('at', 30).notNullable().comment('when the head was signed (ISO-8601 UTC)');
    t.string('signature', 200).notNullable().comment('base64 Ed25519 signature over the canonical checkpoint');
    t.string('key_id', 64).notNullable().comment('SHA-256 (hex) of the DER SubjectPublicKeyInfo of the signing key');
    t.string('object_key', 200).notNullable().comment('where the copy in the object store is');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_checkpoints');
}
