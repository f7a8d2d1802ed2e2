import type { Knex } from 'knex';

/**
 * One row per scheduled job and period (`job_runs`): the unique (job, period) is what makes
 * several schedulers side by side start a period once. A forced rerun is a new run of the same
 * row (`run` + 1, the earlier run kept in `history`).
 */
export async function up(knex: Knex): Promise<void> {
  const time = (t: Knex.CreateTableBuilder, name: string) =>
    t.specificType(name, knex.client.config.client === 'mysql2' ? 'DATETIME(3)' : 'TEXT');
  await knex.schema.createTable('job_runs', (t) => {
    t.increments('id').primary();
    t.string('job', 64).notNullable();
    // `2026-11-30`, `2026-11`, `202611241017`, `20261124101704`.
    t.string('period', 32).notNullable();
    // queued | running | succeeded | failed
    t.string('status', 16).notNullable();
    // 1, then + 1 for each forced rerun.
    t.integer('run').notNullable().defaultTo(1);
    // Attempts made, over every run.
    t.integer('attempts').notNullable().defaultTo(0);
    // schedule | catch-up | api | cli
    t.string('triggered_by', 16).notNullable();
    t.string('queue_job_id', 128).nullable();
    // The run's folder, relative to STOCKBRIDGE_OUTPUT_DIR (`invoicing/2026-11-30`).
    t.string('output_dir', 255).nullable();
    t.text('counts').nullable();
    t.text('files').nullable();
    t.text('result').nullable();
    t.text('error').nullable();
    // Earlier runs of this job and period (JSON list), newest last.
    t.text('history').nullable();
    time(t, 'queued_at').notNullable();
    time(t, 'started_at').nullable();
    time(t, 'finished_at').nullable();
    time(t, 'updated_at').notNullable();
    t.unique(['job', 'period']);
    t.index(['status', 'id']);
    t.index(['job', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('job_runs');
}
