import type { Knex } from 'knex';
import { codeColumnType } from '../column-types.js';

/**
 * Sales contracts (blanket orders): a contract with a customer (number, validity, currency) and its
 * lines (SKU, contracted quantity, contract price, allowed overrun), each line with a guarded
 * `drawn` counter; `contract_draws`, the append-only ledger of draws (+) and give-backs (−) that
 * adds up to each line's `drawn`; the contract an order names (`orders.contract_number`, as it
 * came) and draws on (`orders.contract_id`), and the contract line each order line drew on; and
 * each order channel's contract default (`channel_contract_settings`). Validity dates are
 * `YYYY-MM-DD` texts in the business time zone, as price list items keep theirs.
 */
export async function up(knex: Knex): Promise<void> {
  const code = await codeColumnType(knex, 64);
  const time = (t: Knex.CreateTableBuilder, name: string) =>
    t.specificType(name, knex.client.config.client === 'mysql2' ? 'DATETIME(3)' : 'TEXT');

  await knex.schema.createTable('contracts', (t) => {
    t.increments('id').primary();
    t.specificType('number', code).notNullable().unique();
    t.integer('customer_id').unsigned().notNullable().references('customers.id');
    t.string('name', 255).nullable();
    t.string('currency', 3).notNullable();
    t.string('valid_from', 10).notNullable();
    t.string('valid_to', 10).notNullable();
    time(t, 'created_at').notNullable();
    time(t, 'updated_at').notNullable();
    t.index(['customer_id']);
  });

  await knex.schema.createTable('contract_lines', (t) => {
    t.increments('id').primary();
    t.integer('contract_id').unsigned().notNullable().references('contracts.id');
    t.integer('line_no').notNullable();
    t.specificType('sku_code', code).notNullable();
    t.integer('quantity').notNullable();
    // Contract price per unit, minor units of the contract's currency.
    t.bigInteger('price').notNullable();
    // Allowed overrun in hundredths of a percent (500 = 5 %) of the contracted quantity.
    t.integer('overrun_bp').notNullable().defaultTo(0);
    // The guarded counter: what orders have drawn, net of give-backs (the ledger's sum).
    t.integer('drawn').notNullable().defaultTo(0);
    time(t, 'updated_at').notNullable();
    t.unique(['contract_id', 'sku_code']);
  });

  await knex.schema.createTable('contract_draws', (t) => {
    t.bigIncrements('id').primary();
    t.integer('contract_line_id').unsigned().notNullable().references('contract_lines.id');
    t.integer('order_id').unsigned().notNullable();
    // No foreign key: an amended order's lines are replaced, its draws stay.
    t.integer('order_line_id').unsigned().nullable();
    // Positive: drawn; negative: given back (a cancelled order or line).
    t.integer('quantity').notNullable();
    t.bigInteger('unit_price').nullable();
    t.string('reason', 32).notNullable();
    t.string('actor', 64).notNullable();
    time(t, 'created_at').notNullable();
    t.index(['contract_line_id']);
    t.index(['order_id']);
  });

  await knex.schema.createTable('channel_contract_settings', (t) => {
    // The order channel as orders name it: `api`, `excel`, `shopify:3`.
    t.string('channel', 64).primary();
    // `only_active`: an order naming no contract draws on its customer's only active contract.
    t.string('contract_default', 16).notNullable();
    time(t, 'updated_at').notNullable();
  });

  await knex.schema.alterTable('orders', (t) => {
    t.specificType('contract_number', code).nullable();
    t.integer('contract_id').unsigned().nullable();
  });
  await knex.schema.alterTable('order_lines', (t) => {
    t.integer('contract_line_id').unsigned().nullable();
    t.index(['contract_line_id'], 'order_lines_contract_line_id_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  // ALTER TABLE … DROP COLUMN, as both databases have it (knex's SQLite way rebuilds the table).
  await knex.schema.alterTable('order_lines', (t) => {
    t.dropIndex(['contract_line_id'], 'order_lines_contract_line_id_index');
  });
  await knex.raw('ALTER TABLE ?? DROP COLUMN ??', ['order_lines', 'contract_line_id']);
  for (const column of ['contract_number', 'contract_id'])
    await knex.raw('ALTER TABLE ?? DROP COLUMN ??', ['orders', column]);
  await knex.schema.dropTable('channel_contract_settings');
  await knex.schema.dropTable('contract_draws');
  await knex.schema.dropTable('contract_lines');
  await knex.schema.dropTable('contracts');
}
