import type { Knex } from 'knex';
import { codeColumnType, outsideIdColumnType } from '../column-types.js';

/**
 * Transfers between the group's companies (集团内部调拨). A warehouse row of `kind = 'in_transit'`,
 * one per receiving company, holds the stock on its way (ledger rows like any warehouse, never
 * allocated to orders nor published to channels). `transfers` and `transfer_lines` carry what was
 * sent, what has been received and the transfer price; `transfer_receipts` makes each receipt count
 * once; `intra_group_sales` is the sending company's side: a sale to the receiving company that
 * invoicing invoices like any sale (its lines are the transfer's lines, quantities sent).
 */
export async function up(knex: Knex): Promise<void> {
  const code = await codeColumnType(knex, 64);
  const ref = await outsideIdColumnType(knex, 191);
  const time = (t: Knex.CreateTableBuilder, name: string) =>
    t.specificType(name, knex.client.config.client === 'mysql2' ? 'DATETIME(3)' : 'TEXT');

  await knex.schema.alterTable('warehouses', (t) => {
    // `warehouse` (stock that sells) or `in_transit` (stock between two companies of the group).
    t.string('kind', 16).notNullable().defaultTo('warehouse');
  });
  await knex.schema.alterTable('companies', (t) => {
    // The price list transfers to this company are priced at, unless a transfer names another
    // (no foreign key, so that rolling back can drop the column on SQLite too; deleting a price
    // list clears it, see src/customers/price-lists.ts).
    t.integer('transfer_price_list_id').unsigned().nullable();
  });

  await knex.schema.createTable('transfers', (t) => {
    t.increments('id').primary();
    t.specificType('ref', ref).notNullable().unique();
    t.integer('from_warehouse_id').unsigned().notNullable().references('warehouses.id');
    t.integer('to_warehouse_id').unsigned().notNullable().references('warehouses.id');
    t.integer('transit_warehouse_id').unsigned().notNullable().references('warehouses.id');
    t.integer('seller_company_id').unsigned().notNullable().references('companies.id');
    t.integer('buyer_company_id').unsigned().notNullable().references('companies.id');
    t.integer('price_list_id').unsigned().notNullable().references('price_lists.id');
    t.string('currency', 3).notNullable();
    t.string('payload_hash', 64).notNullable();
    time(t, 'created_at').notNullable();
    time(t, 'updated_at').notNullable();
  });

  await knex.schema.createTable('transfer_lines', (t) => {
    t.integer('transfer_id').unsigned().notNullable().references('transfers.id');
    t.integer('line_no').notNullable();
    t.integer('sku_id').unsigned().notNullable().references('skus.id');
    t.specificType('sku_code', code).notNullable();
    t.integer('sent').notNullable();
    t.integer('received').notNullable().defaultTo(0);
    t.bigInteger('unit_price').notNullable();
    t.string('currency', 3).notNullable();
    // The price list item the price came from.
    t.integer('price_item_id').unsigned().nullable();
    t.primary(['transfer_id', 'line_no']);
    t.unique(['transfer_id', 'sku_id']);
    t.check('?? >= 0 AND ?? <= ??', ['received', 'received', 'sent'], 'transfer_lines_received');
  });

  await knex.schema.createTable('transfer_receipts', (t) => {
    t.increments('id').primary();
    t.integer('transfer_id').unsigned().notNullable().references('transfers.id');
    t.specificType('receipt_ref', ref).notNullable();
    t.string('payload_hash', 64).notNullable();
    // What this receipt moved: [{sku, quantity}].
    t.text('lines').notNullable();
    time(t, 'created_at').notNullable();
    t.unique(['transfer_id', 'receipt_ref']);
  });

  await knex.schema.createTable('intra_group_sales', (t) => {
    t.increments('id').primary();
    t.integer('transfer_id').unsigned().notNullable().unique().references('transfers.id');
    t.integer('seller_company_id').unsigned().notNullable().references('companies.id');
    t.integer('buyer_company_id').unsigned().notNullable().references('companies.id');
    t.string('currency', 3).notNullable();
    t.bigInteger('total_amount').notNullable();
    // Set by invoicing when it has invoiced the sale (null: not yet).
    t.integer('invoice_id').unsigned().nullable();
    time(t, 'created_at').notNullable();
    t.index(['seller_company_id', 'invoice_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('intra_group_sales');
  await knex.schema.dropTable('transfer_receipts');
  await knex.schema.dropTable('transfer_lines');
  await knex.schema.dropTable('transfers');
  // In-transit locations and their stock go with the column that marks them.
  const transit = knex('warehouses').where({ kind: 'in_transit' }).select('id');
  await knex('stock_movements').whereIn('warehouse_id', transit).delete();
  await knex('stock_levels')
    .whereIn('warehouse_id', knex('warehouses').where({ kind: 'in_transit' }).select('id'))
    .delete();
  await knex('warehouses').where({ kind: 'in_transit' }).delete();
  // ALTER TABLE … DROP COLUMN, as both databases have it: knex's SQLite way rebuilds the table,
  // which its foreign keys refuse inside the migration's transaction.
  await knex.raw('ALTER TABLE ?? DROP COLUMN ??', ['companies', 'transfer_price_list_id']);
  await knex.raw('ALTER TABLE ?? DROP COLUMN ??', ['warehouses', 'kind']);
}
