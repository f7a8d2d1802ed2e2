import type { Knex } from 'knex';
import { codeColumnType, outsideIdColumnType } from '../column-types.js';

/**
 * Customers as a trading company keeps them (issue 12): trade customers with their terms, contacts
 * and salesperson; salespeople; channel customers (a shop's buyer kept as `retail`, keyed by
 * channel and the channel's customer id); explicit mappings from a channel's buyer to a trade
 * customer; and the buyer's contact as it came, on the order.
 *
 * Customers created before this without a code were buyers known by e-mail: they become `retail`.
 */
export async function up(knex: Knex): Promise<void> {
  const isMysql = knex.client.config.client === 'mysql2';
  const time = (t: Knex.CreateTableBuilder, name: string) =>
    t.specificType(name, isMysql ? 'DATETIME(3)' : 'TEXT');
  const code = await codeColumnType(knex, 64);
  const outsideId = await outsideIdColumnType(knex, 191);

  await knex.schema.createTable('salespeople', (t) => {
    t.increments('id').primary();
    t.specificType('code', code).notNullable().unique();
    t.string('name', 255).notNullable();
    t.string('email', 255).nullable();
    t.bigInteger('credit_limit').nullable();
    t.string('credit_currency', 3).nullable();
    t.boolean('active').notNullable().defaultTo(true);
    time(t, 'created_at').notNullable();
    time(t, 'updated_at').notNullable();
  });

  // The prices migration adds the group too when it runs first; whichever comes first adds it.
  if (!(await knex.schema.hasColumn('customers', 'customer_group'))) {
    await knex.schema.alterTable('customers', (t) => {
      t.specificType('customer_group', code).notNullable().defaultTo('default');
    });
  }
  await knex.schema.alterTable('customers', (t) => {
    t.integer('salesperson_id').unsigned().nullable();
    t.string('currency', 3).nullable();
    t.string('language', 8).nullable();
    t.string('time_zone', 64).nullable();
    t.string('tax_id', 64).nullable();
    t.text('billing_address').nullable();
    t.text('shipping_address').nullable();
    t.integer('payment_terms_days').nullable();
    t.bigInteger('credit_limit').nullable();
    t.string('credit_currency', 3).nullable();
    t.boolean('on_hold').notNullable().defaultTo(false);
    t.string('on_hold_reason', 255).nullable();
    t.string('company', 255).nullable();
    t.text('tags').nullable();
    // A channel customer: the channel's key (`shopify:3`) and its own id for the buyer.
    t.string('channel', 64).nullable();
    t.specificType('channel_customer_id', outsideId).nullable();
    t.unique(['channel', 'channel_customer_id']);
    t.index(['salesperson_id']);
  });
  await knex('customers').whereNull('code').update({ customer_group: 'retail' });

  await knex.schema.createTable('customer_contacts', (t) => {
    t.increments('id').primary();
    t.integer('customer_id').unsigned().notNullable().references('customers.id');
    t.integer('position').notNullable();
    t.string('name', 255).nullable();
    // Lower case: a buyer's e-mail matches whatever case either side wrote it in.
    t.string('email', 255).nullable();
    t.string('phone', 64).nullable();
    t.index(['email']);
    t.unique(['customer_id', 'position']);
  });

  await knex.schema.createTable('channel_customer_map', (t) => {
    t.increments('id').primary();
    t.string('channel', 64).notNullable();
    t.specificType('channel_customer_id', outsideId).notNullable();
    t.integer('customer_id').unsigned().notNullable().references('customers.id');
    time(t, 'created_at').notNullable();
    time(t, 'updated_at').notNullable();
    t.unique(['channel', 'channel_customer_id']);
    t.index(['customer_id']);
  });

  await knex.schema.alterTable('orders', (t) => {
    // The customer code the order named, kept so that processing (again after a release) can find
    // a customer created since.
    t.specificType('customer_code', code).nullable();
    t.string('contact_name', 255).nullable();
    t.string('contact_email', 255).nullable();
    t.string('contact_phone', 64).nullable();
    t.string('contact_language', 8).nullable();
    t.string('contact_time_zone', 64).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  // Column by column with ALTER TABLE … DROP COLUMN (MySQL, SQLite 3.35+): knex would rebuild the
  // SQLite tables instead, which their foreign keys refuse.
  const drop = async (table: string, columns: readonly string[]) => {
    for (const column of columns) await knex.raw('ALTER TABLE ?? DROP COLUMN ??', [table, column]);
  };
  await drop('orders', [
    'customer_code',
    'contact_name',
    'contact_email',
    'contact_phone',
    'contact_language',
    'contact_time_zone',
  ]);
  await knex.schema.dropTable('channel_customer_map');
  await knex.schema.dropTable('customer_contacts');
  await knex.schema.alterTable('customers', (t) => {
    t.dropUnique(['channel', 'channel_customer_id']);
    t.dropIndex(['salesperson_id']);
  });
  await drop('customers', [
    'salesperson_id',
    'currency',
    'language',
    'time_zone',
    'tax_id',
    'billing_address',
    'shipping_address',
    'payment_terms_days',
    'credit_limit',
    'credit_currency',
    'on_hold',
    'on_hold_reason',
    'company',
    'tags',
    'channel',
    'channel_customer_id',
  ]);
  // customer_group stays: the price lists use it too, and its values are still meaningful.
  await knex.schema.dropTable('salespeople');
}
