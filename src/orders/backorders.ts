import { type Db, dbTime, rawRows, type Tx } from '../db/connection.js';
import { withTransaction } from '../db/retry.js';
import { WriteBatch } from '../db/write-batch.js';
import { fulfilmentStatus } from '../domain/order-status.js';
import { addToOutbox } from '../outbox/outbox.js';
import { lockStock } from '../stock/stock-store.js';
import { changeStatus, type LineRow, lockOrdersForChange } from './order-store.js';
import { planReservation, writeOrderSide, writeStockSide } from './reservation.js';

export interface FillOptions {
  /** Most orders filled in one transaction. Default 50. */
  ordersPerBatch?: number;
  /** Most batches in one call; what is left waits for the next stock change. Default 20. */
  maxBatches?: number;
}

/**
 * Fills waiting backorder lines of these SKUs from what is available now, oldest order first, and
 * moves orders that become complete to `confirmed`. Runs after the change that made stock
 * available has committed (a receipt, an adjustment, a cancellation), in transactions of its own
 * that follow the one lock order: the orders first (by id), then their stock rows. Each
 * transaction takes a bounded batch of orders, so the hot stock row is never held for long.
 * Safe to run twice or side by side: what one run filled, the next finds no longer waiting.
 * Returns the ids of the orders that received stock.
 */
export async function fillBackorders(
  db: Db,
  skuIds: readonly number[],
  actor: string,
  options: FillOptions = {},
): Promise<number[]> {
  const ids = [...new Set(skuIds)].sort((a, b) => a - b);
  if (ids.length === 0) return [];
  const perBatch = options.ordersPerBatch ?? 50;
  const filled: number[] = [];
  let afterOrderId = 0;
  for (let batch = 0; batch < (options.maxBatches ?? 20); batch++) {
    const candidates = await waitingOrders(db, ids, afterOrderId, perBatch);
    if (candidates.length === 0) break;
    const result = await withTransaction(db, (tx) => fillBatch(tx, candidates, ids, actor));
    filled.push(...result.filled);
    if (result.exhausted) break;
    afterOrderId = candidates[candidates.length - 1]!;
  }
  return filled;
}

/**
 * Orders (ids, ascending) with a backordered line of these SKUs, when any of the SKUs has stock
 * available at all. A plain read: the batch locks and reads them again before it changes anything.
 */
async function waitingOrders(
  db: Db,
  skuIds: readonly number[],
  afterOrderId: number,
  limit: number,
): Promise<number[]> {
  const marks = skuIds.map(() => '?').join(', ');
  // Usually nobody waits: one indexed look-up (order_lines by sku_id, backordered) and done.
  const [rows = []] = await rawRows(
    db,
    `SELECT DISTINCT order_id FROM order_lines WHERE sku_id IN (${marks}) AND backordered > 0 AND order_id > ? ` +
      'ORDER BY order_id LIMIT ?',
    [...skuIds, afterOrderId, limit],
  );
  if (rows.length === 0) return [];
  const [stock = []] = await rawRows(
    db,
    `SELECT SUM(on_hand - reserved) AS free FROM stock_levels WHERE sku_id IN (${marks}) AND on_hand > reserved ` +
      // Stock in transit between two companies is nobody's to take until it is received.
      "AND warehouse_id NOT IN (SELECT id FROM warehouses WHERE kind = 'in_transit')",
    skuIds,
  );
  // Each waiting order takes at least one unit: no more orders than free units can be filled, and
  // a batch locks no order it cannot fill.
  const free = Number(stock[0]?.free ?? 0);
  if (free <= 0) return [];
  return rows.slice(0, free).map((r) => Number(r.order_id));
}

async function fillBatch(
  tx: Tx,
  orderIds: readonly number[],
  skuIds: readonly number[],
  actor: string,
): Promise<{ filled: number[]; exhausted: boolean }> {
  const now = dbTime();
  // Lock order: the orders by id, with their lines and allocations, then the stock rows.
  const lockedOrders = await lockOrdersForChange(tx, orderIds);
  const wanted = new Set(skuIds);
  const pool = await lockStock(tx, skuIds);
  const available = new Map(
    skuIds.map((id) => [
      id,
      (pool.get(id) ?? []).reduce((n, w) => n + Math.max(0, w.onHand - w.reserved), 0),
    ]),
  );
  const batch = new WriteBatch(tx);
  const filled: number[] = [];
  for (const locked of lockedOrders) {
    const { order, lines } = locked;
    if (
      order.status !== 'backordered' &&
      order.status !== 'partially_shipped' &&
      order.status !== 'confirmed'
    )
      continue;
    const entries: { line: LineRow; need: number }[] = [];
    for (const line of lines) {
      const left = available.get(line.skuId ?? -1) ?? 0;
      if (line.backordered === 0 || !wanted.has(line.skuId ?? -1) || left === 0) continue;
      const need = Math.min(line.backordered, left);
      available.set(line.skuId as number, left - need);
      entries.push({ line, need });
    }
    if (entries.length === 0) continue;
    const plan = planReservation(order.id, entries, pool, 'backorder_fill');
    if (plan.results.every((r) => r.reserved === 0)) continue;
    writeOrderSide(batch, plan);
    writeStockSide(batch, pool, plan, now);
    filled.push(order.id);
    const status = fulfilmentStatus(lines);
    if (status !== order.status && (order.status === 'backordered' || order.status === 'partially_shipped')) {
      changeStatus(batch, order, { to: status, reason: 'backorder filled from new stock', actor }, now);
    }
  }
  if (filled.length > 0)
    addToOutbox(batch, [{ topic: 'stock.changed', payload: { skuIds: [...skuIds] } }], now);
  await batch.flush();
  return { filled, exhausted: [...available.values()].every((n) => n === 0) };
}
