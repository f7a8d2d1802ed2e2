import type { Knex } from 'knex';

/**
 * Statements of many lines (issue 15's benchmark): a customer's invoices and payments read in date
 * order from an index that holds every column the statement reads of them, so that reading a
 * month's lines (and summing a statement's figures) scans the index in order instead of looking
 * each row up in the table. The id follows the date in each, so that the index's order is the
 * statement's `(date, id)`. They replace the two indexes of `(customer_id, date)`, which are their
 * beginnings (MariaDB kept choosing those, and a million look-ups, over the covering ones).
 */

const INVOICES = [
  'customer_id',
  'issue_date',
  'id',
  'currency',
  'type',
  'total',
  'due_date',
  'number',
  'credits_invoice_id',
];
const PAYMENTS = ['customer_id', 'received_on', 'id', 'currency', 'amount', 'method', 'reference'];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('invoices', (t) => {
    t.index(INVOICES, 'invoices_statement_index');
  });
  await knex.schema.alterTable('invoices', (t) => {
    t.dropIndex(['customer_id', 'issue_date'], 'invoices_customer_id_issue_date_index');
  });
  await knex.schema.alterTable('payments', (t) => {
    t.index(PAYMENTS, 'payments_statement_index');
  });
  await knex.schema.alterTable('payments', (t) => {
    t.dropIndex(['customer_id', 'received_on'], 'payments_customer_id_received_on_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('payments', (t) => {
    t.index(['customer_id', 'received_on'], 'payments_customer_id_received_on_index');
  });
  await knex.schema.alterTable('payments', (t) => {
    t.dropIndex(PAYMENTS, 'payments_statement_index');
  });
  await knex.schema.alterTable('invoices', (t) => {
    t.index(['customer_id', 'issue_date'], 'invoices_customer_id_issue_date_index');
  });
  await knex.schema.alterTable('invoices', (t) => {
    t.dropIndex(INVOICES, 'invoices_statement_index');
  });
}
