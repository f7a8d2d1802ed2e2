import type { Knex } from 'knex';
import { codeColumnType } from '../column-types.js';

/**
 * Promotions (issue 13): the rules, the uses ledger (append-only: +1 when an order takes a
 * promotion, −1 when it is cancelled), the promotions applied to each order line (or to the order
 * as a whole), and the promotion codes an order names. `promotions.used` is the guarded counter of
 * a promotion with a usage limit: processing locks it (lock order: promotion counters after
 * contract lines, before stock rows) and it always equals the sum of the ledger's deltas.
 * Dates of validity are `YYYY-MM-DD` texts in the business time zone, as price list items.
 */
export async function up(knex: Knex): Promise<void> {
  const code = await codeColumnType(knex, 64);
  const time = (t: Knex.CreateTableBuilder, name: string) =>
    t.specificType(name, knex.client.config.client === 'mysql2' ? 'DATETIME(3)' : 'TEXT');

  await knex.schema.createTable('promotions', (t) => {
    t.increments('id').primary();
    t.specificType('code', code).notNullable().unique();
    t.string('name', 255).notNullable();
    t.boolean('active').notNullable().defaultTo(true);
    // percent | amount | buy_x_get_y; applies to a line or to the order.
    t.string('kind', 16).notNullable();
    t.string('applies_to', 8).notNullable();
    t.integer('percent_bp').nullable();
    t.bigInteger('amount').nullable();
    t.integer('buy_quantity').nullable();
    t.integer('get_quantity').nullable();
    t.string('currency', 3).nullable();
    t.bigInteger('min_order_amount').nullable();
    t.integer('min_order_quantity').nullable();
    t.string('valid_from', 10).nullable();
    t.string('valid_to', 10).nullable();
    // JSON arrays of codes; empty: no restriction.
    t.text('customers').notNullable();
    t.text('customer_groups').notNullable();
    t.text('channels').notNullable();
    t.text('skus').notNullable();
    t.boolean('requires_code').notNullable().defaultTo(false);
    t.integer('usage_limit').nullable();
    t.integer('customer_limit').nullable();
    t.integer('used').notNullable().defaultTo(0);
    time(t, 'created_at').notNullable();
    time(t, 'updated_at').notNullable();
    t.index(['active', 'valid_to']);
    // The counter's guard in the database, as stock_levels has one: never past the limit.
    t.check(
      '?? >= 0 AND (?? IS NULL OR ?? <= ??)',
      ['used', 'usage_limit', 'used', 'usage_limit'],
      'promotions_within_limit',
    );
  });

  await knex.schema.createTable('promotion_uses', (t) => {
    t.bigIncrements('id').primary();
    t.integer('promotion_id').unsigned().notNullable().references('promotions.id');
    t.integer('order_id').unsigned().notNullable();
    t.integer('customer_id').unsigned().nullable();
    // +1: the order took the promotion; −1: it gave it back (cancelled).
    t.integer('delta').notNullable();
    time(t, 'created_at').notNullable();
    t.index(['promotion_id', 'customer_id']);
    t.index(['order_id']);
  });

  await knex.schema.createTable('order_line_promotions', (t) => {
    t.bigIncrements('id').primary();
    t.integer('order_id').unsigned().notNullable();
    // Null: the promotion is on the order as a whole.
    t.integer('order_line_id').unsigned().nullable();
    t.integer('promotion_id').unsigned().notNullable().references('promotions.id');
    t.bigInteger('discount_amount').notNullable();
    t.index(['order_id']);
  });

  // The promotion codes an order names, one row each (a table of its own: no change to `orders`).
  await knex.schema.createTable('order_promotion_codes', (t) => {
    t.integer('order_id').unsigned().notNullable();
    t.specificType('code', code).notNullable();
    t.primary(['order_id', 'code']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('order_promotion_codes');
  await knex.schema.dropTable('order_line_promotions');
  await knex.schema.dropTable('promotion_uses');
  await knex.schema.dropTable('promotions');
}
