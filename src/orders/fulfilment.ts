import { type Db, dbTime, type Tx } from '../db/connection.js';
import { withTransaction } from '../db/retry.js';
import { WriteBatch } from '../db/write-batch.js';
import { byPriority } from '../domain/allocation.js';
import { fulfilmentStatus, OPEN_STATUSES, type OrderStatus } from '../domain/order-status.js';
import { conflict, notFound, unprocessable } from '../errors/domain-errors.js';
import { addToOutbox } from '../outbox/outbox.js';
import { applyStockDeltas, lockStock, type StockDelta, warehousePriorities } from '../stock/stock-store.js';
import {
  changeStatus,
  type LineRow,
  lockOrder,
  ORDER_ALLOCATIONS,
  type OrderRow,
  orderLines,
  saveLineQuantities,
} from './order-store.js';
import { fillBackorders } from './reservation.js';

interface AllocationRow {
  lineId: number;
  warehouseId: number;
  reserved: number;
  shipped: number;
}

async function allocationsOf(tx: Tx, lines: readonly LineRow[]): Promise<AllocationRow[]> {
  if (lines.length === 0) return [];
  const rows = await tx(ORDER_ALLOCATIONS).whereIn(
    'order_line_id',
    lines.map((l) => l.id),
  );
  return rows.map((r) => ({
    lineId: Number(r.order_line_id),
    warehouseId: Number(r.warehouse_id),
    reserved: Number(r.reserved),
    shipped: Number(r.shipped),
  }));
}

async function lockOpenOrder(tx: Tx, orderId: number): Promise<OrderRow> {
  const order = await lockOrder(tx, orderId);
  if (!order) throw notFound(`order ${orderId}`);
  return order;
}

export interface CancelResult {
  order: OrderRow;
  /** Orders whose backorders took the released stock. */
  filledOrders: number[];
}

/**
 * Cancels an open order: releases every reservation (ledger rows), cancels what was not shipped,
 * records the change, and lets waiting backorders take the released units at once.
 */
export async function cancelOrder(
  db: Db,
  orderId: number,
  reason: string,
  actor: string,
): Promise<CancelResult> {
  return withTransaction(db, async (tx) => {
    const order = await lockOpenOrder(tx, orderId);
    const filledOrders = await cancelLockedOrder(tx, order, reason, actor);
    return { order, filledOrders };
  });
}

/**
 * `cancelOrder` inside the caller's transaction, for an order it has locked. Answers 409 for an
 * order that is no longer open. Returns the orders whose backorders took the released stock.
 */
export async function cancelLockedOrder(
  tx: Tx,
  order: OrderRow,
  reason: string,
  actor: string,
  now = dbTime(),
): Promise<number[]> {
  const orderId = order.id;
  if (!OPEN_STATUSES.includes(order.status)) {
    throw conflict('invalid_transition', `an order in status ${order.status} cannot be cancelled`, {
      from: order.status,
      to: 'cancelled',
    });
  }
  const lines = await orderLines(tx, orderId);
  const released = await releaseReservations(tx, orderId, lines, now);
  const batch = new WriteBatch(tx);
  for (const line of lines) {
    // Everything not shipped is cancelled, including what an unprocessed order never reserved.
    line.cancelled = line.ordered - line.shipped;
    line.reserved = 0;
    line.backordered = 0;
    saveLineQuantities(tx, batch, line);
  }
  changeStatus(tx, batch, order, { to: 'cancelled', reason, actor }, now);
  await batch.flush();
  return fillBackorders(tx, released, actor, now);
}

/**
 * Gives back every unit an order's lines hold reserved (stock rows and ledger rows, allocation
 * records to zero) and records the stock change in the outbox. Leaves line quantities to the
 * caller. Returns the SKUs that became more available; the caller decides when backorders take them.
 */
export async function releaseReservations(
  tx: Tx,
  orderId: number,
  lines: readonly LineRow[],
  now = dbTime(),
): Promise<number[]> {
  const allocations = (await allocationsOf(tx, lines)).filter((a) => a.reserved > 0);
  const skuOf = new Map(lines.map((l) => [l.id, l.skuId as number]));
  const released = [...new Set(allocations.map((a) => skuOf.get(a.lineId)!))];
  if (released.length === 0) return [];
  await lockStock(tx, released);
  const batch = new WriteBatch(tx);
  const deltas: StockDelta[] = allocations.map((a) => ({
    skuId: skuOf.get(a.lineId)!,
    warehouseId: a.warehouseId,
    dOnHand: 0,
    dReserved: -a.reserved,
  }));
  applyStockDeltas(tx, batch, mergeDeltas(deltas), 'release', { type: 'order', id: orderId }, now);
  for (const a of allocations) {
    batch.add(
      tx(ORDER_ALLOCATIONS)
        .where({ order_line_id: a.lineId, warehouse_id: a.warehouseId })
        .update({ reserved: 0 }),
    );
  }
  addToOutbox(tx, batch, [{ topic: 'stock.changed', payload: { skuIds: released } }], now);
  await batch.flush();
  return released;
}

export interface ShipmentRequest {
  lines?: { sku: string; quantity: number }[] | undefined;
  carrier?: string | undefined;
  trackingNumber?: string | undefined;
}

export interface ShipmentResult {
  shipmentId: number;
  order: OrderRow;
  lines: { sku: string; quantity: number }[];
}

const SHIPPABLE: readonly OrderStatus[] = ['confirmed', 'backordered', 'partially_shipped'];

/**
 * Ships reserved units: each becomes an on-hand deduction (reserved and on hand both fall, ledger
 * rows say so), taken from the warehouses that hold the line's reservation in priority order.
 * Without `lines`, everything reserved ships.
 */
export async function shipOrder(
  db: Db,
  orderId: number,
  request: ShipmentRequest,
  actor: string,
): Promise<ShipmentResult> {
  return withTransaction(db, async (tx) => {
    const now = dbTime();
    const order = await lockOpenOrder(tx, orderId);
    if (!SHIPPABLE.includes(order.status)) {
      throw conflict('not_shippable', `an order in status ${order.status} has nothing that can ship`, {
        status: order.status,
      });
    }
    const lines = await orderLines(tx, orderId);
    const plan = planShipment(lines, request.lines);
    if (plan.size === 0) throw conflict('nothing_to_ship', 'no reserved units to ship');

    const priorities = await warehousePriorities(tx);
    const allocations = await allocationsOf(tx, lines);
    const skuIds = [...new Set(lines.filter((l) => plan.has(l.id)).map((l) => l.skuId as number))];
    await lockStock(tx, skuIds);

    const [shipmentId] = await tx('shipments').insert({
      order_id: orderId,
      carrier: request.carrier ?? null,
      tracking_number: request.trackingNumber ?? null,
      created_at: now,
    });
    const batch = new WriteBatch(tx);
    const deltas: StockDelta[] = [];
    for (const line of lines) {
      const qty = plan.get(line.id);
      if (!qty) continue;
      let remaining = qty;
      const held = byPriority(
        allocations
          .filter((a) => a.lineId === line.id && a.reserved > 0)
          .map((a) => ({
            ...a,
            priority: priorities.get(a.warehouseId)?.priority ?? 0,
            code: priorities.get(a.warehouseId)?.code ?? '',
          })),
      );
      for (const a of held) {
        if (remaining === 0) break;
        const take = Math.min(a.reserved, remaining);
        remaining -= take;
        deltas.push({
          skuId: line.skuId as number,
          warehouseId: a.warehouseId,
          dOnHand: -take,
          dReserved: -take,
        });
        batch.add(
          tx(ORDER_ALLOCATIONS)
            .where({ order_line_id: line.id, warehouse_id: a.warehouseId })
            .update({ reserved: a.reserved - take, shipped: a.shipped + take }),
        );
      }
      if (remaining !== 0) throw new Error(`allocations of line ${line.id} do not cover its reservation`);
      line.reserved -= qty;
      line.shipped += qty;
      saveLineQuantities(tx, batch, line);
      batch.add(
        tx('shipment_lines').insert({ shipment_id: shipmentId, order_line_id: line.id, quantity: qty }),
      );
    }
    applyStockDeltas(
      tx,
      batch,
      mergeDeltas(deltas),
      'shipment',
      { type: 'shipment', id: Number(shipmentId) },
      now,
    );
    const status = fulfilmentStatus(lines);
    changeStatus(tx, batch, order, { to: status, reason: `shipment ${shipmentId}`, actor }, now);
    addToOutbox(tx, batch, [{ topic: 'stock.changed', payload: { skuIds } }], now);
    await batch.flush();
    return {
      shipmentId: Number(shipmentId),
      order,
      lines: lines.filter((l) => plan.has(l.id)).map((l) => ({ sku: l.sku, quantity: plan.get(l.id)! })),
    };
  });
}

/**
 * Decides how many units of each line ship. A requested SKU is spread over that SKU's lines in line
 * order. Asking for a SKU not on the order is 422; asking for more than is reserved is 409.
 */
export function planShipment(
  lines: readonly LineRow[],
  requested?: { sku: string; quantity: number }[],
): Map<number, number> {
  const plan = new Map<number, number>();
  if (!requested) {
    for (const l of lines) if (l.reserved > 0) plan.set(l.id, l.reserved);
    return plan;
  }
  const wanted = new Map<string, number>();
  for (const r of requested) wanted.set(r.sku, (wanted.get(r.sku) ?? 0) + r.quantity);
  const unknown = [...wanted.keys()].filter((sku) => !lines.some((l) => l.sku === sku));
  if (unknown.length)
    throw unprocessable('unknown_line', `SKUs not on this order: ${unknown.join(', ')}`, { skus: unknown });
  for (const [sku, quantity] of wanted) {
    let remaining = quantity;
    for (const l of lines) {
      if (l.sku !== sku || remaining === 0) continue;
      const take = Math.min(l.reserved, remaining);
      if (take > 0) plan.set(l.id, take);
      remaining -= take;
    }
    if (remaining > 0) {
      const reserved = lines.filter((l) => l.sku === sku).reduce((n, l) => n + l.reserved, 0);
      throw conflict(
        'insufficient_reserved',
        `only ${reserved} of ${sku} are reserved; ${quantity} cannot ship`,
        { sku, reserved, requested: quantity },
      );
    }
  }
  return plan;
}

function mergeDeltas(deltas: readonly StockDelta[]): StockDelta[] {
  const merged = new Map<string, StockDelta>();
  for (const d of deltas) {
    const key = `${d.skuId}:${d.warehouseId}`;
    const m = merged.get(key) ?? { ...d, dOnHand: 0, dReserved: 0 };
    m.dOnHand += d.dOnHand;
    m.dReserved += d.dReserved;
    merged.set(key, m);
  }
  return [...merged.values()];
}

/** Manual status changes staff may make: delivery, completion, holding, rejection, release from hold. */
export const MANUAL_TARGETS: readonly OrderStatus[] = [
  'delivered',
  'completed',
  'on_hold',
  'rejected',
  'received',
];

export async function setOrderStatus(
  db: Db,
  orderId: number,
  to: OrderStatus,
  reason: string,
  actor: string,
): Promise<OrderRow> {
  return withTransaction(db, async (tx) => {
    const order = await lockOpenOrder(tx, orderId);
    const batch = new WriteBatch(tx);
    changeStatus(tx, batch, order, { to, reason, actor, holdReason: 'manual_hold' });
    await batch.flush();
    return order;
  });
}
