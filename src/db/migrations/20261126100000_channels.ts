import type { Knex } from 'knex';

/**
 * Channels (a configured Shopify shop, WooCommerce site, ...), their SKU mappings, the channel's
 * own update time on each order (so an older payload never overwrites newer state), and a note on
 * each inbound event saying what applying it did.
 */
export async function up(knex: Knex): Promise<void> {
  const time = (t: Knex.CreateTableBuilder, name: string) =>
    t.specificType(name, knex.client.config.client === 'mysql2' ? 'DATETIME(3)' : 'TEXT');

  await knex.schema.createTable('channels', (t) => {
    t.increments('id').primary();
    t.string('type', 32).notNullable();
    t.string('name', 255).notNullable();
    t.boolean('enabled').notNullable().defaultTo(true);
    // Settings without the secret fields (JSON), and the secret fields sealed with AES-256-GCM.
    t.text('settings').notNullable();
    t.text('secrets').notNullable();
    // Where the next pull starts (opaque to the core; an ISO time for the shipped connectors).
    t.string('pull_cursor', 191).nullable();
    time(t, 'last_pull_at').nullable();
    time(t, 'next_pull_at').nullable();
    // A pull holds the lease until it ends (or the lease runs out, if its process died).
    t.string('pull_lease_owner', 64).nullable();
    time(t, 'pull_lease_until').nullable();
    time(t, 'last_push_at').nullable();
    t.text('last_error').nullable();
    time(t, 'last_error_at').nullable();
    // Set when the channel refused our credentials (401/403): pulls and pushes stop until fixed.
    t.string('failing_reason', 255).nullable();
    time(t, 'failing_since').nullable();
    time(t, 'created_at').notNullable();
    time(t, 'updated_at').notNullable();
    time(t, 'disabled_at').nullable();
    t.index(['enabled', 'next_pull_at']);
  });

  await knex.schema.createTable('channel_skus', (t) => {
    t.increments('id').primary();
    t.integer('channel_id').unsigned().notNullable().references('channels.id');
    t.string('sku_code', 64).notNullable();
    // The channel's own ids for the item; exact strings (Shopify ids exceed 2^53).
    t.string('channel_sku', 191).nullable();
    t.string('product_id', 64).nullable();
    t.string('variant_id', 64).nullable();
    t.string('inventory_item_id', 64).nullable();
    // `auto` (matched by SKU code from an order) or `manual` (set by an administrator).
    t.string('source', 16).notNullable();
    time(t, 'created_at').notNullable();
    time(t, 'updated_at').notNullable();
    t.unique(['channel_id', 'sku_code']);
    t.index(['channel_id', 'variant_id']);
    t.index(['channel_id', 'product_id']);
    t.index(['channel_id', 'inventory_item_id']);
  });

  await knex.schema.alterTable('orders', (t) => {
    t.specificType(
      'channel_updated_at',
      knex.client.config.client === 'mysql2' ? 'DATETIME(3)' : 'TEXT',
    ).nullable();
  });
  await knex.schema.alterTable('inbound_events', (t) => {
    t.string('note', 255).nullable();
    // What the event asks for (order.upsert, order.cancel, order.delete), so a replay can redo it.
    t.string('kind', 32).nullable();
    // The channel's id of the order the event is about, as the channel sent it.
    t.string('external_id', 191).nullable();
    // Failed attempts to apply the event; the pending sweep gives up after a few.
    t.integer('attempts').notNullable().defaultTo(0);
    t.index(['channel', 'processed_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('inbound_events', (t) => {
    t.dropIndex(['channel', 'processed_at']);
  });
  // Plain ALTER TABLE ... DROP COLUMN (MySQL/MariaDB and SQLite 3.35+), not knex's SQLite table
  // rebuild, which fails on tables that others reference.
  const columns: [string, string][] = [
    ['inbound_events', 'note'],
    ['inbound_events', 'kind'],
    ['inbound_events', 'attempts'],
    ['inbound_events', 'external_id'],
    ['orders', 'channel_updated_at'],
  ];
  for (const [table, column] of columns) {
    await knex.raw('ALTER TABLE ?? DROP COLUMN ??', [table, column]);
  }
  await knex.schema.dropTableIfExists('channel_skus');
  await knex.schema.dropTableIfExists('channels');
}
