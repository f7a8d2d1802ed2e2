import type { Knex } from 'knex';
import { codeColumnType } from '../column-types.js';

/**
 * Order money (README "Order money and tax"): per line the discount and tax, per order the
 * shipping, the order-level discount, the tax, whether prices include tax and the channel's own
 * total; tax rates per tax zone and SKU tax class; the tax class of a SKU, the tax zone of a
 * customer and of a channel, and whether a channel's prices include tax. Amounts are integer minor
 * units of the order's currency, like `unit_price` and `total_amount`.
 */

/** SQLite rebuilds tables to drop columns, with foreign keys off, which it only allows outside a transaction. */
export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  const code = await codeColumnType(knex, 64);
  const time = knex.client.config.client === 'mysql2' ? 'DATETIME(3)' : 'TEXT';
  await knex.schema.alterTable('order_lines', (t) => {
    t.bigInteger('discount_amount').notNullable().defaultTo(0);
    t.bigInteger('tax_amount').notNullable().defaultTo(0);
  });
  await knex.schema.alterTable('orders', (t) => {
    t.bigInteger('shipping_amount').notNullable().defaultTo(0);
    t.bigInteger('discount_amount').notNullable().defaultTo(0);
    t.bigInteger('tax_amount').notNullable().defaultTo(0);
    t.boolean('prices_include_tax').notNullable().defaultTo(false);
    // What the channel says the order's total is; null when it says nothing (API, Excel).
    t.bigInteger('channel_total').nullable();
  });
  await knex.schema.alterTable('skus', (t) => {
    t.specificType('tax_class', code).notNullable().defaultTo('standard');
  });
  await knex.schema.alterTable('customers', (t) => {
    t.specificType('tax_zone', code).nullable();
  });
  await knex.schema.alterTable('channels', (t) => {
    t.specificType('tax_zone', code).nullable();
    t.boolean('prices_include_tax').notNullable().defaultTo(false);
  });
  await knex.schema.createTable('tax_rates', (t) => {
    t.specificType('tax_zone', code).notNullable();
    t.specificType('tax_class', code).notNullable();
    // Basis points: 1300 is 13 %.
    t.integer('rate_bp').notNullable();
    t.specificType('created_at', time).notNullable();
    t.specificType('updated_at', time).notNullable();
    t.primary(['tax_zone', 'tax_class']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('tax_rates');
  await knex.schema.alterTable('channels', (t) => {
    t.dropColumn('tax_zone');
    t.dropColumn('prices_include_tax');
  });
  await knex.schema.alterTable('customers', (t) => t.dropColumn('tax_zone'));
  await knex.schema.alterTable('skus', (t) => t.dropColumn('tax_class'));
  await knex.schema.alterTable('orders', (t) => {
    for (const c of [
      'shipping_amount',
      'discount_amount',
      'tax_amount',
      'prices_include_tax',
      'channel_total',
    ])
      t.dropColumn(c);
  });
  await knex.schema.alterTable('order_lines', (t) => {
    t.dropColumn('discount_amount');
    t.dropColumn('tax_amount');
  });
}
