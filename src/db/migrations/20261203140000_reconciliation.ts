import type { Knex } from 'knex';

/**
 * Nightly reconciliation (issue 15, README "Reconciliation (对账)"): each run of a business day
 * (`period`, YYYY-MM-DD) and what it found. A finding is one per (period, finding_key), where the key
 * is its kind and subject (`order.missing_here:shopify:3:1001`): a rerun of the period finds the
 * same rows again (`last_run_id` moves on) instead of adding new ones. `healed_run_id` is set by a
 * guarded update before the heal is made, so a heal is made once, by the run that claimed it.
 *
 * `channels.reconcile_cancel`: whether reconciliation cancels our open order when the channel has
 * cancelled it (else it reports the difference).
 */
export async function up(knex: Knex): Promise<void> {
  const isMysql = knex.client.config.client === 'mysql2';
  const time = (t: Knex.CreateTableBuilder, name: string) =>
    t.specificType(name, isMysql ? 'DATETIME(3)' : 'TEXT');

  await knex.schema.createTable('reconciliation_runs', (t) => {
    t.bigIncrements('id').primary();
    // The business day reconciled, YYYY-MM-DD.
    t.string('period', 10).notNullable();
    // The instants compared: the day, started earlier by the overlap window.
    time(t, 'window_from').notNullable();
    time(t, 'window_to').notNullable();
    // job | cli | api
    t.string('triggered_by', 16).notNullable();
    // running | succeeded | failed
    t.string('status', 16).notNullable();
    // JSON: figures of the run (orders compared per channel, findings, heals).
    t.text('counts').nullable();
    t.text('error').nullable();
    time(t, 'started_at').notNullable();
    time(t, 'finished_at').nullable();
    t.index(['period', 'id']);
  });

  await knex.schema.createTable('reconciliation_findings', (t) => {
    t.bigIncrements('id').primary();
    t.string('period', 10).notNullable();
    // Kind and subject: stable over reruns of the period.
    t.string('finding_key', 191).notNullable();
    t.string('kind', 48).notNullable();
    // info | warning | error
    t.string('severity', 16).notNullable();
    // The channel (`shopify:3`) or `internal`.
    t.string('source', 64).notNullable();
    // What it is about, as people read it: an order's external id, a SKU, an invoice number.
    t.string('subject', 191).notNullable();
    // JSON: the figures on our side and on the other side.
    t.text('ours').nullable();
    t.text('theirs').nullable();
    t.string('message', 500).notNullable();
    // open | healed | acknowledged | resolved
    t.string('state', 16).notNullable();
    // The run that first found it, and the last that found it.
    t.bigInteger('run_id').unsigned().notNullable().references('reconciliation_runs.id');
    t.bigInteger('last_run_id').unsigned().notNullable().references('reconciliation_runs.id');
    // The run that made the heal (claimed before it is made); what the heal did.
    t.bigInteger('healed_run_id').unsigned().nullable().references('reconciliation_runs.id');
    t.string('heal', 255).nullable();
    time(t, 'healed_at').nullable();
    t.string('acknowledged_by', 64).nullable();
    t.string('acknowledged_note', 1000).nullable();
    time(t, 'acknowledged_at').nullable();
    time(t, 'created_at').notNullable();
    time(t, 'updated_at').notNullable();
    t.unique(['period', 'finding_key']);
    t.index(['run_id']);
    t.index(['state', 'id']);
  });

  await knex.schema.alterTable('channels', (t) => {
    t.boolean('reconcile_cancel').notNullable().defaultTo(true);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE ?? DROP COLUMN ??', ['channels', 'reconcile_cancel']);
  await knex.schema.dropTable('reconciliation_findings');
  await knex.schema.dropTable('reconciliation_runs');
}
