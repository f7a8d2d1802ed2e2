import { channelKey } from '../channels/channel-store.js';
import { type Conn, type Db, dbTime, isoTime } from '../db/connection.js';
import { withTransaction } from '../db/retry.js';
import { notFound, unprocessable } from '../errors/domain-errors.js';
import type { UpsertOutcome } from './customer-store.js';

/**
 * Explicit mappings from a channel's buyer (its customer id there) to a trade customer: orders of
 * that buyer from then on belong to the trade customer (orders stored before keep their customer).
 */

export interface ChannelCustomerMapping {
  channelCustomerId: string;
  customer: string;
  updatedAt: string | null;
}

async function channelOf(db: Conn, channelId: number): Promise<string> {
  const row = await db('channels').where({ id: channelId }).first('id', 'type');
  if (!row) throw notFound(`channel ${channelId}`);
  return channelKey({ type: row.type, id: Number(row.id) });
}

const view = (r: Record<string, unknown>): ChannelCustomerMapping => ({
  channelCustomerId: String(r.channel_customer_id),
  customer: String(r.code),
  updatedAt: isoTime(r.updated_at as string),
});

const mappings = (db: Conn, channel: string) =>
  db('channel_customer_map as m')
    .join('customers as c', 'c.id', 'm.customer_id')
    .where('m.channel', channel)
    .select('m.channel_customer_id', 'c.code', 'm.updated_at', 'm.id');

export async function listChannelCustomers(db: Conn, channelId: number): Promise<ChannelCustomerMapping[]> {
  const rows = await mappings(db, await channelOf(db, channelId)).orderBy('m.id');
  return rows.map(view);
}

export async function channelCustomer(db: Conn, channelId: number, channelCustomerId: string) {
  const row = await mappings(db, await channelOf(db, channelId))
    .where('m.channel_customer_id', channelCustomerId)
    .first();
  if (!row) throw notFound(`mapping of channel customer ${channelCustomerId}`);
  return view(row);
}

/** Maps a channel's buyer to a trade customer (created or moved; the same mapping again is `unchanged`). */
export async function mapChannelCustomer(
  db: Db,
  channelId: number,
  channelCustomerId: string,
  customerCode: string,
): Promise<{ outcome: UpsertOutcome; mapping: ChannelCustomerMapping }> {
  const channel = await channelOf(db, channelId);
  const outcome = await withTransaction(db, async (tx) => {
    const customer = await tx('customers').where({ code: customerCode }).first('id');
    if (!customer)
      throw unprocessable('unknown_customer', `unknown customer ${customerCode}: create it first`, {
        customer: customerCode,
      });
    const now = dbTime();
    const key = { channel, channel_customer_id: channelCustomerId };
    const existing = await tx('channel_customer_map').where(key).first('id', 'customer_id');
    if (existing && Number(existing.customer_id) === Number(customer.id)) return 'unchanged' as const;
    await tx('channel_customer_map')
      .insert({ ...key, customer_id: customer.id, created_at: now, updated_at: now })
      .onConflict(['channel', 'channel_customer_id'])
      .merge(['customer_id', 'updated_at']);
    return existing ? ('updated' as const) : ('created' as const);
  });
  return { outcome, mapping: await channelCustomer(db, channelId, channelCustomerId) };
}

export async function unmapChannelCustomer(
  db: Db,
  channelId: number,
  channelCustomerId: string,
): Promise<void> {
  const channel = await channelOf(db, channelId);
  const n = await db('channel_customer_map')
    .where({ channel, channel_customer_id: channelCustomerId })
    .delete();
  if (n === 0) throw notFound(`mapping of channel customer ${channelCustomerId}`);
}
