import type { Knex } from 'knex';
import { outsideIdColumnType } from '../column-types.js';

/**
 * Payments (issue 14): customer receipts, idempotent on the customer's reference, and what each
 * one settled. A receipt is applied to invoices (`payment_allocations`, in the invoice's
 * currency, which is the receipt's); what is not applied stays on account (`payments.unapplied`,
 * always `amount` minus its allocations). `invoices.paid` is the sum of an invoice's allocations;
 * an invoice is open while `total - paid - credited` is above zero, where `credited` is the sum of
 * the credit notes issued against it.
 *
 * `source` says where the receipt came from: `api`, `bank_csv` (a bank statement import; the file
 * is recorded in `payment_imports`) or `channel` (an order paid on its channel, settled when the
 * order is invoiced; `channel` and `order_id` name it).
 *
 * `customers.overdue_hold`: new orders of a customer with an invoice past its due date go on hold
 * (`overdue_invoices`), per customer.
 */
export async function up(knex: Knex): Promise<void> {
  const isMysql = knex.client.config.client === 'mysql2';
  const time = (t: Knex.CreateTableBuilder, name: string) =>
    t.specificType(name, isMysql ? 'DATETIME(3)' : 'TEXT');
  const outsideId = await outsideIdColumnType(knex, 191);

  await knex.schema.createTable('payment_imports', (t) => {
    t.increments('id').primary();
    // SHA-256 of the file: the same statement imported twice is the same import.
    t.string('file_hash', 64).notNullable().unique();
    t.string('file_name', 255).nullable();
    t.integer('rows_total').notNullable();
    t.integer('rows_recorded').notNullable();
    t.integer('rows_repeated').notNullable();
    t.integer('rows_refused').notNullable();
    // JSON list of the refused rows: row number and why.
    t.text('refusals').nullable();
    t.string('actor', 64).notNullable();
    time(t, 'created_at').notNullable();
  });

  await knex.schema.createTable('payments', (t) => {
    t.bigIncrements('id').primary();
    t.integer('customer_id').unsigned().notNullable().references('customers.id');
    // The receipt's reference (bank transaction id, cheque number, the channel's order): a repeat
    // with the same reference for the same customer is the same payment.
    t.specificType('reference', outsideId).notNullable();
    // In minor units of `currency`; above zero.
    t.bigInteger('amount').notNullable();
    t.string('currency', 3).notNullable();
    // The business date the money was received (YYYY-MM-DD).
    t.string('received_on', 10).notNullable();
    // bank_transfer | cash | card | cheque | channel | other
    t.string('method', 16).notNullable();
    // api | bank_csv | channel
    t.string('source', 16).notNullable();
    t.integer('import_id').unsigned().nullable().references('payment_imports.id');
    t.string('channel', 64).nullable();
    t.bigInteger('order_id').unsigned().nullable();
    // What stays on account: amount minus the allocations.
    t.bigInteger('unapplied').notNullable();
    t.string('note', 500).nullable();
    t.string('actor', 64).notNullable();
    // SHA-256 of the request as recorded: a repeat with other figures is refused (409).
    t.string('request_hash', 64).notNullable();
    time(t, 'created_at').notNullable();
    t.unique(['customer_id', 'reference']);
    t.index(['customer_id', 'received_on']);
    t.index(['received_on']);
    t.index(['order_id']);
  });

  await knex.schema.createTable('payment_allocations', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('payment_id').unsigned().notNullable().references('payments.id');
    t.bigInteger('invoice_id').unsigned().notNullable().references('invoices.id');
    // In the invoice's currency; above zero.
    t.bigInteger('amount').notNullable();
    // The business date the allocation was made (a receipt left on account may be applied later).
    t.string('applied_on', 10).notNullable();
    t.string('actor', 64).notNullable();
    time(t, 'created_at').notNullable();
    t.index(['payment_id']);
    t.index(['invoice_id']);
  });

  await knex.schema.alterTable('invoices', (t) => {
    t.bigInteger('paid').notNullable().defaultTo(0);
  });

  await knex.schema.alterTable('customers', (t) => {
    t.boolean('overdue_hold').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  // ALTER TABLE … DROP COLUMN, as both databases have it (knex's SQLite way rebuilds the table).
  await knex.raw('ALTER TABLE ?? DROP COLUMN ??', ['customers', 'overdue_hold']);
  await knex.raw('ALTER TABLE ?? DROP COLUMN ??', ['invoices', 'paid']);
  await knex.schema.dropTable('payment_allocations');
  await knex.schema.dropTable('payments');
  await knex.schema.dropTable('payment_imports');
}
