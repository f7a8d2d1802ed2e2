import type { Knex } from 'knex';
import { outsideIdColumnType } from '../column-types.js';

/**
 * Goods coming back after they shipped (issue 14, returns): one row per return, its lines, and per
 * order line the units returned so far (never more than shipped). Restocked units go back on hand
 * through ledger rows (`stock_movements`, reason `return`).
 */
export async function up(knex: Knex): Promise<void> {
  const outsideId = await outsideIdColumnType(knex, 191);
  const time = (t: Knex.CreateTableBuilder, name: string) =>
    t.specificType(name, knex.client.config.client === 'mysql2' ? 'DATETIME(3)' : 'TEXT');
  await knex.schema.createTable('order_returns', (t) => {
    t.increments('id').primary();
    t.bigInteger('order_id').unsigned().notNullable().references('orders.id');
    // The caller's own reference (a channel's refund id, an RMA number): a repeat is the same return.
    t.specificType('reference', outsideId).nullable();
    t.string('source', 16).notNullable();
    t.boolean('restock').notNullable();
    t.string('reason', 255).nullable();
    t.string('actor', 64).notNullable();
    t.string('request_hash', 64).notNullable();
    // The credit notes the return made against invoices of its units (JSON list of numbers).
    t.text('credit_notes').nullable();
    time(t, 'created_at').notNullable();
    t.unique(['order_id', 'reference']);
  });
  await knex.schema.createTable('order_return_lines', (t) => {
    t.increments('id').primary();
    t.integer('return_id').unsigned().notNullable().references('order_returns.id');
    t.bigInteger('order_line_id').unsigned().notNullable().references('order_lines.id');
    t.integer('quantity').notNullable();
    // Where restocked units went back on hand (null: not restocked).
    t.integer('warehouse_id').unsigned().nullable().references('warehouses.id');
    t.index(['order_line_id']);
  });
  await knex.schema.alterTable('order_lines', (t) => {
    t.integer('returned').notNullable().defaultTo(0);
  });
}

export async function down(knex: Knex): Promise<void> {
  // ALTER TABLE … DROP COLUMN, as both databases have it: knex's SQLite way rebuilds the table,
  // which its foreign keys refuse inside the migration's transaction.
  await knex.raw('ALTER TABLE ?? DROP COLUMN ??', ['order_lines', 'returned']);
  await knex.schema.dropTable('order_return_lines');
  await knex.schema.dropTable('order_returns');
}
