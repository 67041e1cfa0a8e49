import type { Knex } from 'knex';

// Retention policies per queue (issue #29). Each change of the rules is a new row of
// retention_policy_versions (never updated but for applied_at). A recording keeps the version and the
// rule it was stored under; its deadline (recordings.deadline) is the latest one: a shortened rule
// brings it forward at the next retention run.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('retention_policy_versions', (t) => {
    t.integer('version').primary().comment('1, 2, 3, … in the order the policy changed');
    t.text('rules').notNullable().comment('the rules as JSON: [{ match: { queue }, retainDays | record: false }]');
    t.string('origin', 8).notNullable().comment('api | file | cli: where the change came from');
    t.string('changed_by', 200).notNullable().comment('the actor that made the change');
    t.string('changed_at', 30).notNullable();
    t.string('applied_at', 30).nullable().comment('when a retention run brought stored deadlines in line with it; null until then');
  });
  await knex.schema.alterTable('recordings', (t) => {
    t.integer('policy_version').nullable().comment('the retention policy version the call was received under; null: before policies, or none set');
    t.string('policy_rule', 64).nullable().comment("the rule's queue pattern that set the first deadline; null: RETENTION_DAYS");
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('recordings', (t) => {
    t.dropColumn('policy_rule');
    t.dropColumn('policy_version');
  });
  await knex.schema.dropTable('retention_policy_versions');
}
