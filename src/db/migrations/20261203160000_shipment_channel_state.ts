import type { Knex } from 'knex';

/**
 * Shipments told to the channel their order came from (issue 17, fulfilment): per shipment the
 * tracking URL, and the channel's state — `pending` (to send), `sent` (with the channel's
 * fulfilment id), `refused` (with the channel's reason); null for orders of no channel. A lease
 * (`channel_lease_until`) keeps two jobs from sending the same shipment at once.
 */
const COLUMNS = [
  'tracking_url',
  'channel_state',
  'channel_fulfilment_id',
  'channel_reason',
  'channel_attempts',
  'channel_sent_at',
  'channel_lease_until',
] as const;

export async function up(knex: Knex): Promise<void> {
  const time = (t: Knex.AlterTableBuilder, name: string) =>
    t.specificType(name, knex.client.config.client === 'mysql2' ? 'DATETIME(3) NULL' : 'TEXT NULL');
  await knex.schema.alterTable('shipments', (t) => {
    t.string('tracking_url', 512).nullable();
    t.string('channel_state', 16).nullable();
    t.string('channel_fulfilment_id', 191).nullable();
    t.string('channel_reason', 1000).nullable();
    t.integer('channel_attempts').notNullable().defaultTo(0);
    time(t, 'channel_sent_at');
    time(t, 'channel_lease_until');
    t.index(['channel_state', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  if (knex.client.config.client === 'mysql2') {
    // One statement: MariaDB rebuilds the table once, not once per column.
    await knex.raw(`ALTER TABLE ?? DROP INDEX ??, ${COLUMNS.map(() => 'DROP COLUMN ??').join(', ')}`, [
      'shipments',
      'shipments_channel_state_id_index',
      ...COLUMNS,
    ]);
    return;
  }
  await knex.schema.alterTable('shipments', (t) => {
    t.dropIndex(['channel_state', 'id']);
  });
  for (const column of [...COLUMNS].reverse()) {
    await knex.raw('ALTER TABLE ?? DROP COLUMN ??', ['shipments', column]);
  }
}
