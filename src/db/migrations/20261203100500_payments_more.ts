import type { Knex } from 'knex';

/**
 * Payments, more (issue 14): a payment or credit note takes its amount off the unpaid exposure of
 * an invoice by reading that invoice's `credit_bookings`, and a receipt reads what was credited
 * against its invoices: both by invoice, so both get an index (MySQL indexes the foreign key
 * `invoices.credits_invoice_id` already; SQLite does not).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('credit_bookings', (t) => {
    t.index(['invoice_id', 'bucket'], 'credit_bookings_invoice_id_bucket_index');
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
  await knex.schema.alterTable('credit_bookings', (t) => {
    t.dropIndex(['invoice_id', 'bucket'], 'credit_bookings_invoice_id_bucket_index');
  });
}
