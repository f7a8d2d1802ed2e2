import { creditCancelledOrder } from '../billing/credit-notes.js';
import { returnContractDraws } from '../customers/contracts.js';
import { releaseOrderCredit } from '../customers/credit.js';
import { returnPromotionUses } from '../customers/promotions.js';
import { type Db, dbTime, type Tx } from '../db/connection.js';
import { WriteBatch } from '../db/write-batch.js';
import { OPEN_STATUSES } from '../domain/order-status.js';
import { InvalidTransitionError } from '../errors/domain-errors.js';
import { addToOutbox } from '../outbox/outbox.js';
import {
  applyStockDeltas,
  type LockedStock,
  lockStock,
  mergeDeltas,
  type StockDelta,
} from '../stock/stock-store.js';
import { fillBackorders } from './backorders.js';
import {
  changeStatus,
  type LockedOrder,
  ORDER_ALLOCATIONS,
  type OrderRow,
  saveLineQuantities,
  withOrderLocked,
} from './order-store.js';
import { fulfilmentChannelOf } from './ship.js';

export interface CancelResult {
  order: OrderRow;
  /** Orders whose backorders took the released stock. */
  filledOrders: number[];
}

/**
 * Cancels an open order: releases every reservation (ledger rows), cancels what was not shipped,
 * records the change; once that has committed, waiting backorders take the released units.
 */
export async function cancelOrder(
  db: Db,
  orderId: number,
  reason: string,
  actor: string,
  /** `tellChannel`: a cancellation of ours, sent to the order's channel when its settings ask (outbox `order.cancelled`). */
  options: { tellChannel?: boolean } = {},
): Promise<CancelResult> {
  const { order, released } = await withOrderLocked(db, orderId, async (tx, locked) => {
    const released = await cancelLocked(tx, locked, reason, actor);
    const target = options.tellChannel ? fulfilmentChannelOf(locked.order.channel) : null;
    if (target) {
      const batch = new WriteBatch(tx);
      addToOutbox(batch, [
        {
          topic: 'order.cancelled',
          payload: { orderId: locked.order.id, channelId: target.channelId, reason },
        },
      ]);
      await batch.flush();
    }
    return { order: locked.order, released };
  });
  const filledOrders = await fillBackorders(db, released, actor);
  return { order, filledOrders };
}

/** A cancellation a person asks for (API or console): the channel is told; without a reason, a default one. */
export function cancelOrderByStaff(db: Db, orderId: number, reason: string | undefined, actor: string) {
  return cancelOrder(db, orderId, reason ?? 'cancelled by admin', actor, { tellChannel: true });
}

/**
 * `cancelOrder` inside the caller's transaction, for an order it has locked with
 * `lockOrderForChange`. Refuses an order that is no longer open (InvalidTransitionError). Returns
 * the SKUs whose stock it released: the caller lets backorders take them after its commit
 * (`fillBackorders`), so that no transaction locks other orders while it holds stock rows.
 */
export async function cancelLocked(
  tx: Tx,
  locked: LockedOrder,
  reason: string,
  actor: string,
  now = dbTime(),
): Promise<number[]> {
  const { order, lines } = locked;
  if (!OPEN_STATUSES.includes(order.status)) {
    throw new InvalidTransitionError(
      order.status,
      'cancelled',
      `an order in status ${order.status} cannot be cancelled`,
    );
  }
  // Credit first: the customer's and salesperson's rows come before stock rows in the lock order.
  await releaseOrderCredit(tx, order, lines, actor, now);
  // Contract lines come before stock rows in the lock order: what was not shipped goes back first.
  await returnContractDraws(
    tx,
    order.id,
    lines.map((l) => ({ id: l.id, keep: l.shipped })),
    'order_cancelled',
    actor,
    now,
  );
  // Promotion counters come before stock rows in the lock order.
  await returnPromotionUses(tx, order.id, now);
  const released = await releaseReservations(tx, locked, now);
  const batch = new WriteBatch(tx);
  for (const line of lines) {
    // Everything not shipped is cancelled, including what an unprocessed order never reserved.
    line.cancelled = line.ordered - line.shipped;
    line.reserved = 0;
    line.backordered = 0;
    saveLineQuantities(batch, line);
  }
  changeStatus(batch, order, { to: 'cancelled', reason, actor }, now);
  await batch.flush();
  // Invoiced units that will now never ship are credited (the invoice sequence is locked last).
  await creditCancelledOrder(tx, order.id, reason);
  return released;
}

/**
 * Gives back every unit a locked order's lines hold reserved (stock rows and ledger rows,
 * allocation records to zero) and records the stock change in the outbox. Leaves line quantities
 * to the caller. Returns the SKUs that became more available.
 */
export async function releaseReservations(
  tx: Tx,
  locked: LockedOrder,
  now = dbTime(),
  /** The SKUs' stock rows, when the caller holds them locked already. */
  held?: LockedStock,
): Promise<number[]> {
  const allocations = locked.allocations.filter((a) => a.reserved > 0);
  const skuOf = new Map(locked.lines.map((l) => [l.id, l.skuId as number]));
  const released = [...new Set(allocations.map((a) => skuOf.get(a.lineId)!))];
  if (released.length === 0) return [];
  const stock = held ?? (await lockStock(tx, released));
  const batch = new WriteBatch(tx);
  const deltas: StockDelta[] = allocations.map((a) => ({
    skuId: skuOf.get(a.lineId)!,
    warehouseId: a.warehouseId,
    dOnHand: 0,
    dReserved: -a.reserved,
  }));
  applyStockDeltas(batch, stock, mergeDeltas(deltas), 'release', { type: 'order', id: locked.order.id }, now);
  for (const a of allocations) {
    batch.add(
      tx(ORDER_ALLOCATIONS)
        .where({ order_line_id: a.lineId, warehouse_id: a.warehouseId })
        .update({ reserved: 0 }),
    );
    a.reserved = 0;
  }
  addToOutbox(batch, [{ topic: 'stock.changed', payload: { skuIds: released } }], now);
  await batch.flush();
  return released;
}
