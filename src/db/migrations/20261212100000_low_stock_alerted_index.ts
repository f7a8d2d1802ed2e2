import type { Knex } from 'knex';

/**
 * The console's current low-stock list and the dashboard's count read the (SKU, warehouse) pairs the
 * low-stock watch has marked `alerted`, in (SKU, warehouse) order: an index on
 * (alerted, sku_id, warehouse_id) makes both a range of the index.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('low_stock_state', (t) => {
    t.index(['alerted', 'sku_id', 'warehouse_id'], 'low_stock_state_alerted_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('low_stock_state', (t) => {
    t.dropIndex(['alerted', 'sku_id', 'warehouse_id'], 'low_stock_state_alerted_index');
  });
}
