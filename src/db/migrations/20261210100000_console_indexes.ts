import type { Knex } from 'knex';

/**
 * The console's dashboard (issue 19) reads, on every view: today's orders by the hour they arrived
 * (a range of `created_at`), and the held orders by their reason (`status = 'on_hold'` grouped by
 * `hold_reason`). An index on `created_at` makes the first a short range of the index; one on
 * (status, hold_reason) answers the second from the index alone, however many orders there are.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('orders', (t) => {
    t.index(['created_at'], 'orders_created_at_index');
    t.index(['status', 'hold_reason'], 'orders_status_hold_reason_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('orders', (t) => {
    t.dropIndex(['status', 'hold_reason'], 'orders_status_hold_reason_index');
    t.dropIndex(['created_at'], 'orders_created_at_index');
  });
}
