import type { Knex } from 'knex';

/**
 * Reports (issue 15, README "Reports"): what a SKU costs us (`skus.unit_cost` in minor units of
 * `skus.cost_currency`; null: not known), for the value at cost of slow movers, set through the SKU
 * API; and the indexes the reports read by: orders by the time they were placed, a SKU's ledger
 * rows in a warehouse by time, and credit notes by the invoice they credit (SQLite only: on MySQL
 * the column's foreign key has its index).
 */

/** SQLite rebuilds tables to drop columns, with foreign keys off, which it only allows outside a transaction. */
export const config = { transaction: false };

const isMysql = (knex: Knex) => knex.client.config.client === 'mysql2';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('skus', (t) => {
    t.bigInteger('unit_cost').nullable();
    t.string('cost_currency', 3).nullable();
  });
  await knex.schema.alterTable('orders', (t) => {
    t.index(['placed_at'], 'orders_placed_at_index');
  });
  await knex.schema.alterTable('stock_movements', (t) => {
    t.index(['sku_id', 'warehouse_id', 'created_at'], 'stock_movements_sku_warehouse_time_index');
  });
  // MySQL indexes a foreign key's column already (invoices.credits_invoice_id has one); SQLite does not.
  if (!isMysql(knex))
    await knex.schema.alterTable('invoices', (t) => {
      t.index(['credits_invoice_id'], 'invoices_credits_invoice_id_report_index');
    });
}

export async function down(knex: Knex): Promise<void> {
  if (!isMysql(knex))
    await knex.schema.alterTable('invoices', (t) => {
      t.dropIndex(['credits_invoice_id'], 'invoices_credits_invoice_id_report_index');
    });
  await knex.schema.alterTable('stock_movements', (t) => {
    t.dropIndex(['sku_id', 'warehouse_id', 'created_at'], 'stock_movements_sku_warehouse_time_index');
  });
  await knex.schema.alterTable('orders', (t) => {
    t.dropIndex(['placed_at'], 'orders_placed_at_index');
  });
  for (const column of ['unit_cost', 'cost_currency'])
    await knex.raw('ALTER TABLE ?? DROP COLUMN ??', ['skus', column]);
}
