import { dbTime, forUpdate, type Tx } from '../db/connection.js';
import { WriteBatch } from '../db/write-batch.js';
import { type AllocationResult, allocateInTurn, type WarehouseStock } from '../domain/allocation.js';
import { fulfilmentStatus } from '../domain/order-status.js';
import { addToOutbox } from '../outbox/outbox.js';
import { applyStockDeltas, lockStock, type MovementReason, type StockDelta } from '../stock/stock-store.js';
import {
  addAllocation,
  changeStatus,
  type LineRow,
  lockOrder,
  ORDER_LINES,
  orderLines,
  saveLineQuantities,
  toLine,
} from './order-store.js';

export interface ReservationPlan {
  orderId: number;
  reason: MovementReason;
  entries: readonly { line: LineRow; need: number }[];
  results: AllocationResult[];
  deltas: StockDelta[];
}

/**
 * Decides, for each line, how many more of its `need` units come from which warehouse of the pool
 * (in the order given, so older needs are served first), and updates the line quantities and the
 * pool in memory. What cannot be had stays (or becomes) backordered. Writes nothing.
 */
export function planReservation(
  orderId: number,
  entries: readonly { line: LineRow; need: number }[],
  pool: Map<number, WarehouseStock[]>,
  reason: MovementReason,
): ReservationPlan {
  const results = allocateInTurn(
    entries.map(({ line, need }) => ({ skuId: line.skuId as number, quantity: need })),
    pool,
  );
  const deltas = new Map<string, StockDelta>();
  for (const [i, { line, need }] of entries.entries()) {
    const result = results[i]!;
    for (const a of result.allocations) {
      const key = `${line.skuId}:${a.warehouseId}`;
      const d = deltas.get(key) ?? {
        skuId: line.skuId as number,
        warehouseId: a.warehouseId,
        dOnHand: 0,
        dReserved: 0,
      };
      d.dReserved += a.quantity;
      deltas.set(key, d);
    }
    line.reserved += result.reserved;
    // A new line backorders what it could not get; a backordered line waits for less.
    line.backordered += reason === 'backorder_fill' ? -result.reserved : need - result.reserved;
  }
  return { orderId, reason, entries, results, deltas: [...deltas.values()] };
}

/** The order side of a plan: allocation records and line quantities. */
export function writeOrderSide(tx: Tx, batch: WriteBatch, plan: ReservationPlan): void {
  const fill = plan.reason === 'backorder_fill';
  for (const [i, { line }] of plan.entries.entries()) {
    const result = plan.results[i]!;
    for (const a of result.allocations)
      addAllocation(tx, batch, fill ? 'add' : 'new', line.id, a.warehouseId, a.quantity);
    if (result.reserved > 0 || !fill) saveLineQuantities(tx, batch, line);
  }
}

/** The stock side of a plan: stock rows and their ledger rows. */
export function writeStockSide(tx: Tx, batch: WriteBatch, plan: ReservationPlan, now: string): void {
  applyStockDeltas(tx, batch, plan.deltas, plan.reason, { type: 'order', id: plan.orderId }, now);
}

/**
 * Fills waiting backorder lines of these SKUs from what is available now, oldest order first,
 * and moves orders that become complete to `confirmed`. Runs inside the transaction that made
 * stock available (receipt, adjustment, cancellation), so no other order can take the units
 * first. Returns the ids of the orders that received stock.
 */
export async function fillBackorders(
  tx: Tx,
  skuIds: readonly number[],
  actor: string,
  now = dbTime(),
): Promise<number[]> {
  const ids = [...new Set(skuIds)].sort((a, b) => a - b);
  if (ids.length === 0) return [];
  const pool = await lockStock(tx, ids);
  const touched = new Map<number, { line: LineRow; need: number }[]>();
  for (const skuId of ids) {
    let available = (pool.get(skuId) ?? []).reduce((n, w) => n + Math.max(0, w.onHand - w.reserved), 0);
    if (available === 0) continue;
    const rows = await forUpdate(
      tx(ORDER_LINES)
        .where('sku_id', skuId)
        .andWhere('backordered', '>', 0)
        .orderBy([{ column: 'order_id' }, { column: 'line_no' }]),
      tx,
    );
    for (const row of rows) {
      if (available === 0) break;
      const line = toLine(row);
      const need = Math.min(line.backordered, available);
      available -= need;
      const list = touched.get(line.orderId) ?? [];
      list.push({ line, need });
      touched.set(line.orderId, list);
    }
  }
  const orderIds = [...touched.keys()].sort((a, b) => a - b);
  const batch = new WriteBatch(tx);
  for (const orderId of orderIds) {
    const plan = planReservation(orderId, touched.get(orderId)!, pool, 'backorder_fill');
    writeOrderSide(tx, batch, plan);
    writeStockSide(tx, batch, plan, now);
    await batch.flush();
    const order = await lockOrder(tx, orderId);
    if (!order) continue;
    const status = fulfilmentStatus(await orderLines(tx, orderId));
    if (status !== order.status && (order.status === 'backordered' || order.status === 'partially_shipped')) {
      changeStatus(tx, batch, order, { to: status, reason: 'backorder filled from new stock', actor }, now);
    }
  }
  if (orderIds.length > 0)
    addToOutbox(tx, batch, [{ topic: 'stock.changed', payload: { skuIds: ids } }], now);
  await batch.flush();
  return orderIds;
}
