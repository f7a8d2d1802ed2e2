import type { Knex } from 'knex';

/**
 * What the event relay reads: events not yet applied, oldest first. With this index it reads only
 * those, however many applied events the table holds. `retry_at`: when an event whose apply failed
 * (the database refused, say) is to be tried again.
 */
export async function up(knex: Knex): Promise<void> {
  const time = knex.client.config.client === 'mysql2' ? 'DATETIME(3)' : 'TEXT';
  await knex.schema.alterTable('inbound_events', (t) => {
    t.specificType('retry_at', time).nullable();
    t.index(['processed_at', 'id'], 'inbound_events_pending');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('inbound_events', (t) => {
    t.dropIndex(['processed_at', 'id'], 'inbound_events_pending');
    t.dropColumn('retry_at');
  });
}
