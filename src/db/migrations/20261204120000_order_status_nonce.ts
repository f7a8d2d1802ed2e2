import type { Knex } from 'knex';

/**
 * The random nonce behind an order's status link (issue 16, the status page). The link's token is
 * an HMAC of the order id and this nonce under a key derived from STOCKBRIDGE_SECRET_KEY, so the
 * token itself is never stored; null until the first link is made, replaced to revoke it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('orders', (t) => {
    t.string('status_nonce', 32).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  // ALTER TABLE … DROP COLUMN, as both databases have it (knex's SQLite way rebuilds the table).
  await knex.raw('ALTER TABLE ?? DROP COLUMN ??', ['orders', 'status_nonce']);
}
