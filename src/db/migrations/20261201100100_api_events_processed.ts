import type { Knex } from 'knex';

/**
 * Data only (the schema step is the migration before): events of API and Excel orders were stored
 * without `processed_at`, though storing them stored their order. They are marked processed at the
 * time they arrived, so they stop listing as pending.
 */
export async function up(knex: Knex): Promise<void> {
  await knex('inbound_events')
    .whereNull('processed_at')
    .whereNull('kind')
    .whereNotNull('order_id')
    .update({ processed_at: knex.ref('received_at') });
}

export async function down(): Promise<void> {
  // Nothing to undo: which rows were marked here cannot be told from the others.
}
