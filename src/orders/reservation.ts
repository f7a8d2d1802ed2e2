import { dbTime } from '../db/connection.js';
import type { WriteBatch } from '../db/write-batch.js';
import { type AllocationResult, allocateInTurn, type WarehouseStock } from '../domain/allocation.js';
import {
  applyStockDeltas,
  type LockedStock,
  type MovementReason,
  type StockDelta,
} from '../stock/stock-store.js';
import { addAllocation, type LineRow, saveLineQuantities } from './order-store.js';

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
export function writeOrderSide(batch: WriteBatch, plan: ReservationPlan): void {
  const fill = plan.reason === 'backorder_fill';
  for (const [i, { line }] of plan.entries.entries()) {
    const result = plan.results[i]!;
    for (const a of result.allocations)
      addAllocation(batch, fill ? 'add' : 'new', line.id, a.warehouseId, a.quantity);
    if (result.reserved > 0 || !fill) saveLineQuantities(batch, line);
  }
}

/** The stock side of a plan: stock rows (held locked in `locked`) and their ledger rows. */
export function writeStockSide(
  batch: WriteBatch,
  locked: LockedStock,
  plan: ReservationPlan,
  now = dbTime(),
): void {
  applyStockDeltas(batch, locked, plan.deltas, plan.reason, { type: 'order', id: plan.orderId }, now);
}
