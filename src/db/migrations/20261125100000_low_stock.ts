import type { Knex } from 'knex';

/**
 * Reorder points (per SKU, optionally per warehouse), the low-stock alert state per SKU and
 * warehouse, the alerts raised, and stock warnings recorded on orders.
 */
export async function up(knex: Knex): Promise<void> {
  const time = (t: Knex.CreateTableBuilder, name: string) =>
    t.specificType(name, knex.client.config.client === 'mysql2' ? 'DATETIME(3)' : 'TEXT');

  await knex.schema.alterTable('skus', (t) => {
    t.integer('reorder_point').nullable();
  });
  await knex.schema.alterTable('stock_levels', (t) => {
    t.integer('reorder_point').nullable();
  });
  await knex.schema.alterTable('orders', (t) => {
    // Stock warnings noted while the order was processed (JSON), e.g. low stock after reserving.
    t.text('warnings').nullable();
  });
  // One row per watched (SKU, warehouse); warehouse_id 0 is the SKU as a whole.
  await knex.schema.createTable('low_stock_state', (t) => {
    t.integer('sku_id').unsigned().notNullable();
    t.integer('warehouse_id').unsigned().notNullable();
    t.boolean('alerted').notNullable().defaultTo(false);
    time(t, 'updated_at').notNullable();
    t.primary(['sku_id', 'warehouse_id']);
  });
  await knex.schema.createTable('stock_alerts', (t) => {
    t.bigIncrements('id').primary();
    t.string('kind', 32).notNullable();
    t.integer('sku_id').unsigned().notNullable();
    t.integer('warehouse_id').unsigned().nullable();
    t.integer('available').notNullable();
    t.integer('reorder_point').notNullable();
    time(t, 'created_at').notNullable();
    t.index(['sku_id', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('stock_alerts');
  await knex.schema.dropTableIfExists('low_stock_state');
  // Plain ALTER TABLE ... DROP COLUMN: both MySQL/MariaDB and SQLite (3.35+) do it in place, where
  // knex's SQLite emulation would rebuild tables that other tables reference.
  const columns: [string, string][] = [
    ['orders', 'warnings'],
    ['stock_levels', 'reorder_point'],
    ['skus', 'reorder_point'],
  ];
  for (const [table, column] of columns) {
    await knex.raw('ALTER TABLE ?? DROP COLUMN ??', [table, column]);
  }
}
