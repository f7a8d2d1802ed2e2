import type { DeliveryReport, NormalizedOrder, RefundOfOrder } from '../../connectors/contract.js';
import { currentBusinessTimeZone } from '../customers/price-book.js';
import { type Db, dbTime, forUpdate, type Tx } from '../db/connection.js';
import { isDuplicateKeyError, withTransaction } from '../db/retry.js';
import type { CanonicalOrder, OrderInput } from '../domain/order-input.js';
import { OPEN_STATUSES } from '../domain/order-status.js';
import { ordersReceived } from '../metrics.js';
import { amendLocked } from '../orders/amend.js';
import { fillBackorders } from '../orders/backorders.js';
import { cancelLocked } from '../orders/cancel.js';
import { INBOUND_EVENTS, insertOrder, insertOrders } from '../orders/intake.js';
import { lockRuleRows } from '../orders/order-rules.js';
import { type LockedOrder, lockOrderForChange, ORDERS } from '../orders/order-store.js';
import { lockStock } from '../stock/stock-store.js';
import { applyDeliveryReport } from './channel-deliveries.js';
import {
  applyChannelRefunds,
  type ChannelReturns,
  changedAnything,
  channelUnits,
  returnsNote,
  withRefundMoney,
} from './channel-refunds.js';
import { type Channel, channelKey } from './channel-store.js';
import { mapOrderLines, mapOrdersLines } from './sku-map.js';

/** What applying one inbound event did to our order. */
export type ApplyOutcome =
  /** A new order was stored (`received`, queued for processing). */
  | 'created'
  /** The order's lines changed (or a held order was released for another try). */
  | 'updated'
  /** The order was cancelled and its reservations released. */
  | 'cancelled'
  /** Nothing to change. */
  | 'unchanged'
  /** The payload is older than what we hold: ignored. */
  | 'stale'
  /** This delivery was already applied. */
  | 'duplicate'
  /** The change could not be applied to the order in its state (e.g. already shipped). */
  | 'not_applied'
  /** The payload could not be read; the event is stored with the error, for a replay. */
  | 'failed'
  /** Nothing to do for this event (e.g. deletion of an order we never had). */
  | 'ignored';

export type OrderEventKind =
  | 'order.upsert'
  | 'order.cancel'
  | 'order.delete'
  | 'order.refund'
  | 'order.delivery';

export interface ChannelOrderEvent {
  /** The channel's de-duplication key for this delivery. */
  deliveryId: string;
  topic: string;
  kind: OrderEventKind;
  /** The body exactly as received (webhooks) or as read from the channel (pulls). */
  rawPayload: string;
  /** The channel's id of the order the event is about (all a deletion may carry). */
  externalId: string | null;
  /** The order read from the payload; null when it could not be read (see `readError`). */
  order: NormalizedOrder | null;
  /** With `order.refund`: the refund read from the payload (null order). */
  refund?: RefundOfOrder;
  /** With `order.delivery`: the delivery report read from the payload (null order). */
  delivery?: DeliveryReport;
  readError?: string;
}

export interface ApplyResult {
  outcome: ApplyOutcome;
  eventId: number;
  orderId: number | null;
  note?: string;
  /** Orders that are now `received` and need processing. */
  toProcess: number[];
}

const EMPTY: number[] = [];

/**
 * Stores an inbound event of a channel (unless this delivery is already stored), then applies it
 * to the order. A delivery stored before but never applied (its process died, or the database
 * failed) is applied now; one applied before answers `duplicate` and changes nothing.
 */
export async function receiveChannelEvent(
  db: Db,
  channel: Channel,
  event: ChannelOrderEvent,
): Promise<ApplyResult> {
  const key = channelKey(channel);
  let eventId: number;
  try {
    const [id] = await db(INBOUND_EVENTS).insert({
      channel: key,
      delivery_id: event.deliveryId.slice(0, 191),
      topic: event.topic.slice(0, 64),
      kind: event.kind,
      external_id: (event.order?.externalId ?? event.externalId)?.slice(0, 191) ?? null,
      payload: event.rawPayload,
      received_at: dbTime(),
    });
    eventId = Number(id);
  } catch (err) {
    if (!isDuplicateKeyError(err)) throw err;
    const existing = await db(INBOUND_EVENTS)
      .where({ channel: key, delivery_id: event.deliveryId.slice(0, 191) })
      .first('id', 'order_id', 'processed_at');
    if (!existing) throw err;
    eventId = Number(existing.id);
    if (existing.processed_at !== null) {
      return {
        outcome: 'duplicate',
        eventId,
        orderId: existing.order_id === null ? null : Number(existing.order_id),
        toProcess: EMPTY,
      };
    }
  }
  return applyStoredEvent(db, channel, eventId, event, { replay: false });
}

/**
 * Applies a stored event to its order in one transaction and marks the event processed. A payload
 * older than the order's version is never applied; one of the same update time is (see
 * `applyInTx`). With `replay`, a held order whose lines did not change gets another try with
 * today's SKU mappings.
 */
export async function applyStoredEvent(
  db: Db,
  channel: Channel,
  eventId: number,
  event: ChannelOrderEvent,
  options: { replay: boolean },
): Promise<ApplyResult> {
  const order = event.order;
  // A deletion needs no more than the order's id; a refund alone its refund; anything else the order.
  const deletedId = event.kind === 'order.delete' ? (order?.externalId ?? event.externalId) : null;
  const refund = event.kind === 'order.refund' ? (event.refund ?? null) : null;
  const delivery = event.kind === 'order.delivery' ? (event.delivery ?? null) : null;
  if (!order && !deletedId && !refund && !delivery) {
    const error = (event.readError ?? 'the payload could not be read').slice(0, 2000);
    await db(INBOUND_EVENTS).where({ id: eventId }).update({ error, note: 'failed' });
    return { outcome: 'failed', eventId, orderId: null, note: error, toProcess: EMPTY };
  }
  let applied: Applied;
  try {
    const apply = () =>
      withTransaction(db, (tx) =>
        deletedId
          ? applyDeletion(tx, channel, eventId, deletedId)
          : refund
            ? applyRefund(tx, channel, eventId, refund)
            : delivery
              ? applyDelivery(tx, channel, eventId, delivery)
              : applyInTx(tx, channel, eventId, event.kind, order as NormalizedOrder, options.replay),
      );
    try {
      applied = await apply();
    } catch (err) {
      // Two deliveries of one new order at once: the second insert meets the first's row. Once
      // more, it finds the order and applies to it.
      if (!isDuplicateKeyError(err)) throw err;
      applied = await apply();
    }
  } catch (err) {
    await recordFailedAttempt(db, eventId, err).catch(() => {});
    throw new UnappliedEventError(eventId, err);
  }
  // Stock the order gave back goes to waiting backorders, in transactions of their own that lock
  // those orders first (the relay does the same for any change this misses).
  if (applied.released.length > 0) await fillBackorders(db, applied.released, actorOf(channel));
  countReceived(channel, [applied.result]);
  return applied.result;
}

/** Orders that reached us from a channel: new ones, and repeated deliveries. */
function countReceived(channel: Channel, results: readonly ApplyResult[]): void {
  for (const r of results) {
    if (r.outcome === 'created' || r.outcome === 'duplicate')
      ordersReceived.inc({ channel: channelKey(channel), outcome: r.outcome });
  }
}

/** What one apply transaction did, and the SKUs whose stock it released (for backorders, after commit). */
interface Applied {
  result: ApplyResult;
  released: number[];
}

/** Longest wait before a failed event is tried again: it is never given up on (ms). */
const MAX_RETRY_DELAY_MS = 3_600_000;

/**
 * Notes a failed attempt to apply a stored event: the error, one more attempt, and when the event
 * relay is to try again (1 s, 2 s, 4 s … doubling per attempt, at most an hour).
 */
export async function recordFailedAttempt(db: Db, eventId: number, err: unknown): Promise<void> {
  const row = await db(INBOUND_EVENTS).where({ id: eventId }).first('attempts');
  const attempts = Number(row?.attempts ?? 0) + 1;
  const delay = Math.min(1000 * 2 ** Math.min(attempts - 1, 30), MAX_RETRY_DELAY_MS);
  await db(INBOUND_EVENTS)
    .where({ id: eventId })
    .update({
      error: (err as Error).message.slice(0, 2000),
      attempts,
      retry_at: dbTime(new Date(Date.now() + delay)),
    });
}

/** The event is stored, but applying it failed: a replay or the pending sweep can apply it later. */
export class UnappliedEventError extends Error {
  override name = 'UnappliedEventError';
  constructor(
    readonly eventId: number,
    cause: unknown,
  ) {
    super((cause as Error)?.message ?? String(cause), { cause });
  }
}

const actorOf = (channel: Channel) => `channel:${channelKey(channel)}`.slice(0, 64);

/** Marks the event processed with what applying it did, in the transaction that did it. */
async function finishEvent(
  tx: Tx,
  eventId: number,
  now: string,
  outcome: ApplyOutcome,
  orderId: number | null,
  note?: string,
  toProcess: number[] = EMPTY,
  released: number[] = EMPTY,
): Promise<Applied> {
  await tx(INBOUND_EVENTS)
    .where({ id: eventId })
    .update({
      processed_at: now,
      order_id: orderId,
      error: null,
      note: (note ? `${outcome}: ${note}` : outcome).slice(0, 255),
      // A webhook is stored before its payload is read: the order's id is known from here on.
      ...(orderId === null
        ? {}
        : {
            external_id: tx.raw('COALESCE(external_id, (SELECT external_id FROM orders WHERE id = ?))', [
              orderId,
            ]),
          }),
    });
  return { result: { outcome, eventId, orderId, ...(note ? { note } : {}), toProcess }, released };
}

/**
 * The channel deleted (trashed) an order: an open one is cancelled and its reservations released;
 * one we never had, or that is past cancelling, stays as it is. A deletion is final, so it needs no
 * version check.
 */
async function applyDeletion(
  tx: Tx,
  channel: Channel,
  eventId: number,
  externalId: string,
): Promise<Applied> {
  const now = dbTime();
  const locked = await lockOrderForChange(tx, { channel: channelKey(channel), externalId });
  if (!locked)
    return finishEvent(tx, eventId, now, 'ignored', null, 'deleted on the channel; we never had it');
  const { order } = locked;
  if (!OPEN_STATUSES.includes(order.status)) {
    return finishEvent(tx, eventId, now, 'unchanged', order.id, `already ${order.status}`);
  }
  const released = await cancelLocked(tx, locked, 'deleted on the channel', actorOf(channel), now);
  return finishEvent(tx, eventId, now, 'cancelled', order.id, undefined, EMPTY, released);
}

/**
 * A refund that arrives alone (Shopify `refunds/create`): the refunded units of the order that
 * shipped become a return (see `applyChannelRefunds`), once. A refund of an order we never had is
 * ignored: the order's own payload, when it comes, lists its refunds.
 */
async function applyRefund(tx: Tx, channel: Channel, eventId: number, of: RefundOfOrder): Promise<Applied> {
  const now = dbTime();
  const locked = await lockOrderForChange(tx, {
    channel: channelKey(channel),
    externalId: of.externalOrderId,
  });
  if (!locked) return finishEvent(tx, eventId, now, 'ignored', null, 'a refund of an order we do not have');
  const made = await applyChannelRefunds(tx, channel, locked, [of.refund], null, actorOf(channel), now);
  if (!changedAnything(made))
    return finishEvent(tx, eventId, now, 'unchanged', locked.order.id, 'no shipped units to return');
  return finishEvent(tx, eventId, now, 'updated', locked.order.id, returnsNote(made), EMPTY, made.restocked);
}

/**
 * A channel's report of a fulfilment's delivery (Shopify fulfillment events): recorded on the
 * shipment it is about, and the order delivered once everything shipped is (see
 * `applyDeliveryReport`). A report of an order or fulfilment we do not have is ignored, with why.
 */
async function applyDelivery(
  tx: Tx,
  channel: Channel,
  eventId: number,
  report: DeliveryReport,
): Promise<Applied> {
  const now = dbTime();
  const done = await applyDeliveryReport(tx, channel, report, actorOf(channel), now);
  return finishEvent(tx, eventId, now, done.outcome, done.orderId, done.note);
}

/**
 * What applying a version did, with the returns its refunds made: a version whose lines could not
 * change (the order shipped) but whose refunds brought units back did update the order.
 */
function withReturns(
  made: ChannelReturns,
  outcome: ApplyOutcome,
  note: string | undefined,
  released: number[] = EMPTY,
): { outcome: ApplyOutcome; note: string | undefined; released: number[] } {
  if (!changedAnything(made)) return { outcome, note, released };
  return {
    outcome: outcome === 'unchanged' || outcome === 'not_applied' ? 'updated' : outcome,
    note: note ? `${returnsNote(made)}; ${note}` : returnsNote(made),
    released: [...new Set([...released, ...made.restocked])],
  };
}

/**
 * Applies one version of a channel's order. Lock first: the order row (found by channel and
 * external id) is locked before anything is read; a new order is created by its insert, and a
 * second delivery of the same new order meets the unique key (the caller tries again, and then
 * finds it). The channel side decides only what is channel business — which of our SKUs the lines
 * are, and whether this version is newer than the one we hold — and leaves the change itself to
 * the order lifecycle's commands (create, cancel, amend).
 */
async function applyInTx(
  tx: Tx,
  channel: Channel,
  eventId: number,
  kind: OrderEventKind,
  incoming: NormalizedOrder,
  replay: boolean,
): Promise<Applied> {
  const now = dbTime();
  const key = channelKey(channel);
  const actor = actorOf(channel);
  const finish = (
    outcome: ApplyOutcome,
    orderId: number | null,
    note?: string,
    toProcess?: number[],
    released?: number[],
  ) => finishEvent(tx, eventId, now, outcome, orderId, note, toProcess, released);
  const cancelled = kind !== 'order.upsert' || incoming.cancelled;

  const locked = await lockOrderForChange(tx, { channel: key, externalId: incoming.externalId });
  const canonical = await toCanonical(tx, channel, incoming, now);
  if (!locked) {
    const orderId = await insertOrder(tx, {
      channel: key,
      order: canonical,
      actor,
      now,
      channelUpdatedAt: incoming.updatedAt,
    });
    if (cancelled) {
      // A cancellation that arrives first (or alone) still yields the order, cancelled.
      const created = (await lockOrderForChange(tx, { id: orderId })) as LockedOrder;
      await cancelLocked(tx, created, 'cancelled on the channel', actor, now);
      return finish('cancelled', orderId, 'cancelled on the channel before we had it');
    }
    return finish('created', orderId, undefined, [orderId]);
  }

  const { order } = locked;
  const stored = order.channelUpdatedAt ? Date.parse(order.channelUpdatedAt) : null;
  const at = Date.parse(incoming.updatedAt);
  if (stored !== null && at < stored) {
    return finish('stale', order.id, `the channel's update time ${incoming.updatedAt} is older than ours`);
  }
  // The same update time is not the same version: channels keep it to the second (WooCommerce's
  // date_modified), and two changes in one second share it. Such a payload is applied; one that
  // changes nothing is found so by the amendment ('unchanged'), and a repeat of the very same
  // delivery never gets here (it is a duplicate).
  if (stored === null || at > stored) {
    await tx(ORDERS)
      .where({ id: order.id })
      .update({ channel_updated_at: dbTime(new Date(at)) });
  }

  // Paid on the channel after we took the order: its invoices will be settled by the channel.
  if (incoming.paid)
    await tx(ORDERS).where({ id: order.id, paid_on_channel: false }).update({ paid_on_channel: true });
  // The version's refunds of units that shipped come back as returns, once each (lines that did
  // not ship are the amendment's or the cancellation's below). Stock rows and the invoice sequence
  // are locked here, after the order. An order still open (partly shipped) that this same version
  // also cancels first takes, in the lock order, what the cancellation will lock (its customer,
  // salesperson, contract lines and promotion counters, then all its stock rows), so that nothing
  // is locked after the return's stock rows or its invoice sequence.
  if (cancelled && incoming.refunds?.length && OPEN_STATUSES.includes(order.status)) {
    const ctx = { actor, now, timeZone: currentBusinessTimeZone(), dryRun: false };
    await lockRuleRows(tx, { order, lines: locked.lines }, ctx);
    await lockStock(
      tx,
      locked.lines.map((l) => l.skuId).filter((id): id is number => id !== null),
    );
  }
  const returned = incoming.refunds
    ? await applyChannelRefunds(
        tx,
        channel,
        locked,
        incoming.refunds,
        channelUnits(canonical.lines),
        actor,
        now,
        { money: false },
      )
    : { returns: [], restocked: [], money: [] };
  // The refunds' money after whatever else this version changes (its credit notes and the order's
  // channel receipt are the last locks of the transaction).
  const money = (made: ChannelReturns) =>
    incoming.refunds
      ? withRefundMoney(tx, locked, incoming.refunds, made, actor, now)
      : Promise.resolve(made);

  if (cancelled) {
    if (!OPEN_STATUSES.includes(order.status)) {
      const r = withReturns(await money(returned), 'unchanged', `already ${order.status}`);
      return finish(r.outcome, order.id, r.note, EMPTY, r.released);
    }
    const released = await cancelLocked(tx, locked, 'cancelled on the channel', actor, now);
    const r = withReturns(await money(returned), 'cancelled', undefined, released);
    return finish(r.outcome, order.id, r.note, EMPTY, r.released);
  }

  const amended = await amendLocked(
    tx,
    locked,
    {
      lines: canonical.lines,
      // A payload that says nothing about money (a pulled GraphQL node) leaves the order's as it is.
      ...(incoming.money ? { money: canonical } : {}),
      problems: canonical.problems ?? [],
      actor,
      retryHeld: replay,
    },
    now,
  );
  const r = withReturns(await money(returned), amended.outcome, amended.note, amended.released);
  return finish(r.outcome, order.id, r.note, amended.toProcess, r.released);
}

/** The channel's order in our terms: its lines mapped to our SKUs, with any problems found. */
async function toCanonical(
  tx: Tx,
  channel: Channel,
  incoming: NormalizedOrder,
  now: string,
): Promise<CanonicalOrder> {
  const mapped = await mapOrderLines(tx, channel.id, incoming, now);
  return {
    externalId: incoming.externalId,
    currency: incoming.currency,
    placedAt: incoming.placedAt,
    ...(incoming.customer ? { customer: incoming.customer } : {}),
    lines: mapped.lines,
    ...channelMoney(incoming),
    problems: [...incoming.problems, ...mapped.problems],
    ...(incoming.paid ? { paidOnChannel: true } : {}),
  };
}

/**
 * What a channel's order says about its money, in the order's terms. Its tax is what the channel
 * says (the order's, else the sum of its lines', else none): a channel's order is never taxed from
 * our rates. Whether prices include tax is left to the channel's setting when the payload is silent.
 */
export function channelMoney(
  incoming: NormalizedOrder,
): Pick<OrderInput, 'shipping' | 'discount' | 'tax' | 'channelTotal' | 'pricesIncludeTax'> {
  const m = incoming.money ?? {};
  return {
    shipping: m.shipping ?? 0,
    discount: m.discount ?? 0,
    tax: m.tax ?? incoming.lines.reduce((sum, l) => sum + (l.tax ?? 0), 0),
    ...(m.total === undefined ? {} : { channelTotal: m.total }),
    ...(m.pricesIncludeTax === undefined ? {} : { pricesIncludeTax: m.pricesIncludeTax }),
  };
}

/** A stored event of a new order, read and ready to apply (see `applyNewOrders`). */
export interface NewOrderEvent {
  eventId: number;
  order: NormalizedOrder;
}

/**
 * Applies events that each bring a new order of this channel, all in one transaction: one look-up
 * of the SKU mappings, the orders written by the one order writer in one round trip, each event
 * marked applied with its order. This is how a burst of `orders/create` webhooks is applied at the
 * speed of the API path. Returns null, changing nothing, when any of the orders already exists
 * (another delivery of it came first): the caller then applies the events one by one, which sorts
 * out updates, staleness and duplicates exactly.
 */
export async function applyNewOrders(
  db: Db,
  channel: Channel,
  events: readonly NewOrderEvent[],
): Promise<ApplyResult[] | null> {
  if (events.length === 0) return [];
  const key = channelKey(channel);
  const actor = actorOf(channel);
  try {
    const results = await withTransaction(db, async (tx) => {
      const now = dbTime();
      // Lock first: any of these orders already stored (and locked by its writer) sends the group
      // down the one-by-one path.
      const existing = await forUpdate(
        tx(ORDERS)
          .where('channel', key)
          .whereIn(
            'external_id',
            events.map((e) => e.order.externalId),
          )
          .select('id'),
        tx,
      );
      if (existing.length > 0) return null;
      const mapped = await mapOrdersLines(
        tx,
        channel.id,
        events.map((e) => e.order),
        now,
      );
      const ids = await insertOrders(
        tx,
        events.map((e, i) => ({
          channel: key,
          order: {
            externalId: e.order.externalId,
            currency: e.order.currency,
            placedAt: e.order.placedAt,
            ...(e.order.customer ? { customer: e.order.customer } : {}),
            lines: mapped[i]!.lines,
            ...channelMoney(e.order),
            problems: [...e.order.problems, ...mapped[i]!.problems],
          },
          actor,
          now,
          channelUpdatedAt: e.order.updatedAt,
          fromEventId: e.eventId,
        })),
      );
      return events.map((e, i) => ({
        outcome: 'created' as const,
        eventId: e.eventId,
        orderId: ids[i]!,
        toProcess: [ids[i]!],
      }));
    });
    if (results) countReceived(channel, results);
    return results;
  } catch (err) {
    // A delivery of one of these orders, applied one by one elsewhere, got there between our look
    // and our insert: the one-by-one path sorts it out.
    if (isDuplicateKeyError(err)) return null;
    throw err;
  }
}
