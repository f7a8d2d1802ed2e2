import { type Db, dbTime } from '../db/connection.js';
import { withTransaction } from '../db/retry.js';
import { WriteBatch } from '../db/write-batch.js';
import { holdReason, type OrderProblem, validateForReservation } from '../domain/order-input.js';
import { fulfilmentStatus, type OrderStatus } from '../domain/order-status.js';
import { addToOutbox } from '../outbox/outbox.js';
import { lockStock } from '../stock/stock-store.js';
import { changeStatus, lockOrder, orderLines } from './order-store.js';
import { reserveLines } from './reservation.js';

export interface ProcessResult {
  orderId: number;
  status: OrderStatus | null;
  /** False when the order had already been processed (a repeated job) or does not exist. */
  changed: boolean;
}

/**
 * Validates a `received` order and reserves its stock, all in one transaction: the order row is
 * locked first, so a second run of the same job waits and then finds nothing to do.
 */
export async function processOrder(db: Db, orderId: number, actor = 'system'): Promise<ProcessResult> {
  return withTransaction(db, async (tx) => {
    const now = dbTime();
    const order = await lockOrder(tx, orderId);
    if (!order) return { orderId, status: null, changed: false };
    if (order.status !== 'received') return { orderId, status: order.status, changed: false };

    const lines = await orderLines(tx, orderId);
    const codes = [...new Set(lines.map((l) => l.sku))];
    const skuRows = codes.length ? await tx('skus').whereIn('code', codes).select('id', 'code') : [];
    const skuIds = new Map(skuRows.map((r) => [String(r.code), Number(r.id)]));

    const problems: OrderProblem[] = [
      ...((order.intakeProblems as OrderProblem[] | null) ?? []),
      ...validateForReservation(lines, new Set(skuIds.keys())),
    ];
    const batch = new WriteBatch(tx);
    if (problems.length > 0) {
      const reason = holdReason(problems);
      changeStatus(
        tx,
        batch,
        order,
        { to: 'on_hold', reason, holdReason: reason, holdDetails: problems, actor },
        now,
      );
      await batch.flush();
      return { orderId, status: order.status, changed: true };
    }

    for (const line of lines) line.skuId = skuIds.get(line.sku) ?? null;
    // The stock rows are locked from here to the commit: everything after is computed, then sent
    // in one round trip.
    const pool = await lockStock(tx, [...skuIds.values()]);
    reserveLines(
      tx,
      batch,
      orderId,
      lines.map((line) => ({ line, need: line.ordered })),
      pool,
      'reservation',
      now,
    );
    const status = fulfilmentStatus(lines);
    changeStatus(
      tx,
      batch,
      order,
      { to: status, reason: status === 'confirmed' ? 'all lines reserved' : 'waiting for stock', actor },
      now,
    );
    addToOutbox(tx, batch, [{ topic: 'stock.changed', payload: { skuIds: [...skuIds.values()] } }], now);
    await batch.flush();
    return { orderId, status, changed: true };
  });
}

/** Puts an order that could not be processed on hold, so that it is neither retried forever nor lost. */
export async function holdOrder(
  db: Db,
  orderId: number,
  reason: string,
  details: unknown,
  actor = 'system',
): Promise<boolean> {
  return withTransaction(db, async (tx) => {
    const order = await lockOrder(tx, orderId);
    if (order?.status !== 'received') return false;
    const batch = new WriteBatch(tx);
    changeStatus(tx, batch, order, {
      to: 'on_hold',
      reason,
      holdReason: reason,
      holdDetails: details,
      actor,
    });
    await batch.flush();
    return true;
  });
}
