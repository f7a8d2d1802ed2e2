import type { Knex } from 'knex';

/**
 * Payments, more (issue 14): a payment or credit note takes its amount off the unpaid exposure of
 * an invoice by reading that invoice's `credit_bookings`, and a receipt reads what was credited
 * against its invoices: both by invoice, so both get an index (MySQL indexes the foreign key
 * `invoices.credits_invoice_id` already; SQLite does not). A receipt finds its customer's oldest
 * open invoices by (customer, currency, due date, issue date).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('credit_bookings', (t) => {
    t.index(['invoice_id', 'bucket'], 'credit_bookings_invoice_id_bucket_index');
  });
  // A receipt reads its customer's invoices in its currency oldest first (due date, issue date,
  // id), page by page, so that it locks and reads only as many as its amount covers.
  await knex.schema.alterTable('invoices', (t) => {
    t.index(['customer_id', 'currency', 'due_date', 'issue_date'], 'invoices_customer_due_index');
  });
  if (knex.client.config.client !== 'mysql2')
    await knex.schema.alterTable('invoices', (t) => {
      t.index(['credits_invoice_id'], 'invoices_credits_invoice_id_index');
    });
}

export async function down(knex: Knex): Promise<void> {
  if (knex.client.config.client !== 'mysql2')
    await knex.schema.alterTable('invoices', (t) => {
      t.dropIndex(['credits_invoice_id'], 'invoices_credits_invoice_id_index');
    });
  await knex.schema.alterTable('invoices', (t) => {
    t.dropIndex(['customer_id', 'currency', 'due_date', 'issue_date'], 'invoices_customer_due_index');
  });
  await knex.schema.alterTable('credit_bookings', (t) => {
    t.dropIndex(['invoice_id', 'bucket'], 'credit_bookings_invoice_id_bucket_index');
  });
}
