import type { Knex } from 'knex';

/**
 * Credit control (issue 13): the exposure counters of customers and salespeople, the append-only
 * bookings they are made of, the dated exchange rates finance maintains, the approvals log, and
 * whether an order was paid on its channel (such orders take no credit check).
 *
 * A counter row holds, in its own currency, the value of open orders not yet invoiced
 * (`open_orders`) and of unpaid invoices (`invoiced_unpaid`); each equals the sum of its bookings
 * (`credit_bookings.amount` / `sp_amount` per bucket). Billing moves amounts between the buckets
 * with src/customers/credit.ts (`moveToInvoiced`, `recordCreditPayment`).
 */
export async function up(knex: Knex): Promise<void> {
  const isMysql = knex.client.config.client === 'mysql2';
  const time = (t: Knex.CreateTableBuilder, name: string) =>
    t.specificType(name, isMysql ? 'DATETIME(3)' : 'TEXT');

  await knex.schema.createTable('exchange_rates', (t) => {
    t.increments('id').primary();
    t.string('from_currency', 3).notNullable();
    t.string('to_currency', 3).notNullable();
    // The business date (YYYY-MM-DD) from which the rate is in force.
    t.string('valid_on', 10).notNullable();
    // 1 unit of from_currency = rate_scaled / 10^8 units of to_currency, exactly.
    t.bigInteger('rate_scaled').notNullable();
    t.string('updated_by', 64).notNullable();
    time(t, 'created_at').notNullable();
    time(t, 'updated_at').notNullable();
    t.unique(['from_currency', 'to_currency', 'valid_on']);
  });

  await knex.schema.createTable('customer_credit', (t) => {
    t.integer('customer_id').unsigned().notNullable().primary().references('customers.id');
    t.string('currency', 3).notNullable();
    t.bigInteger('open_orders').notNullable().defaultTo(0);
    t.bigInteger('invoiced_unpaid').notNullable().defaultTo(0);
    time(t, 'updated_at').notNullable();
  });

  await knex.schema.createTable('salesperson_credit', (t) => {
    t.integer('salesperson_id').unsigned().notNullable().primary().references('salespeople.id');
    t.string('currency', 3).notNullable();
    t.bigInteger('open_orders').notNullable().defaultTo(0);
    t.bigInteger('invoiced_unpaid').notNullable().defaultTo(0);
    time(t, 'updated_at').notNullable();
  });

  await knex.schema.createTable('credit_bookings', (t) => {
    t.bigIncrements('id').primary();
    t.integer('customer_id').unsigned().notNullable().references('customers.id');
    t.integer('salesperson_id').unsigned().nullable().references('salespeople.id');
    t.bigInteger('order_id').unsigned().nullable().references('orders.id');
    // The invoice a billing booking belongs to (invoices come with billing; no foreign key here).
    t.bigInteger('invoice_id').nullable();
    // open_orders | invoiced_unpaid
    t.string('bucket', 16).notNullable();
    // order | amend | cancel | invoice | payment
    t.string('kind', 16).notNullable();
    // In the customer's counter currency; signed.
    t.bigInteger('amount').notNullable();
    t.string('currency', 3).notNullable();
    // In the salesperson's counter currency (null: no salesperson).
    t.bigInteger('sp_amount').nullable();
    t.string('sp_currency', 3).nullable();
    // What was converted: the amount in the order's (or invoice's) currency, and the rate used.
    t.bigInteger('source_amount').notNullable();
    t.string('source_currency', 3).notNullable();
    t.bigInteger('rate_scaled').nullable();
    t.string('rate_date', 10).nullable();
    t.string('actor', 64).notNullable();
    time(t, 'created_at').notNullable();
    t.index(['order_id']);
    t.index(['customer_id']);
    t.index(['salesperson_id']);
  });

  await knex.schema.createTable('order_approvals', (t) => {
    t.increments('id').primary();
    t.bigInteger('order_id').unsigned().notNullable().references('orders.id');
    // approved | rejected
    t.string('decision', 16).notNullable();
    t.string('hold_reason', 64).nullable();
    t.string('reason', 255).notNullable();
    t.string('actor', 64).notNullable();
    // The order's total when decided, in the order's currency: an approval covers up to this.
    t.bigInteger('amount').notNullable();
    t.string('currency', 3).notNullable();
    time(t, 'created_at').notNullable();
    t.index(['order_id']);
  });

  await knex.schema.alterTable('orders', (t) => {
    t.boolean('paid_on_channel').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  // ALTER TABLE … DROP COLUMN (MySQL, SQLite 3.35+): knex would rebuild the SQLite table instead.
  await knex.raw('ALTER TABLE ?? DROP COLUMN ??', ['orders', 'paid_on_channel']);
  await knex.schema.dropTable('order_approvals');
  await knex.schema.dropTable('credit_bookings');
  await knex.schema.dropTable('salesperson_credit');
  await knex.schema.dropTable('customer_credit');
  await knex.schema.dropTable('exchange_rates');
}
