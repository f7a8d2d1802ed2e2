import type { Knex } from 'knex';
import { codeColumnType } from '../column-types.js';

/**
 * Customer statements (对账单, issue 15): one row per customer, period and version, with the state
 * the customer's answer moves it through (issued → sent → confirmed | disputed), and its figures per
 * currency (`statement_balances`): opening, invoiced, credited, paid, closing, the ageing of the open
 * invoices at the period's end, and the check of the opening against the previous statement.
 *
 * The lines are not copied: a statement keeps the highest invoice, payment and shipment ids of the
 * customer it was made from, and its lines are read again from those documents (dated in the period,
 * ids up to those), so a statement reads the same however late a document is posted after it.
 */
export async function up(knex: Knex): Promise<void> {
  const isMysql = knex.client.config.client === 'mysql2';
  const time = (t: Knex.CreateTableBuilder, name: string) =>
    t.specificType(name, isMysql ? 'DATETIME(3)' : 'TEXT');
  const code = await codeColumnType(knex, 64);

  await knex.schema.createTable('statements', (t) => {
    t.bigIncrements('id').primary();
    const customer = t.integer('customer_id').unsigned().notNullable();
    if (isMysql) customer.references('customers.id');
    t.specificType('customer_code', code).nullable();
    t.string('customer_name', 255).nullable();
    // The customer's header as it was at issue (JSON: tax id, billing address).
    t.text('customer').nullable();
    // The selling company's header as it was at issue (JSON).
    t.text('seller').nullable();
    t.string('language', 8).notNullable();
    t.string('date_from', 10).notNullable();
    t.string('date_to', 10).notNullable();
    // `YYYY-MM` for a whole month, else `<from>_<to>`.
    t.string('period', 21).notNullable();
    t.integer('version').notNullable();
    // issued | sent | confirmed | disputed
    t.string('state', 16).notNullable();
    // SHA-256 of the figures: re-issuing unchanged figures makes no new version.
    t.string('fingerprint', 64).notNullable();
    t.bigInteger('line_count').notNullable();
    t.bigInteger('max_invoice_id').unsigned().notNullable().defaultTo(0);
    t.bigInteger('max_payment_id').unsigned().notNullable().defaultTo(0);
    t.bigInteger('max_shipment_id').unsigned().notNullable().defaultTo(0);
    t.bigInteger('previous_id').unsigned().nullable();
    // The workbook, relative to STOCKBRIDGE_OUTPUT_DIR.
    t.string('document', 500).nullable();
    t.string('dispute_note', 1000).nullable();
    t.string('actor', 64).notNullable();
    t.string('state_actor', 64).nullable();
    time(t, 'sent_at').nullable();
    time(t, 'answered_at').nullable();
    time(t, 'created_at').notNullable();
    time(t, 'updated_at').notNullable();
    t.unique(['customer_id', 'date_from', 'date_to', 'version']);
    t.index(['customer_id', 'date_to']);
    t.index(['period']);
  });

  await knex.schema.createTable('statement_balances', (t) => {
    const statement = t.bigInteger('statement_id').unsigned().notNullable();
    if (isMysql) statement.references('statements.id');
    t.string('currency', 3).notNullable();
    t.bigInteger('opening').notNullable();
    t.bigInteger('invoiced').notNullable();
    t.bigInteger('credited').notNullable();
    t.bigInteger('paid').notNullable();
    t.bigInteger('closing').notNullable();
    t.bigInteger('line_count').notNullable();
    t.bigInteger('age_current').notNullable();
    t.bigInteger('age_1_30').notNullable();
    t.bigInteger('age_31_60').notNullable();
    t.bigInteger('age_61_90').notNullable();
    t.bigInteger('age_over_90').notNullable();
    // Closing minus the open invoices: payments on account, over-credited invoices.
    t.bigInteger('unapplied').notNullable();
    // The previous statement's closing, and that closing as the documents give it now.
    t.bigInteger('previous_closing').nullable();
    t.bigInteger('recomputed_previous_closing').nullable();
    // JSON: what the check found (the previous closing differs from the documents), or null.
    t.text('finding').nullable();
    t.primary(['statement_id', 'currency']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('statement_balances');
  await knex.schema.dropTable('statements');
}
