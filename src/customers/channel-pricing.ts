import type { Db } from '../db/connection.js';
import { type ChannelPricing, defaultPricing, type PricePolicy } from '../domain/pricing.js';
import { notFound } from '../errors/domain-errors.js';

/** A channel's price policy as stored (null columns: the default of its kind, shops accept). */
export async function channelPricing(
  db: Db,
  channelId: number,
): Promise<ChannelPricing & { isDefault: boolean }> {
  const row = await db('channels')
    .where({ id: channelId })
    .first('type', 'price_policy', 'price_tolerance_percent', 'price_tolerance_amount');
  if (!row) throw notFound(`channel ${channelId}`);
  const fallback = defaultPricing(`${row.type}:${channelId}`);
  return {
    policy: (row.price_policy as PricePolicy | null) ?? fallback.policy,
    tolerancePercent: row.price_tolerance_percent === null ? null : Number(row.price_tolerance_percent),
    toleranceAmount: row.price_tolerance_amount === null ? null : Number(row.price_tolerance_amount),
    isDefault: row.price_policy === null,
  };
}

/** Sets a channel's price policy; its orders processed from now on (and released ones) follow it. */
export async function setChannelPricing(db: Db, channelId: number, pricing: ChannelPricing) {
  const n = await db('channels').where({ id: channelId }).update({
    price_policy: pricing.policy,
    price_tolerance_percent: pricing.tolerancePercent,
    price_tolerance_amount: pricing.toleranceAmount,
  });
  if (n === 0) throw notFound(`channel ${channelId}`);
  return channelPricing(db, channelId);
}
