import { type Db, dbTime, lockClause, rawRows } from '../db/connection.js';
import { withTransaction } from '../db/retry.js';
import { WriteBatch } from '../db/write-batch.js';
import { holdReason, type OrderProblem, validateForReservation } from '../domain/order-input.js';
import { fulfilmentStatus, type OrderStatus } from '../domain/order-status.js';
import { addToOutbox } from '../outbox/outbox.js';
import { lockStock } from '../stock/stock-store.js';
import { changeStatus, lockOrder, toLine, toOrder } from './order-store.js';
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
    // The order (locked) and its lines with the SKU ids we know, in one round trip.
    const [orderRows = [], lineRows = []] = await rawRows(
      tx,
      `SELECT * FROM orders WHERE id = ?${lockClause(tx)}; ` +
        'SELECT ol.*, s.id AS known_sku_id FROM order_lines ol LEFT JOIN skus s ON s.code = ol.sku_code ' +
        'WHERE ol.order_id = ? ORDER BY ol.line_no',
      [orderId, orderId],
    );
    if (!orderRows[0]) return { orderId, status: null, changed: false };
    const order = toOrder(orderRows[0]);
    if (order.status !== 'received') return { orderId, status: order.status, changed: false };
    const lines = lineRows.map(toLine);
    const skuIds = new Map<string, number>();
    for (const r of lineRows)
      if (r.known_sku_id !== null) skuIds.set(String(r.sku_code), Number(r.known_sku_id));

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
    await batch.flush({ commit: true });
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
