import type { PulledDelivery } from '../../connectors/contract.js';
import { dbTime } from '../db/connection.js';
import { type ApplyOutcome, type ChannelOrderEvent, receiveChannelEvent } from './apply-order.js';
import { type ChannelContext, connectorOf } from './channel-context.js';
import { type Channel, channelKey } from './channel-store.js';
import { connectorContext } from './connector-runtime.js';

/** Days after it was sent that a shipment's delivery is still asked for by the pull. */
export const DELIVERY_WATCH_DAYS = 60;
/** Most orders one pull asks about (the most recently sent first). */
export const DELIVERY_ORDERS_PER_PULL = 200;

/** What one delivery pull did. */
export interface DeliveryPullSummary {
  /** Orders asked about. */
  orders: number;
  /** Reports that told us something new, each stored and applied as an inbound event. */
  reports: number;
  outcomes: Partial<Record<ApplyOutcome, number>>;
}

const DAY_MS = 86_400_000;

/**
 * A pulled report as an inbound event: one delivery key per fulfilment and status, so that the
 * same state read again — by the next pull, or after its webhook — is one delivery.
 */
function pulledDeliveryEvent(pulled: PulledDelivery): ChannelOrderEvent {
  const r = pulled.report;
  return {
    deliveryId: `pull:delivery:${r.fulfilmentId}:${r.status}:${r.happenedAt ?? ''}`,
    topic: 'pull',
    kind: 'order.delivery',
    externalId: r.externalOrderId,
    rawPayload: JSON.stringify(pulled.raw),
    order: null,
    delivery: r,
  };
}

/**
 * Catches delivery reports whose webhooks were missed (the scheduled pull runs it after the
 * orders): asks the channel (`readDeliveries`) about the orders of shipments told to it and not yet
 * delivered, sent within `DELIVERY_WATCH_DAYS`, and takes in each report that says something new
 * about one of those shipments through the same path as a webhook (stored, then applied). Null for
 * a channel that reports no delivery.
 */
export async function pullDeliveries(
  ctx: ChannelContext,
  channel: Channel,
): Promise<DeliveryPullSummary | null> {
  const connector = connectorOf(channel);
  if (!connector.readDeliveries) return null;
  const key = channelKey(channel);
  const since = dbTime(new Date(Date.now() - DELIVERY_WATCH_DAYS * DAY_MS));
  const summary: DeliveryPullSummary = { orders: 0, reports: 0, outcomes: {} };

  const watched = await ctx
    .db('shipments as s')
    .join('orders as o', 'o.id', 's.order_id')
    .where('s.channel_state', 'sent')
    .whereNull('s.delivered_at')
    .where('s.channel_sent_at', '>=', since)
    .whereNotNull('s.channel_fulfilment_id')
    .where('o.channel', key)
    .whereIn('o.status', ['partially_shipped', 'shipped'])
    .orderBy('s.channel_sent_at', 'desc')
    // Enough rows for the orders asked about, however many shipments each has.
    .limit(DELIVERY_ORDERS_PER_PULL * 10)
    .select('s.channel_fulfilment_id', 's.delivery_status', 'o.external_id');
  const held = new Map<string, string | null>();
  const orders: string[] = [];
  for (const r of watched) {
    const externalId = String(r.external_id);
    if (!orders.includes(externalId)) {
      if (orders.length >= DELIVERY_ORDERS_PER_PULL) continue;
      orders.push(externalId);
    }
    held.set(`${externalId}\u0000${r.channel_fulfilment_id}`, r.delivery_status ?? null);
  }
  summary.orders = orders.length;

  if (orders.length > 0) {
    const pulled = await connector.readDeliveries(connectorContext(ctx, channel), orders);
    for (const p of pulled) {
      const k = `${p.report.externalOrderId}\u0000${p.report.fulfilmentId}`;
      // Only our shipments still on their way, and only news: the rest is the webhooks' business.
      if (!held.has(k)) continue;
      if (!p.report.delivered && (p.report.status === '' || p.report.status === held.get(k))) continue;
      const result = await receiveChannelEvent(ctx.db, channel, pulledDeliveryEvent(p));
      summary.reports++;
      summary.outcomes[result.outcome] = (summary.outcomes[result.outcome] ?? 0) + 1;
    }
  }

  return summary;
}
