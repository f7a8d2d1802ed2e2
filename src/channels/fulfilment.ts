import type { FulfilmentLine, FulfilmentResult } from '../../connectors/contract.js';
import { type Conn, dbTime } from '../db/connection.js';
import { findCarrier } from '../domain/carriers.js';
import { ChannelAuthError } from '../errors/channel-auth-error.js';
import { PermanentError } from '../errors/permanent-error.js';
import { fulfilmentChannelOf } from '../orders/ship.js';
import { type ChannelContext, connectorOf } from './channel-context.js';
import { CHANNEL_SKUS, findChannel, recordChannelError } from './channel-store.js';
import { connectorContext } from './connector-runtime.js';

/** How long one send holds a shipment; a process that dies leaves it to the sweep after this. */
export const FULFILMENT_LEASE_MS = 120_000;

export type ShipmentChannelState = 'pending' | 'sent' | 'refused';

export interface FulfilmentOutcome {
  shipmentId: number;
  /** What was done: `sent`/`refused` now, or why nothing was (`already_sent`, `in_progress`…). */
  status:
    | 'sent'
    | 'refused'
    | 'already_sent'
    | 'already_refused'
    | 'in_progress'
    | 'not_for_channel'
    | 'channel_disabled';
  fulfilmentId?: string | null;
  reason?: string;
}

const leaseTime = (ms: number) => dbTime(new Date(Date.now() + ms));

/**
 * Tells the order's channel about one shipment, once: the shipment is leased (one sender at a
 * time), the connector's `sendFulfilment` is called through the channel's HTTP client (its rate
 * limit and retries), and the answer is recorded — `sent` with the channel's fulfilment id, or
 * `refused` with its reason. A shipment that is `sent` or `refused` is never sent again. A passing
 * failure leaves it `pending` (with the error as its reason) and is thrown, for the job to retry.
 */
export async function sendShipment(ctx: ChannelContext, shipmentId: number): Promise<FulfilmentOutcome> {
  const { db } = ctx;
  const shipment = await db('shipments').where({ id: shipmentId }).first();
  if (!shipment) return { shipmentId, status: 'not_for_channel' };
  if (shipment.channel_state === 'sent') return { shipmentId, status: 'already_sent' };
  if (shipment.channel_state === 'refused') return { shipmentId, status: 'already_refused' };
  if (shipment.channel_state !== 'pending') return { shipmentId, status: 'not_for_channel' };

  const order = await db('orders').where({ id: shipment.order_id }).first('id', 'channel', 'external_id');
  const target = fulfilmentChannelOf(String(order.channel));
  const channel = target ? await findChannel(db, ctx.secretKey, target.channelId) : null;
  if (!target || !channel || channel.type !== target.type) {
    await finish(db, shipmentId, null, { status: 'refused', reason: 'the order’s channel no longer exists' });
    return { shipmentId, status: 'refused', reason: 'the order’s channel no longer exists' };
  }
  // A disabled channel keeps its shipments pending; they go when it is enabled again.
  if (!channel.enabled) return { shipmentId, status: 'channel_disabled' };

  const now = dbTime();
  // The lease's end is also its holder's mark: what this sender writes at the end is guarded by it,
  // so a sender whose lease ran out (and was taken by another) overwrites nothing.
  const lease = leaseTime(FULFILMENT_LEASE_MS);
  const taken = await db('shipments')
    .where({ id: shipmentId, channel_state: 'pending' })
    .andWhere((q) => q.whereNull('channel_lease_until').orWhere('channel_lease_until', '<', now))
    .update({
      channel_lease_until: lease,
      channel_attempts: db.raw('channel_attempts + 1'),
    });
  if (taken === 0) {
    const again = await db('shipments').where({ id: shipmentId }).first('channel_state');
    if (again?.channel_state === 'sent') return { shipmentId, status: 'already_sent' };
    if (again?.channel_state === 'refused') return { shipmentId, status: 'already_refused' };
    return { shipmentId, status: 'in_progress' };
  }

  try {
    const lines = await shipmentLines(db, shipmentId, channel.id);
    const fullyShipped = await orderFullyShippedBy(db, Number(order.id), shipmentId);
    const carrier = findCarrier(shipment.carrier);
    const connector = connectorOf(channel);
    const result = await connector.sendFulfilment!(connectorContext(ctx, channel), {
      shipmentId,
      externalOrderId: String(order.external_id),
      lines,
      tracking: {
        company: carrier?.company ?? shipment.carrier ?? null,
        number: shipment.tracking_number ?? null,
        url: shipment.tracking_url ?? null,
      },
      orderFullyShipped: fullyShipped,
    });
    await finish(db, shipmentId, lease, result);
    return result.status === 'sent'
      ? { shipmentId, status: 'sent', fulfilmentId: result.fulfilmentId }
      : { shipmentId, status: 'refused', reason: result.reason };
  } catch (err) {
    const message = (err as Error).message.slice(0, 1000);
    if (err instanceof PermanentError && !(err instanceof ChannelAuthError)) {
      // The channel will not take it as it is (an order it does not know, a bad request).
      await finish(db, shipmentId, lease, { status: 'refused', reason: message });
      return { shipmentId, status: 'refused', reason: message };
    }
    if (err instanceof ChannelAuthError) await recordChannelError(db, channel.id, `fulfilment: ${message}`);
    // Passing: stays pending with the error as its reason, free for the next attempt.
    await db('shipments')
      .where({ id: shipmentId, channel_state: 'pending', channel_lease_until: lease })
      .update({ channel_reason: message, channel_lease_until: null });
    throw err;
  }
}

/**
 * Records the channel's answer on a shipment still pending, and only under the lease it was sent
 * under (`lease`; null: a refusal decided without sending).
 */
async function finish(
  db: Conn,
  shipmentId: number,
  lease: string | null,
  result: FulfilmentResult,
): Promise<void> {
  await db('shipments')
    .where({ id: shipmentId, channel_state: 'pending' })
    .andWhere((q) => (lease === null ? q : q.where('channel_lease_until', lease)))
    .update(
      result.status === 'sent'
        ? {
            channel_state: 'sent',
            channel_fulfilment_id: result.fulfilmentId,
            channel_reason: null,
            channel_sent_at: dbTime(),
            channel_lease_until: null,
          }
        : {
            channel_state: 'refused',
            channel_reason: result.reason.slice(0, 1000),
            channel_lease_until: null,
          },
    );
}

/** The shipment's lines with the channel's ids for their SKUs (from the channel's SKU mapping). */
async function shipmentLines(db: Conn, shipmentId: number, channelId: number): Promise<FulfilmentLine[]> {
  const rows = await db('shipment_lines as sl')
    .join('order_lines as ol', 'ol.id', 'sl.order_line_id')
    .leftJoin(`${CHANNEL_SKUS} as cs`, (j) =>
      j.on('cs.sku_code', '=', 'ol.sku_code').andOn('cs.channel_id', '=', db.raw('?', [channelId])),
    )
    .where('sl.shipment_id', shipmentId)
    .orderBy('ol.line_no')
    .select('ol.sku_code', 'sl.quantity', 'cs.channel_sku', 'cs.product_id', 'cs.variant_id');
  return rows.map((r) => ({
    sku: String(r.sku_code),
    channelSku: r.channel_sku ?? null,
    productId: r.product_id ?? null,
    variantId: r.variant_id ?? null,
    quantity: Number(r.quantity),
  }));
}

/** Whether this shipment and those before it carry every unit of the order not cancelled. */
async function orderFullyShippedBy(db: Conn, orderId: number, shipmentId: number): Promise<boolean> {
  const lines = await db('order_lines').where({ order_id: orderId }).select('id', 'ordered', 'cancelled');
  const shipped: { order_line_id: unknown; units: unknown }[] = (await db('shipment_lines as sl')
    .join('shipments as s', 's.id', 'sl.shipment_id')
    .where('s.order_id', orderId)
    .andWhere('s.id', '<=', shipmentId)
    .groupBy('sl.order_line_id')
    .select('sl.order_line_id')
    .sum({ units: 'sl.quantity' })) as never;
  const by = new Map(shipped.map((r) => [Number(r.order_line_id), Number(r.units)]));
  return lines.every((l) => (by.get(Number(l.id)) ?? 0) >= Number(l.ordered) - Number(l.cancelled));
}

/**
 * Shipments still pending on enabled channels whose job may be lost (not leased now, older than
 * `olderThanMs`): the sweep queues them again. Oldest first.
 */
export async function dueFulfilments(
  ctx: Pick<ChannelContext, 'db'>,
  olderThanMs: number,
  limit = 200,
): Promise<{ channelId: number; shipmentId: number }[]> {
  const now = dbTime();
  const rows = await ctx
    .db('shipments as s')
    .join('orders as o', 'o.id', 's.order_id')
    .where('s.channel_state', 'pending')
    .andWhere('s.created_at', '<=', dbTime(new Date(Date.now() - olderThanMs)))
    .andWhere((q) => q.whereNull('s.channel_lease_until').orWhere('s.channel_lease_until', '<', now))
    .orderBy('s.id')
    .limit(limit)
    .select('s.id', 'o.channel');
  const enabled = new Set(
    (await ctx.db('channels').where('enabled', true).select('id')).map((r) => Number(r.id)),
  );
  return rows
    .map((r) => ({ shipmentId: Number(r.id), target: fulfilmentChannelOf(String(r.channel)) }))
    .filter((r) => r.target && enabled.has(r.target.channelId))
    .map((r) => ({ shipmentId: r.shipmentId, channelId: r.target!.channelId }));
}

export interface CancellationOutcome {
  orderId: number;
  status: 'sent' | 'refused' | 'not_sent';
  reason?: string;
}

/**
 * Tells the order's channel that we cancelled it, when the channel's settings ask for that
 * (`sendCancellations`), without refunding or restocking there. Cancelling an order twice on the
 * channel is harmless (the channel answers that it is cancelled already), so a retried job needs no
 * state of its own; the outcome is logged, and a refusal is recorded as the channel's last error.
 */
export async function sendCancellation(ctx: ChannelContext, orderId: number): Promise<CancellationOutcome> {
  const { db } = ctx;
  const order = await db('orders').where({ id: orderId }).first('id', 'channel', 'external_id', 'status');
  if (order?.status !== 'cancelled') return { orderId, status: 'not_sent', reason: 'not cancelled' };
  const target = fulfilmentChannelOf(String(order.channel));
  const channel = target ? await findChannel(db, ctx.secretKey, target.channelId) : null;
  if (!target || !channel?.enabled) return { orderId, status: 'not_sent', reason: 'no channel' };
  const connector = connectorOf(channel);
  if (!connector.sendCancellation || !connector.sendsCancellations?.(channel.settings)) {
    return { orderId, status: 'not_sent', reason: 'sendCancellations is off' };
  }
  const history = await db('order_events')
    .where({ order_id: orderId, to_status: 'cancelled' })
    .orderBy('id', 'desc')
    .first('reason');
  try {
    const result = await connector.sendCancellation(connectorContext(ctx, channel), {
      orderId,
      externalOrderId: String(order.external_id),
      reason: String(history?.reason ?? 'cancelled'),
    });
    if (result.status === 'refused') {
      await recordChannelError(db, channel.id, `cancellation of order ${orderId}: ${result.reason}`);
      return { orderId, status: 'refused', reason: result.reason };
    }
    return { orderId, status: 'sent' };
  } catch (err) {
    if (err instanceof PermanentError && !(err instanceof ChannelAuthError)) {
      await recordChannelError(db, channel.id, `cancellation of order ${orderId}: ${(err as Error).message}`);
      return { orderId, status: 'refused', reason: (err as Error).message };
    }
    throw err;
  }
}
