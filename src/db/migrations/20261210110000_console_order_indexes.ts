import type { Knex } from 'knex';

/**
 * The console's order search (and `GET /api/orders`) filters by channel or by external id alone,
 * newest first by id: `(channel, id)` serves a channel's page without sorting, and `external_id`
 * finds an order by its id at a channel without scanning every order (the unique key starts with
 * the channel). Status, customer and the day placed have their indexes already.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('orders', (t) => {
    t.index(['channel', 'id'], 'orders_channel_id_index');
    t.index(['external_id'], 'orders_external_id_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('orders', (t) => {
    t.dropIndex(['channel', 'id'], 'orders_channel_id_index');
    t.dropIndex(['external_id'], 'orders_external_id_index');
  });
}
