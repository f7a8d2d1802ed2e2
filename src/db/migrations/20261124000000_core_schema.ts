import type { Knex } from 'knex';

/**
 * The core: catalogue, stock with its ledger, customers, inbound events, orders with lines,
 * allocations and history, shipments, and the outbox. Times are UTC `DATETIME(3)` on MySQL
 * (text on SQLite), money is integer minor units, quantities are integers.
 */
export async function up(knex: Knex): Promise<void> {
  const time = (t: Knex.CreateTableBuilder, name: string) =>
    t.specificType(name, knex.client.config.client === 'mysql2' ? 'DATETIME(3)' : 'TEXT');

  await knex.schema.createTable('warehouses', (t) => {
    t.increments('id').primary();
    t.string('code', 64).notNullable().unique();
    t.string('name', 255).notNullable();
    t.integer('priority').notNullable().defaultTo(100);
    time(t, 'created_at').notNullable();
    time(t, 'updated_at').notNullable();
  });

  await knex.schema.createTable('skus', (t) => {
    t.increments('id').primary();
    t.string('code', 64).notNullable().unique();
    t.string('name', 255).notNullable();
    t.bigInteger('unit_price').notNullable();
    t.string('currency', 3).notNullable();
    time(t, 'created_at').notNullable();
    time(t, 'updated_at').notNullable();
  });

  await knex.schema.createTable('stock_levels', (t) => {
    t.integer('sku_id').unsigned().notNullable().references('skus.id');
    t.integer('warehouse_id').unsigned().notNullable().references('warehouses.id');
    t.integer('on_hand').notNullable().defaultTo(0);
    t.integer('reserved').notNullable().defaultTo(0);
    time(t, 'updated_at').notNullable();
    t.primary(['sku_id', 'warehouse_id']);
    t.check(
      '?? >= 0 AND ?? >= 0 AND ?? <= ??',
      ['reserved', 'on_hand', 'reserved', 'on_hand'],
      'stock_levels_no_oversell',
    );
  });

  // Append-only: every change of on_hand or reserved is one row here.
  await knex.schema.createTable('stock_movements', (t) => {
    t.bigIncrements('id').primary();
    t.integer('sku_id').unsigned().notNullable();
    t.integer('warehouse_id').unsigned().notNullable();
    t.integer('d_on_hand').notNullable();
    t.integer('d_reserved').notNullable();
    t.string('reason', 32).notNullable();
    t.string('ref_type', 32).notNullable();
    t.string('ref_id', 191).notNullable();
    time(t, 'created_at').notNullable();
    t.index(['sku_id', 'warehouse_id']);
    t.index(['ref_type', 'ref_id']);
  });

  // Receipts and adjustments, so that a retried request with the same reference counts once.
  await knex.schema.createTable('stock_documents', (t) => {
    t.increments('id').primary();
    t.string('kind', 16).notNullable();
    t.integer('warehouse_id').unsigned().notNullable().references('warehouses.id');
    t.string('reference', 191).notNullable();
    t.string('payload_hash', 64).notNullable();
    t.string('reason', 255).nullable();
    time(t, 'created_at').notNullable();
    t.unique(['kind', 'warehouse_id', 'reference']);
  });

  await knex.schema.createTable('customers', (t) => {
    t.increments('id').primary();
    t.string('code', 64).nullable().unique();
    t.string('name', 255).nullable();
    t.string('email', 255).nullable();
    time(t, 'created_at').notNullable();
    time(t, 'updated_at').notNullable();
  });

  await knex.schema.createTable('inbound_events', (t) => {
    t.bigIncrements('id').primary();
    t.string('channel', 64).notNullable();
    t.string('delivery_id', 191).notNullable();
    t.string('topic', 64).notNullable();
    t.text('payload', 'longtext').notNullable();
    t.bigInteger('order_id').unsigned().nullable();
    time(t, 'received_at').notNullable();
    time(t, 'processed_at').nullable();
    t.text('error').nullable();
    t.unique(['channel', 'delivery_id']);
    t.index(['order_id']);
  });

  await knex.schema.createTable('orders', (t) => {
    t.bigIncrements('id').primary();
    t.string('channel', 64).notNullable();
    t.string('external_id', 191).notNullable();
    t.integer('customer_id').unsigned().nullable().references('customers.id');
    t.string('status', 32).notNullable();
    t.string('hold_reason', 64).nullable();
    t.text('hold_details').nullable();
    // Problems found while normalising a channel's payload (JSON); processing holds such orders.
    t.text('intake_problems').nullable();
    t.string('currency', 3).notNullable();
    t.bigInteger('total_amount').notNullable();
    time(t, 'placed_at').notNullable();
    time(t, 'created_at').notNullable();
    time(t, 'updated_at').notNullable();
    t.unique(['channel', 'external_id']);
    t.index(['status', 'id']);
    t.index(['customer_id']);
  });

  await knex.schema.createTable('order_lines', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('order_id').unsigned().notNullable().references('orders.id');
    t.integer('line_no').notNullable();
    // The code as the channel sent it; sku_id is filled once the code is known to us.
    t.string('sku_code', 191).notNullable();
    t.integer('sku_id').unsigned().nullable();
    t.integer('ordered').notNullable();
    t.integer('reserved').notNullable().defaultTo(0);
    t.integer('backordered').notNullable().defaultTo(0);
    t.integer('shipped').notNullable().defaultTo(0);
    t.integer('cancelled').notNullable().defaultTo(0);
    t.bigInteger('unit_price').notNullable();
    t.unique(['order_id', 'line_no']);
    t.index(['sku_id', 'backordered']);
  });

  // Which warehouse holds each line's reservation, so shipping and cancelling touch the right rows.
  await knex.schema.createTable('order_allocations', (t) => {
    t.bigInteger('order_line_id').unsigned().notNullable().references('order_lines.id');
    t.integer('warehouse_id').unsigned().notNullable().references('warehouses.id');
    t.integer('reserved').notNullable().defaultTo(0);
    t.integer('shipped').notNullable().defaultTo(0);
    t.primary(['order_line_id', 'warehouse_id']);
  });

  await knex.schema.createTable('order_events', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('order_id').unsigned().notNullable().references('orders.id');
    t.string('from_status', 32).nullable();
    t.string('to_status', 32).notNullable();
    t.string('reason', 255).nullable();
    t.string('actor', 64).notNullable();
    time(t, 'created_at').notNullable();
    t.index(['order_id', 'id']);
  });

  await knex.schema.createTable('shipments', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('order_id').unsigned().notNullable().references('orders.id');
    t.string('carrier', 64).nullable();
    t.string('tracking_number', 128).nullable();
    time(t, 'created_at').notNullable();
    t.index(['order_id']);
  });

  await knex.schema.createTable('shipment_lines', (t) => {
    t.bigInteger('shipment_id').unsigned().notNullable().references('shipments.id');
    t.bigInteger('order_line_id').unsigned().notNullable().references('order_lines.id');
    t.integer('quantity').notNullable();
    t.primary(['shipment_id', 'order_line_id']);
  });

  await knex.schema.createTable('outbox', (t) => {
    t.bigIncrements('id').primary();
    t.string('topic', 64).notNullable();
    t.text('payload').notNullable();
    time(t, 'created_at').notNullable();
    time(t, 'published_at').nullable();
    t.index(['published_at', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'outbox',
    'shipment_lines',
    'shipments',
    'order_events',
    'order_allocations',
    'order_lines',
    'orders',
    'inbound_events',
    'customers',
    'stock_documents',
    'stock_movements',
    'stock_levels',
    'skus',
    'warehouses',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
