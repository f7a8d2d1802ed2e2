import type { Knex } from 'knex';

/**
 * "Last run" of a job is the one queued last (a rerun of an old period included): the API's job list,
 * the console's jobs page and its dashboard all read it by (job, queued_at, id), from this index.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('job_runs', (t) => {
    t.index(['job', 'queued_at', 'id'], 'job_runs_job_queued_at_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('job_runs', (t) => {
    t.dropIndex(['job', 'queued_at', 'id'], 'job_runs_job_queued_at_index');
  });
}
