import type { NormalizedOrder } from '../../connectors/contract.js';
import { type Db, dbTime, forUpdate, isoTime, type Tx } from '../db/connection.js';
import { isDuplicateKeyError, withTransaction } from '../db/retry.js';
import { WriteBatch } from '../db/write-batch.js';
import type { CanonicalOrder, OrderLineInput, OrderProblem } from '../domain/order-input.js';
import { orderTotal } from '../domain/order-input.js';
import { fulfilmentStatus, OPEN_STATUSES } from '../domain/order-status.js';
import { cancelLockedOrder, releaseReservations } from '../orders/fulfilment.js';
import { INBOUND_EVENTS, insertLines, insertOrder } from '../orders/intake.js';
import {
  changeStatus,
  type LineRow,
  lockOrder,
  ORDER_ALLOCATIONS,
  ORDER_LINES,
  ORDERS,
  type OrderRow,
  orderLines,
  toOrder,
} from '../orders/order-store.js';
import { fillBackorders, planReservation, writeOrderSide, writeStockSide } from '../orders/reservation.js';
import { addToOutbox } from '../outbox/outbox.js';
import { lockStock } from '../stock/stock-store.js';
import { type Channel, channelKey } from './channel-store.js';
import { mapOrderLines } from './sku-map.js';

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

export type OrderEventKind = 'order.upsert' | 'order.cancel' | 'order.delete';

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
 * Applies a stored event to its order in one transaction and marks the event processed. With
 * `replay`, a payload of the same version as the order is applied again (a held order gets
 * another try with today's SKU mappings); an older one never is.
 */
export async function applyStoredEvent(
  db: Db,
  channel: Channel,
  eventId: number,
  event: ChannelOrderEvent,
  options: { replay: boolean },
): Promise<ApplyResult> {
  const order = event.order;
  // A deletion needs no more than the order's id; anything else needs the order itself.
  const deletedId = event.kind === 'order.delete' ? (order?.externalId ?? event.externalId) : null;
  if (!order && !deletedId) {
    const error = (event.readError ?? 'the payload could not be read').slice(0, 2000);
    await db(INBOUND_EVENTS).where({ id: eventId }).update({ error, note: 'failed' });
    return { outcome: 'failed', eventId, orderId: null, note: error, toProcess: EMPTY };
  }
  try {
    const apply = () =>
      withTransaction(db, (tx) =>
        deletedId
          ? applyDeletion(tx, channel, eventId, deletedId)
          : applyInTx(tx, channel, eventId, event.kind, order as NormalizedOrder, options.replay),
      );
    try {
      return await apply();
    } catch (err) {
      // Two deliveries of one new order at once: the second insert meets the first's row. Once
      // more, it finds the order and applies to it.
      if (!isDuplicateKeyError(err)) throw err;
      return await apply();
    }
  } catch (err) {
    await db(INBOUND_EVENTS)
      .where({ id: eventId })
      .update({ error: (err as Error).message.slice(0, 2000), attempts: db.raw('attempts + 1') })
      .catch(() => {});
    throw new UnappliedEventError(eventId, err);
  }
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
): Promise<ApplyResult> {
  await tx(INBOUND_EVENTS)
    .where({ id: eventId })
    .update({
      processed_at: now,
      order_id: orderId,
      error: null,
      note: (note ? `${outcome}: ${note}` : outcome).slice(0, 255),
    });
  return { outcome, eventId, orderId, ...(note ? { note } : {}), toProcess };
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
): Promise<ApplyResult> {
  const now = dbTime();
  const row = await forUpdate(
    tx(ORDERS).where({ channel: channelKey(channel), external_id: externalId }),
    tx,
  ).first();
  if (!row) return finishEvent(tx, eventId, now, 'ignored', null, 'deleted on the channel; we never had it');
  const order = toOrder(row);
  if (!OPEN_STATUSES.includes(order.status)) {
    return finishEvent(tx, eventId, now, 'unchanged', order.id, `already ${order.status}`);
  }
  await cancelLockedOrder(tx, order, 'deleted on the channel', actorOf(channel), now);
  return finishEvent(tx, eventId, now, 'cancelled', order.id);
}

async function applyInTx(
  tx: Tx,
  channel: Channel,
  eventId: number,
  kind: OrderEventKind,
  incoming: NormalizedOrder,
  replay: boolean,
): Promise<ApplyResult> {
  const now = dbTime();
  const key = channelKey(channel);
  const actor = actorOf(channel);
  const finish = (outcome: ApplyOutcome, orderId: number | null, note?: string, toProcess?: number[]) =>
    finishEvent(tx, eventId, now, outcome, orderId, note, toProcess);

  const mapped = await mapOrderLines(tx, channel.id, incoming, now);
  const canonical: CanonicalOrder = {
    externalId: incoming.externalId,
    currency: incoming.currency,
    placedAt: incoming.placedAt,
    ...(incoming.customer ? { customer: incoming.customer } : {}),
    lines: mapped.lines,
    problems: [...incoming.problems, ...mapped.problems],
  };
  const cancelled = kind !== 'order.upsert' || incoming.cancelled;

  const row = await forUpdate(
    tx(ORDERS).where({ channel: key, external_id: incoming.externalId }),
    tx,
  ).first();
  if (!row) {
    const orderId = await insertOrder(tx, {
      channel: key,
      order: canonical,
      actor,
      now,
      channelUpdatedAt: incoming.updatedAt,
    });
    if (cancelled) {
      // A cancellation that arrives first (or alone) still yields the order, cancelled.
      const order = (await lockOrder(tx, orderId)) as OrderRow;
      await cancelLockedOrder(tx, order, 'cancelled on the channel', actor, now);
      return finish('cancelled', orderId, 'cancelled on the channel before we had it');
    }
    return finish('created', orderId, undefined, [orderId]);
  }

  const order = toOrder(row);
  const stored = row.channel_updated_at ? Date.parse(isoTime(row.channel_updated_at) as string) : null;
  const at = Date.parse(incoming.updatedAt);
  if (stored !== null && at < stored) {
    return finish('stale', order.id, `the channel's update time ${incoming.updatedAt} is older than ours`);
  }
  if (stored !== null && at === stored && !replay) return finish('unchanged', order.id, 'same version');
  if (stored === null || at > stored) {
    await tx(ORDERS)
      .where({ id: order.id })
      .update({ channel_updated_at: dbTime(new Date(at)) });
  }

  if (cancelled) {
    if (!OPEN_STATUSES.includes(order.status))
      return finish('unchanged', order.id, `already ${order.status}`);
    await cancelLockedOrder(tx, order, 'cancelled on the channel', actor, now);
    return finish('cancelled', order.id);
  }

  const lines = await orderLines(tx, order.id);
  const problems = canonical.problems ?? [];
  const autoHold = order.status === 'on_hold' && order.holdReason !== 'manual_hold';
  if (sameLines(lines, canonical.lines) && sameProblems(order.intakeProblems, problems)) {
    if (replay && autoHold) {
      await releaseFromHold(tx, order, problems, actor, now);
      return finish('updated', order.id, 'released from hold for another try', [order.id]);
    }
    return finish('unchanged', order.id, 'no change to the lines');
  }
  if (order.status === 'received' || autoHold) {
    await tx(ORDER_LINES).where({ order_id: order.id }).delete();
    await insertLines(tx, order.id, canonical.lines);
    await tx(ORDERS)
      .where({ id: order.id })
      .update({ total_amount: orderTotal(canonical.lines), updated_at: now });
    await releaseFromHold(tx, order, problems, actor, now);
    return finish('updated', order.id, 'lines replaced', [order.id]);
  }
  if (
    (order.status === 'confirmed' || order.status === 'backordered') &&
    lines.every((l) => l.shipped === 0)
  ) {
    if (problems.length > 0) {
      return finish('not_applied', order.id, `the new lines have problems: ${problems[0]!.message}`);
    }
    const applied = await reReserve(tx, order, lines, canonical.lines, actor, now);
    if (!applied.ok) return finish('not_applied', order.id, applied.reason);
    return finish('updated', order.id, 'lines replaced and reserved again');
  }
  return finish('not_applied', order.id, `lines not changed: the order is ${order.status}`);
}

function sameLines(current: readonly LineRow[], next: readonly OrderLineInput[]): boolean {
  return (
    current.length === next.length &&
    current.every(
      (l, i) =>
        l.sku === next[i]!.sku && l.ordered === next[i]!.quantity && l.unitPrice === next[i]!.unitPrice,
    )
  );
}

function sameProblems(current: unknown, next: readonly OrderProblem[]): boolean {
  const codes = (list: unknown) =>
    (Array.isArray(list) ? list : []).map((p: OrderProblem) => `${p.code}:${p.lineNo ?? ''}`).join(',');
  return codes(current) === codes(next);
}

/** Sets the order's intake problems; an automatically held order goes back to `received`. */
async function releaseFromHold(
  tx: Tx,
  order: OrderRow,
  problems: readonly OrderProblem[],
  actor: string,
  now: string,
): Promise<void> {
  await tx(ORDERS)
    .where({ id: order.id })
    .update({ intake_problems: problems.length ? JSON.stringify(problems) : null });
  if (order.status !== 'on_hold') return;
  const batch = new WriteBatch(tx);
  changeStatus(
    tx,
    batch,
    order,
    { to: 'received', reason: 'updated by the channel; processing again', actor },
    now,
  );
  await batch.flush();
}

/**
 * Replaces the lines of a reserved order that has not shipped: gives back its reservations, writes
 * the new lines and reserves them again, all in this transaction (so no other order can take the
 * units in between), then lets backorders take what the order no longer needs.
 */
async function reReserve(
  tx: Tx,
  order: OrderRow,
  oldLines: readonly LineRow[],
  next: readonly OrderLineInput[],
  actor: string,
  now: string,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const skuRows = await tx('skus')
    .whereIn('code', [...new Set(next.map((l) => l.sku))])
    .select('id', 'code');
  const skuIdOf = new Map(skuRows.map((r) => [String(r.code), Number(r.id)]));
  const unknown = next.filter((l) => !skuIdOf.has(l.sku)).map((l) => l.sku);
  if (unknown.length > 0) return { ok: false, reason: `unknown SKUs ${unknown.join(', ')}` };

  const oldSkus = oldLines.map((l) => l.skuId).filter((id): id is number => id !== null);
  // Lock every stock row involved, old and new, in one sorted pass before changing any.
  await lockStock(tx, [...oldSkus, ...skuIdOf.values()]);
  const released = await releaseReservations(tx, order.id, oldLines, now);
  if (oldLines.length > 0) {
    await tx(ORDER_ALLOCATIONS)
      .whereIn(
        'order_line_id',
        oldLines.map((l) => l.id),
      )
      .delete();
  }
  await tx(ORDER_LINES).where({ order_id: order.id }).delete();
  await insertLines(tx, order.id, next);
  await tx(ORDERS)
    .where({ id: order.id })
    .update({ total_amount: orderTotal(next), updated_at: now });

  const lines = await orderLines(tx, order.id);
  for (const l of lines) l.skuId = skuIdOf.get(l.sku) as number;
  const pool = await lockStock(tx, [...skuIdOf.values()]);
  const plan = planReservation(
    order.id,
    lines.map((line) => ({ line, need: line.ordered })),
    pool,
    'reservation',
  );
  const batch = new WriteBatch(tx);
  writeOrderSide(tx, batch, plan);
  writeStockSide(tx, batch, plan, now);
  const status = fulfilmentStatus(lines);
  const reason = 'lines updated by the channel';
  if (!changeStatus(tx, batch, order, { to: status, reason, actor }, now)) {
    batch.addSql(
      'INSERT INTO order_events (order_id, from_status, to_status, reason, actor, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      [order.id, order.status, order.status, reason, actor, now],
    );
  }
  addToOutbox(tx, batch, [{ topic: 'stock.changed', payload: { skuIds: [...skuIdOf.values()] } }], now);
  await batch.flush();
  // What the order no longer holds goes to waiting backorders (it took its own share first).
  await fillBackorders(tx, released, actor, now);
  return { ok: true };
}
