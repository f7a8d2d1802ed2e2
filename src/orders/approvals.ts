import { type Conn, type Db, dbTime, isoTime } from '../db/connection.js';
import { WriteBatch } from '../db/write-batch.js';
import { APPROVABLE_HOLD_REASONS } from '../domain/credit.js';
import { orderTotal } from '../domain/order-input.js';
import { conflict } from '../errors/domain-errors.js';
import { storedMoney } from './money.js';
import { changeStatus, type OrderRow, withOrderLocked } from './order-store.js';

/**
 * Decisions on orders held for credit (issue 13), each with an actor and a reason, kept in
 * `order_approvals` and in the order's history:
 *
 * - approve: an order held `credit_limit` or `salesperson_credit_limit` goes back to `received`
 *   and through processing; credit control lets it pass for up to the value it had when approved
 *   (it is still booked on the counters); a larger value (an edit) is checked again;
 * - reject: a held order ends `rejected`.
 */

export interface Decision {
  order: OrderRow;
  approvalId: number;
}

export async function approveOrder(
  db: Db,
  orderId: number,
  reason: string,
  actor: string,
): Promise<Decision> {
  return decide(db, orderId, 'approved', reason, actor);
}

/** Approves a held order and queues its processing (the queue may be down: the relay queues it later). */
export async function approveAndProcess(
  db: Db,
  orderId: number,
  reason: string,
  actor: string,
  enqueueOrders: (ids: number[]) => Promise<void>,
): Promise<Decision> {
  const decision = await approveOrder(db, orderId, reason, actor);
  await enqueueOrders([orderId]).catch(() => {});
  return decision;
}

export async function rejectOrder(db: Db, orderId: number, reason: string, actor: string): Promise<Decision> {
  return decide(db, orderId, 'rejected', reason, actor);
}

async function decide(
  db: Db,
  orderId: number,
  decision: 'approved' | 'rejected',
  reason: string,
  actor: string,
): Promise<Decision> {
  return withOrderLocked(db, orderId, async (tx, { order, lines }) => {
    if (order.status !== 'on_hold')
      throw conflict(
        'not_on_hold',
        `order ${orderId} is ${order.status}, not on hold: nothing to ${decision === 'approved' ? 'approve' : 'reject'}`,
        {
          status: order.status,
        },
      );
    if (decision === 'approved' && !APPROVABLE_HOLD_REASONS.includes(order.holdReason ?? ''))
      throw conflict(
        'not_approvable',
        `order ${orderId} is held for ${order.holdReason}: only credit holds (${APPROVABLE_HOLD_REASONS.join(', ')}) are approved; fix the cause and release it`,
        { holdReason: order.holdReason },
      );
    const now = dbTime();
    // What the approval covers: the order's value as stored and as its lines add up now.
    const amount = Math.max(order.totalAmount, orderTotal(...storedMoney(order, lines)));
    const [id] = await tx('order_approvals').insert({
      order_id: order.id,
      decision,
      hold_reason: order.holdReason,
      reason,
      actor,
      amount,
      currency: order.currency,
      created_at: now,
    });
    const batch = new WriteBatch(tx);
    changeStatus(
      batch,
      order,
      decision === 'approved'
        ? { to: 'received', reason: `approved (${order.holdReason}): ${reason}`, actor }
        : { to: 'rejected', reason: `rejected: ${reason}`, actor },
      now,
    );
    await batch.flush();
    return { order, approvalId: Number(id) };
  });
}

export interface ApprovalView {
  id: number;
  decision: 'approved' | 'rejected';
  holdReason: string | null;
  reason: string;
  actor: string;
  amount: number;
  currency: string;
  at: string;
}

export async function orderApprovals(db: Conn, orderId: number): Promise<ApprovalView[]> {
  const rows = await db('order_approvals').where({ order_id: orderId }).orderBy('id');
  return rows.map((r) => ({
    id: Number(r.id),
    decision: r.decision,
    holdReason: r.hold_reason ?? null,
    reason: r.reason,
    actor: r.actor,
    amount: Number(r.amount),
    currency: r.currency,
    at: isoTime(r.created_at) as string,
  }));
}
