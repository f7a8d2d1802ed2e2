import type { Knex } from 'knex';
import { codeColumnType, outsideIdColumnType } from '../column-types.js';

/**
 * Invoices and credit notes (issue 14): gap-free numbers per series and year from
 * `invoice_sequences` (locked last in a posting transaction), the documents' rows, what each one
 * invoiced (`invoice_sources`, whose primary key makes a shipment or an order invoiced once), the
 * customers' invoice policy, and the tax classification code (税收分类编码) of each tax class that
 * e-invoices carry per line.
 */
export async function up(knex: Knex): Promise<void> {
  const isMysql = knex.client.config.client === 'mysql2';
  const time = (t: Knex.CreateTableBuilder, name: string) =>
    t.specificType(name, isMysql ? 'DATETIME(3)' : 'TEXT');
  const code = await codeColumnType(knex, 64);
  const outsideId = await outsideIdColumnType(knex, 64);

  await knex.schema.alterTable('customers', (t) => {
    t.string('invoice_policy', 16).notNullable().defaultTo('on_shipment');
  });

  await knex.schema.createTable('invoice_sequences', (t) => {
    t.string('series', 16).notNullable();
    t.integer('year').notNullable();
    t.integer('last_number').notNullable();
    t.primary(['series', 'year']);
  });

  await knex.schema.createTable('invoices', (t) => {
    t.bigIncrements('id').primary();
    t.string('number', 32).notNullable().unique();
    t.string('series', 16).notNullable();
    t.integer('year').notNullable();
    t.integer('seq').notNullable();
    // invoice | credit_note
    t.string('type', 16).notNullable();
    // on_shipment | on_order | periodic | credit
    t.string('policy', 16).notNullable();
    t.bigInteger('customer_id').unsigned().nullable();
    t.specificType('customer_code', code).nullable();
    t.string('customer_name', 255).nullable();
    t.string('customer_tax_id', 64).nullable();
    t.text('billing_address').nullable();
    // The selling company's header as it was at issue (JSON), so the document never changes.
    t.text('seller').nullable();
    t.string('language', 8).notNullable();
    t.specificType('company_code', code).nullable();
    // One order's invoice (on_shipment, on_order); null for a periodic invoice over many orders.
    t.bigInteger('order_id').unsigned().nullable();
    // The month a periodic invoice covers (YYYY-MM).
    t.string('period', 7).nullable();
    t.bigInteger('credits_invoice_id').unsigned().nullable().references('invoices.id');
    t.string('reason', 255).nullable();
    t.string('currency', 3).notNullable();
    t.boolean('prices_include_tax').notNullable().defaultTo(false);
    t.string('issue_date', 10).notNullable();
    t.string('due_date', 10).notNullable();
    t.bigInteger('subtotal').notNullable();
    t.bigInteger('discount').notNullable();
    t.bigInteger('shipping').notNullable();
    t.bigInteger('shipping_tax').notNullable().defaultTo(0);
    t.bigInteger('tax').notNullable();
    t.bigInteger('total').notNullable();
    t.string('document', 255).nullable();
    // E-invoicing: the issuer, our idempotent request serial, its state, the platform's number.
    t.string('issuer', 32).nullable();
    t.specificType('issuer_serial', outsideId).nullable().unique();
    t.string('issuer_status', 24).nullable();
    t.string('red_letter_status', 24).nullable();
    t.specificType('platform_number', outsideId).nullable();
    t.string('issuer_message', 500).nullable();
    time(t, 'created_at').notNullable();
    time(t, 'issuer_updated_at').nullable();
    t.unique(['series', 'year', 'seq']);
    t.index(['customer_id', 'issue_date']);
    t.index(['issue_date']);
    t.index(['order_id']);
    t.index(['issuer_status']);
  });

  await knex.schema.createTable('invoice_lines', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('invoice_id').unsigned().notNullable().references('invoices.id');
    t.integer('line_no').notNullable();
    t.bigInteger('order_id').unsigned().nullable();
    t.bigInteger('order_line_id').unsigned().nullable();
    t.bigInteger('shipment_id').unsigned().nullable();
    // The invoice line a credit note's line credits.
    t.bigInteger('credits_line_id').unsigned().nullable();
    t.string('sku', 64).notNullable();
    t.string('description', 255).notNullable();
    t.integer('quantity').notNullable();
    t.bigInteger('unit_price').notNullable();
    t.bigInteger('discount').notNullable();
    t.bigInteger('tax').notNullable();
    t.specificType('tax_class', code).nullable();
    t.string('tax_code', 32).nullable();
    t.bigInteger('amount').notNullable();
    t.unique(['invoice_id', 'line_no']);
    t.index(['order_id']);
    t.index(['order_line_id']);
    t.index(['credits_line_id']);
  });

  // What an invoice covers, each once: `shipment`/id, `order`/id (on_order), `charges`/order id
  // (the order's shipping and order discount, on its first invoice).
  await knex.schema.createTable('invoice_sources', (t) => {
    t.string('kind', 16).notNullable();
    t.bigInteger('ref_id').unsigned().notNullable();
    t.bigInteger('invoice_id').unsigned().notNullable().references('invoices.id');
    t.primary(['kind', 'ref_id']);
    t.index(['invoice_id']);
  });

  await knex.schema.createTable('tax_class_codes', (t) => {
    t.specificType('tax_class', code).notNullable().primary();
    t.string('code', 32).notNullable();
    time(t, 'updated_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('tax_class_codes');
  await knex.schema.dropTable('invoice_sources');
  await knex.schema.dropTable('invoice_lines');
  await knex.schema.dropTable('invoices');
  await knex.schema.dropTable('invoice_sequences');
  // ALTER TABLE … DROP COLUMN, as both databases have it (knex's SQLite way rebuilds the table).
  await knex.raw('ALTER TABLE ?? DROP COLUMN ??', ['customers', 'invoice_policy']);
}
