import type { Knex } from 'knex';

/**
 * The notifications' document sweep (src/notify/documents.ts) looks every few seconds, per customer
 * who gets documents by e-mail, for invoices and credit notes created in the last days: an index on
 * (customer_id, created_at) makes that a short range of the index instead of every invoice the
 * customer ever had.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('invoices', (t) => {
    t.index(['customer_id', 'created_at'], 'invoices_customer_created_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('invoices', (t) => {
    t.dropIndex(['customer_id', 'created_at'], 'invoices_customer_created_index');
  });
}
