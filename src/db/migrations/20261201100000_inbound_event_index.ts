import type { Knex } from 'knex';

/**
 * What the pending-event sweep reads: events not yet applied, oldest first. With this index it
 * reads only those, however many applied events the table holds.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('inbound_events', (t) => {
    t.index(['processed_at', 'id'], 'inbound_events_pending');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('inbound_events', (t) => {
    t.dropIndex(['processed_at', 'id'], 'inbound_events_pending');
  });
}
