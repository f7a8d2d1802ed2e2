import type { Knex } from 'knex';

/**
 * Stock flowing back out: which warehouses feed each channel, the channel's publication rule
 * (safety stock, allocation, cap) with per-SKU overrides, and per (channel, SKU) what was last
 * published, whether a push is pending, and the channel's last refusal.
 */
export async function up(knex: Knex): Promise<void> {
  const mysql = knex.client.config.client === 'mysql2';
  const time = (t: Knex.CreateTableBuilder, name: string) =>
    t.specificType(name, mysql ? 'DATETIME(3)' : 'TEXT');

  await knex.schema.alterTable('channels', (t) => {
    t.integer('safety_stock').nullable();
    t.integer('allocation_percent').nullable();
    t.integer('max_quantity').nullable();
    t.boolean('nightly_resync').notNullable().defaultTo(false);
    t.string('push_lease_owner', 64).nullable();
    time(t, 'push_lease_until').nullable();
  });

  // No rows for a channel: every warehouse feeds it.
  await knex.schema.createTable('channel_warehouses', (t) => {
    t.integer('channel_id').unsigned().notNullable().references('channels.id');
    t.integer('warehouse_id').unsigned().notNullable().references('warehouses.id');
    t.primary(['channel_id', 'warehouse_id']);
  });

  await knex.schema.alterTable('channel_skus', (t) => {
    t.integer('safety_stock').nullable();
    t.integer('allocation_percent').nullable();
    t.integer('max_quantity').nullable();
    t.integer('published_qty').nullable();
    time(t, 'published_at').nullable();
    // Set by every stock change of the SKU; cleared once the push that read it is done, unless a
    // newer change (pending_seq moved on) arrived meanwhile.
    t.boolean('push_pending').notNullable().defaultTo(false);
    t.integer('pending_seq').notNullable().defaultTo(0);
    time(t, 'pending_since').nullable();
    // A full resync sends the quantity even when it equals the last published one.
    t.boolean('push_force').notNullable().defaultTo(false);
    t.text('last_push_error').nullable();
    time(t, 'last_push_error_at').nullable();
    t.index(['channel_id', 'push_pending']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('channel_skus', (t) => {
    t.dropIndex(['channel_id', 'push_pending']);
  });
  await knex.schema.dropTableIfExists('channel_warehouses');
  // Plain ALTER TABLE ... DROP COLUMN on both databases (see the low-stock migration).
  const columns: [string, string[]][] = [
    [
      'channel_skus',
      [
        'safety_stock',
        'allocation_percent',
        'max_quantity',
        'published_qty',
        'published_at',
        'push_pending',
        'pending_seq',
        'pending_since',
        'push_force',
        'last_push_error',
        'last_push_error_at',
      ],
    ],
    [
      'channels',
      [
        'safety_stock',
        'allocation_percent',
        'max_quantity',
        'nightly_resync',
        'push_lease_owner',
        'push_lease_until',
      ],
    ],
  ];
  for (const [table, list] of columns) {
    for (const column of list) await knex.raw('ALTER TABLE ?? DROP COLUMN ??', [table, column]);
  }
}
