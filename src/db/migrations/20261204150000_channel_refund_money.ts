import type { Knex } from 'knex';
import { outsideIdColumnType } from '../column-types.js';

/**
 * The money of a channel's refunds (issue 14, "refunds on the channel become credit notes"): one
 * row per refund of an order that said how much it paid back, applied once (unique order +
 * reference). What was paid back beyond the refunded lines' value is an allowance (销售折让):
 * credited against the order's invoice (`credit_note`), carried on the order's first invoice as a
 * discount line when the order was not invoiced yet (`pending` → `carried`), or `held` for a
 * person with its reason when it is more than the invoice has left to credit.
 *
 * The money itself: an order paid on its channel has a channel receipt (`payments`, source
 * `channel`); what a refund paid back is a payout row (`payments.payout_of` names that receipt,
 * negative `amount`, nothing unapplied), which takes what the refund's credit notes put back on
 * the receipt's account, so that a refunded and credited order nets to zero.
 */
export async function up(knex: Knex): Promise<void> {
  const isMysql = knex.client.config.client === 'mysql2';
  const time = (t: Knex.CreateTableBuilder, name: string) =>
    t.specificType(name, isMysql ? 'DATETIME(3)' : 'TEXT');
  const outsideId = await outsideIdColumnType(knex, 191);

  await knex.schema.createTable('channel_refunds', (t) => {
    t.increments('id').primary();
    t.bigInteger('order_id').unsigned().notNullable().references('orders.id');
    // The channel's refund id, exact.
    t.specificType('reference', outsideId).notNullable();
    t.string('currency', 3).notNullable();
    // What the refund paid back, and the channel's value of the units it refunded (minor units).
    t.bigInteger('amount').notNullable();
    t.bigInteger('lines_amount').notNullable();
    // amount − lines_amount when above zero: the allowance.
    t.bigInteger('allowance').notNullable();
    // none | credited | pending | carried | held
    t.string('status', 16).notNullable();
    // Of the allowance: credited by a credit note, or carried on an invoice as a discount.
    t.bigInteger('credited').notNullable().defaultTo(0);
    // The credit note (credited) or the invoice (carried) the allowance went on.
    t.string('document', 32).nullable();
    t.string('held_reason', 500).nullable();
    // What is still to be paid out from the order's channel receipt (once it exists), and the payout.
    t.bigInteger('payout_pending').notNullable().defaultTo(0);
    t.bigInteger('payout_payment_id').unsigned().nullable();
    t.string('actor', 64).notNullable();
    time(t, 'created_at').notNullable();
    time(t, 'updated_at').notNullable();
    t.unique(['order_id', 'reference']);
    t.index(['status']);
  });

  await knex.schema.alterTable('payments', (t) => {
    // A payout (negative amount): the receipt whose money it paid back.
    t.bigInteger('payout_of').unsigned().nullable();
    t.index(['payout_of']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('payments', (t) => {
    t.dropIndex(['payout_of']);
  });
  // ALTER TABLE … DROP COLUMN, as both databases have it (knex's SQLite way rebuilds the table).
  await knex.raw('ALTER TABLE ?? DROP COLUMN ??', ['payments', 'payout_of']);
  await knex.schema.dropTable('channel_refunds');
}
