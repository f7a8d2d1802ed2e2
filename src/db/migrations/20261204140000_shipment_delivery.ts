import type { Knex } from 'knex';

/**
 * Delivery of shipments as a channel reports it (issue 17, delivery): per shipment the channel's
 * latest delivery status (`in_transit`, `out_for_delivery`, `delivered`…), when that status
 * happened, and when the shipment was delivered (null until it is). The index serves the pull's
 * look for shipments told to a channel and not yet delivered.
 */
const INDEX = 'shipments_delivery_watch_index';
const COLUMNS = ['delivery_status', 'delivery_status_at', 'delivered_at'] as const;

export async function up(knex: Knex): Promise<void> {
  const time = (t: Knex.AlterTableBuilder, name: string) =>
    t.specificType(name, knex.client.config.client === 'mysql2' ? 'DATETIME(3) NULL' : 'TEXT NULL');
  await knex.schema.alterTable('shipments', (t) => {
    t.string('delivery_status', 32).nullable();
    time(t, 'delivery_status_at');
    time(t, 'delivered_at');
    t.index(['channel_state', 'delivered_at', 'channel_sent_at'], INDEX);
  });
}

export async function down(knex: Knex): Promise<void> {
  if (knex.client.config.client === 'mysql2') {
    // One statement: MariaDB rebuilds the table once, not once per column.
    await knex.raw(`ALTER TABLE ?? DROP INDEX ??, ${COLUMNS.map(() => 'DROP COLUMN ??').join(', ')}`, [
      'shipments',
      INDEX,
      ...COLUMNS,
    ]);
    return;
  }
  await knex.raw('DROP INDEX IF EXISTS ??', [INDEX]);
  for (const column of [...COLUMNS].reverse()) {
    await knex.raw('ALTER TABLE ?? DROP COLUMN ??', ['shipments', column]);
  }
}
