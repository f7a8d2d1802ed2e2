import type { Knex } from 'knex';
import { codeColumnType } from '../column-types.js';

/**
 * Price lists (一客一价): lists with their items (fixed prices, or a percentage of another list),
 * who a list applies to (a customer, a customer group, or everyone), what each order line was
 * checked against, and each channel's price policy. Dates of validity are `YYYY-MM-DD` texts in the
 * business time zone (compared as text, the same on MySQL/MariaDB and SQLite).
 */
export async function up(knex: Knex): Promise<void> {
  const code = await codeColumnType(knex, 64);
  const time = (t: Knex.CreateTableBuilder, name: string) =>
    t.specificType(name, knex.client.config.client === 'mysql2' ? 'DATETIME(3)' : 'TEXT');

  // Shared with the customers' migration: whichever runs first adds it.
  if (!(await knex.schema.hasColumn('customers', 'customer_group')))
    await knex.schema.alterTable('customers', (t) => {
      t.specificType('customer_group', code).notNullable().defaultTo('default');
    });

  await knex.schema.createTable('price_lists', (t) => {
    t.increments('id').primary();
    t.specificType('code', code).notNullable().unique();
    t.string('name', 255).notNullable();
    t.string('currency', 3).notNullable();
    time(t, 'created_at').notNullable();
    time(t, 'updated_at').notNullable();
  });

  await knex.schema.createTable('price_list_items', (t) => {
    t.increments('id').primary();
    t.integer('price_list_id').unsigned().notNullable().references('price_lists.id');
    t.specificType('sku_code', code).notNullable();
    t.integer('min_quantity').notNullable().defaultTo(1);
    t.string('valid_from', 10).nullable();
    t.string('valid_to', 10).nullable();
    // Either a fixed price, or a percentage (in hundredths of a percent) of another list's price.
    t.bigInteger('price').nullable();
    t.integer('percent_bp').nullable();
    t.integer('based_on_list_id').unsigned().nullable().references('price_lists.id');
    time(t, 'updated_at').notNullable();
    t.index(['sku_code', 'price_list_id']);
    t.index(['price_list_id', 'sku_code']);
  });

  await knex.schema.createTable('price_list_assignments', (t) => {
    t.increments('id').primary();
    t.integer('price_list_id').unsigned().notNullable().references('price_lists.id');
    // customer (target: customer code), group (target: group code) or default (target: '').
    t.string('kind', 16).notNullable();
    t.specificType('target', code).notNullable();
    time(t, 'created_at').notNullable();
    t.unique(['kind', 'target', 'price_list_id']);
    t.index(['price_list_id']);
  });

  await knex.schema.alterTable('order_lines', (t) => {
    // What the order itself said (null: no price given); unit_price is what the line is sold at.
    t.bigInteger('carried_unit_price').nullable();
    t.bigInteger('checked_price').nullable();
    t.integer('price_rule_id').unsigned().nullable();
    t.bigInteger('price_variance').nullable();
  });
  // Lines stored before this carried the price they have.
  await knex('order_lines').update({ carried_unit_price: knex.ref('unit_price') });

  await knex.schema.alterTable('channels', (t) => {
    // Null: the default of the channel's kind (shops accept).
    t.string('price_policy', 16).nullable();
    t.decimal('price_tolerance_percent', 7, 2).nullable();
    t.bigInteger('price_tolerance_amount').nullable();
  });
}

/** `customers.customer_group` stays: it is shared with the customers' migration, which owns it. */
export async function down(knex: Knex): Promise<void> {
  // ALTER TABLE … DROP COLUMN, as both databases have it: knex's SQLite way rebuilds the table,
  // which its foreign keys refuse inside the migration's transaction.
  const dropColumns = async (table: string, columns: string[]) => {
    for (const column of columns) await knex.raw(`ALTER TABLE ?? DROP COLUMN ??`, [table, column]);
  };
  await dropColumns('channels', ['price_policy', 'price_tolerance_percent', 'price_tolerance_amount']);
  await dropColumns('order_lines', [
    'carried_unit_price',
    'checked_price',
    'price_rule_id',
    'price_variance',
  ]);
  await knex.schema.dropTable('price_list_assignments');
  await knex.schema.dropTable('price_list_items');
  await knex.schema.dropTable('price_lists');
}
