import type { Db } from '../db/connection.js';
import { WriteBatch } from '../db/write-batch.js';
import { APPROVABLE_HOLD_REASONS } from '../domain/credit.js';
import type { OrderStatus } from '../domain/order-status.js';
import { ApiError } from '../errors/api-error.js';
import { NotFoundError } from '../errors/domain-errors.js';
import { ordersHeld, ordersProcessed } from '../metrics.js';
import { changeStatus, type OrderRow, withOrderLocked } from './order-store.js';

/** Manual status changes staff may make: delivery, completion, holding, rejection, release from hold. */
export const MANUAL_TARGETS: readonly OrderStatus[] = [
  'delivered',
  'completed',
  'on_hold',
  'rejected',
  'received',
];

/** Moves an order to another status (InvalidTransitionError where the state machine says no). */
export async function setOrderStatus(
  db: Db,
  orderId: number,
  to: OrderStatus,
  reason: string,
  actor: string,
  { mayRejectCreditHold = true }: { mayRejectCreditHold?: boolean } = {},
): Promise<OrderRow> {
  return withOrderLocked(db, orderId, async (tx, { order }) => {
    // Checked under the order's lock: a credit hold is rejected by finance (approvals), not by hand.
    if (
      to === 'rejected' &&
      !mayRejectCreditHold &&
      APPROVABLE_HOLD_REASONS.includes(order.holdReason ?? '')
    ) {
      throw new ApiError(
        403,
        'forbidden',
        `order ${orderId} is held for ${order.holdReason}: only finance may reject a credit hold (POST /api/orders/{id}/reject)`,
        { holdReason: order.holdReason },
      );
    }
    const batch = new WriteBatch(tx);
    changeStatus(batch, order, { to, reason, actor, holdReason: 'manual_hold' });
    await batch.flush();
    return order;
  });
}

/** Takes an order off hold (back to `received`) and queues its processing again. */
export async function releaseOrder(
  db: Db,
  orderId: number,
  actor: string,
  enqueueOrders: (ids: number[]) => Promise<void>,
): Promise<OrderRow> {
  const order = await setOrderStatus(db, orderId, 'received', 'released from hold by admin', actor);
  await enqueueOrders([orderId]).catch(() => {});
  return order;
}

/** Puts a `received` order that could not be processed on hold, so that it is neither retried forever nor lost. */
export async function holdOrder(
  db: Db,
  orderId: number,
  reason: string,
  details: unknown,
  actor = 'system',
): Promise<boolean> {
  try {
    let channel = '';
    const held = await withOrderLocked(db, orderId, async (tx, { order }) => {
      if (order.status !== 'received') return false;
      channel = order.channel;
      const batch = new WriteBatch(tx);
      changeStatus(batch, order, { to: 'on_hold', reason, holdReason: reason, holdDetails: details, actor });
      await batch.flush();
      return true;
    });
    if (held) {
      // Processing ended here, as it does when processOrders holds an order.
      ordersProcessed.inc({ channel, outcome: 'on_hold' });
      ordersHeld.inc({ channel, reason });
    }
    return held;
  } catch (err) {
    if (err instanceof NotFoundError) return false;
    throw err;
  }
}
