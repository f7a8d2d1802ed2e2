import type {
  ConnectorDefinition,
  DeliveryReport,
  NormalizedOrder,
  RefundOfOrder,
} from '../../connectors/contract.js';
import { notFound } from '../errors/domain-errors.js';
import { INBOUND_EVENTS } from '../orders/intake.js';
import { ORDERS } from '../orders/order-store.js';
import { setOrderStatus } from '../orders/status.js';
import {
  type ApplyResult,
  applyStoredEvent,
  type OrderEventKind,
  recordFailedAttempt,
  UnappliedEventError,
} from './apply-order.js';
import { type ChannelContext, connectorOf, getChannel } from './channel-context.js';
import { type Channel, channelKey, findChannel } from './channel-store.js';
import { connectorContext } from './connector-runtime.js';
import { readOrder } from './webhook-intake.js';

export interface ReplaySummary {
  orders: number;
  outcomes: Record<string, number>;
  errors: { orderId: number; error: string }[];
}

/** The channel an inbound event's `channel` key (`shopify:3`) names; null for the built-in ones. */
export async function channelOfKey(
  ctx: Pick<ChannelContext, 'db' | 'secretKey'>,
  key: string,
): Promise<Channel | null> {
  const m = /^([a-z0-9_-]+):(\d+)$/.exec(key);
  if (!m) return null;
  const channel = await findChannel(ctx.db, ctx.secretKey, Number(m[2]));
  return channel && channel.type === m[1] ? channel : null;
}

/**
 * Processes a stored inbound event again, e.g. after an administrator mapped a missing SKU: the
 * order is brought to what the payload says with today's mappings, never duplicated. For the
 * built-in channels (API, Excel) a held order is released for another try.
 */
export function replayEvent(ctx: ChannelContext, eventId: number, actor = 'admin'): Promise<ApplyResult> {
  return applyEventById(ctx, eventId, true, undefined, actor);
}

/** An event's order as read already (see `readEventOrder`), so that the channel is not asked twice. */
export type ReadOrder = {
  order: NormalizedOrder | null;
  refund?: RefundOfOrder;
  delivery?: DeliveryReport;
  readError?: string;
};

/**
 * Applies a stored webhook event for the first time (the event worker's job). One applied before
 * answers `duplicate` and changes nothing, so a job that runs twice is harmless. `read` is its
 * order when the caller has read it already.
 */
export function applyEvent(ctx: ChannelContext, eventId: number, read?: ReadOrder): Promise<ApplyResult> {
  return applyEventById(ctx, eventId, false, read);
}

async function applyEventById(
  ctx: ChannelContext,
  eventId: number,
  replay: boolean,
  preRead?: ReadOrder,
  actor = 'admin',
): Promise<ApplyResult> {
  const row = await ctx.db(INBOUND_EVENTS).where({ id: eventId }).first();
  if (!row) throw notFound(`inbound event ${eventId}`);
  if (!replay && row.processed_at !== null) {
    const orderId = row.order_id === null ? null : Number(row.order_id);
    return { outcome: 'duplicate', eventId, orderId, toProcess: [] };
  }
  const channel = await channelOfKey(ctx, String(row.channel));
  if (!channel)
    return releaseBuiltIn(ctx, eventId, row.order_id === null ? null : Number(row.order_id), actor);
  const kind = (row.kind as OrderEventKind | null) ?? 'order.upsert';
  let read: ReadOrder;
  try {
    read = preRead ?? (await readEventOrder(ctx, channel, String(row.payload), kind));
  } catch (err) {
    // The channel could not be asked for what the payload leaves out: tried again later.
    await recordFailedAttempt(ctx.db, eventId, err).catch(() => {});
    throw new UnappliedEventError(eventId, err);
  }
  const result = await applyStoredEvent(
    ctx.db,
    channel,
    eventId,
    {
      deliveryId: String(row.delivery_id),
      topic: String(row.topic),
      kind,
      externalId: (row.external_id as string | null) ?? null,
      rawPayload: String(row.payload),
      ...read,
    },
    { replay },
  );
  await ctx.enqueueOrders(result.toProcess);
  return result;
}

/**
 * Reads the order of a stored payload, completed first with what the connector asks the channel
 * for (`completePayload`, e.g. WooCommerce's refund lines). Throws when that request fails.
 */
export async function readEventOrder(
  ctx: ChannelContext,
  channel: Channel,
  raw: string,
  kind: OrderEventKind,
): Promise<ReadOrder> {
  const connector = connectorOf(channel);
  if (
    !connector.completePayload ||
    kind === 'order.delete' ||
    kind === 'order.refund' ||
    kind === 'order.delivery'
  )
    return readStoredOrder(connector, raw, kind);
  let payload: unknown;
  try {
    payload = connector.parsePayload ? connector.parsePayload(raw) : JSON.parse(raw);
  } catch (err) {
    return { order: null, readError: `stored payload is not JSON: ${(err as Error).message}` };
  }
  const complete = await connector.completePayload(connectorContext(ctx, channel), payload);
  return readOrder(connector, complete, kind);
}

/** Reads the order of a stored payload; what cannot be read says why. */
export function readStoredOrder(
  connector: ConnectorDefinition<unknown>,
  raw: string,
  kind: OrderEventKind,
): ReadOrder {
  try {
    return readOrder(connector, connector.parsePayload ? connector.parsePayload(raw) : JSON.parse(raw), kind);
  } catch (err) {
    return { order: null, readError: `stored payload is not JSON: ${(err as Error).message}` };
  }
}

/** An API or Excel order has no channel to ask again: a held order is released for another try. */
async function releaseBuiltIn(
  ctx: ChannelContext,
  eventId: number,
  orderId: number | null,
  actor: string,
): Promise<ApplyResult> {
  const base = { eventId, orderId, toProcess: [] as number[] };
  if (orderId === null) return { ...base, outcome: 'ignored', note: 'the event has no order' };
  const order = await ctx.db(ORDERS).where({ id: orderId }).first('status', 'hold_reason');
  if (order?.status !== 'on_hold' || order.hold_reason === 'manual_hold') {
    return { ...base, outcome: 'unchanged', note: `the order is ${order?.status ?? 'gone'}` };
  }
  await setOrderStatus(ctx.db, orderId, 'received', 'replayed: processing again', actor);
  await ctx.enqueueOrders([orderId]);
  return { ...base, outcome: 'updated', note: 'released from hold for another try', toProcess: [orderId] };
}

/** Replays the latest event of every order of the channel held for a problem (not held by hand). */
export async function replayHeld(
  ctx: ChannelContext,
  channelId: number,
  actor = 'admin',
): Promise<ReplaySummary> {
  const channel = await getChannel(ctx, channelId);
  const held = await ctx
    .db(ORDERS)
    .where({ channel: channelKey(channel), status: 'on_hold' })
    .andWhere((q) => q.whereNull('hold_reason').orWhereNot('hold_reason', 'manual_hold'))
    .orderBy('id')
    .select('id');
  const summary: ReplaySummary = { orders: held.length, outcomes: {}, errors: [] };
  for (const { id } of held) {
    const event = await ctx.db(INBOUND_EVENTS).where({ order_id: id }).orderBy('id', 'desc').first('id');
    try {
      if (!event) throw new Error('no stored event for this order');
      const result = await replayEvent(ctx, Number(event.id), actor);
      summary.outcomes[result.outcome] = (summary.outcomes[result.outcome] ?? 0) + 1;
    } catch (err) {
      summary.errors.push({ orderId: Number(id), error: (err as Error).message });
    }
  }
  return summary;
}
