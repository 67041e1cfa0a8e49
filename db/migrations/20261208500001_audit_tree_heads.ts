import type { Knex } from 'knex';

// Signed tree heads of the audit log's Merkle tree (C2SP tlog-checkpoint notes) and the witnesses'
// cosignatures of them. A copy of each note is also written create-only to the object store under
// audit-tree-heads/. The chain-head checkpoints (audit_checkpoints) stay as they are.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit_tree_heads', (t) => {
    t.bigInteger('size').primary().comment('tree size: the entries 1..size');
    t.string('root', 64).notNullable().comment('hex RFC 9162 root hash of that tree');
    t.text('note').notNullable().comment('the C2SP signed note (checkpoint body and the log signature)');
    t.string('at', 30).notNullable().comment('when it was signed (ISO-8601 UTC)');
    t.string('object_key', 200).notNullable().comment('where the copy in the object store is');
  });
  await knex.schema.createTable('audit_cosignatures', (t) => {
    t.bigInteger('size').notNullable().comment('the tree head cosigned');
    t.string('key_id', 8).notNullable().comment('hex key id of the witness key (C2SP tlog-cosignature)');
    t.string('name', 200).notNullable().comment('the witness key name');
    t.text('line').notNullable().comment('the cosignature line, as served with the checkpoint');
    t.string('at', 30).notNullable().comment('when it was accepted (ISO-8601 UTC)');
    t.primary(['size', 'key_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_cosignatures');
  await knex.schema.dropTable('audit_tree_heads');
}
