import { type Conn, dbTime, forUpdate, isoTime, type Tx } from '../db/connection.js';
import type { WriteBatch } from '../db/write-batch.js';
import { canTransition, type LineQuantities, type OrderStatus } from '../domain/order-status.js';
import { conflict } from '../errors/domain-errors.js';
import { addToOutbox } from '../outbox/outbox.js';

export const ORDERS = 'orders';
export const ORDER_LINES = 'order_lines';
export const ORDER_EVENTS = 'order_events';
export const ORDER_ALLOCATIONS = 'order_allocations';

export interface OrderRow {
  id: number;
  channel: string;
  externalId: string;
  customerId: number | null;
  status: OrderStatus;
  holdReason: string | null;
  holdDetails: unknown;
  intakeProblems: unknown;
  /** Stock warnings noted while processing (e.g. low stock), or null. */
  warnings: unknown;
  currency: string;
  totalAmount: number;
  placedAt: string;
  createdAt: string;
  updatedAt: string;
}

export interface LineRow extends LineQuantities {
  id: number;
  orderId: number;
  lineNo: number;
  sku: string;
  skuId: number | null;
  unitPrice: number;
}

const parseJson = (v: unknown): unknown => (typeof v === 'string' && v !== '' ? JSON.parse(v) : (v ?? null));

export function toOrder(r: Record<string, unknown>): OrderRow {
  return {
    id: Number(r.id),
    channel: String(r.channel),
    externalId: String(r.external_id),
    customerId: r.customer_id === null ? null : Number(r.customer_id),
    status: r.status as OrderStatus,
    holdReason: (r.hold_reason as string | null) ?? null,
    holdDetails: parseJson(r.hold_details),
    intakeProblems: parseJson(r.intake_problems),
    warnings: parseJson(r.warnings),
    currency: String(r.currency),
    totalAmount: Number(r.total_amount),
    placedAt: isoTime(r.placed_at as string) as string,
    createdAt: isoTime(r.created_at as string) as string,
    updatedAt: isoTime(r.updated_at as string) as string,
  };
}

export function toLine(r: Record<string, unknown>): LineRow {
  return {
    id: Number(r.id),
    orderId: Number(r.order_id),
    lineNo: Number(r.line_no),
    sku: String(r.sku_code),
    skuId: r.sku_id === null ? null : Number(r.sku_id),
    ordered: Number(r.ordered),
    reserved: Number(r.reserved),
    backordered: Number(r.backordered),
    shipped: Number(r.shipped),
    cancelled: Number(r.cancelled),
    unitPrice: Number(r.unit_price),
  };
}

export async function findOrder(db: Conn, id: number): Promise<OrderRow | null> {
  const row = await db(ORDERS).where({ id }).first();
  return row ? toOrder(row) : null;
}

/** Reads and locks an order row for the rest of the transaction. */
export async function lockOrder(tx: Tx, id: number): Promise<OrderRow | null> {
  const row = await forUpdate(tx(ORDERS).where({ id }), tx).first();
  return row ? toOrder(row) : null;
}

export async function orderLines(db: Conn, orderId: number): Promise<LineRow[]> {
  const rows = await db(ORDER_LINES).where({ order_id: orderId }).orderBy('line_no');
  return rows.map(toLine);
}

export function saveLineQuantities(_tx: Tx, batch: WriteBatch, line: LineRow): void {
  batch.addSql(
    'UPDATE order_lines SET sku_id = ?, reserved = ?, backordered = ?, shipped = ?, cancelled = ? WHERE id = ?',
    [line.skuId, line.reserved, line.backordered, line.shipped, line.cancelled, line.id],
  );
}

/**
 * Adds to the per-warehouse reservation record of a line: `new` for a line that has none yet (a
 * plain insert, on the hot path), `add` to create or add to an existing one.
 */
export function addAllocation(
  tx: Tx,
  batch: WriteBatch,
  mode: 'new' | 'add',
  lineId: number,
  warehouseId: number,
  dReserved: number,
): void {
  if (mode === 'new') {
    batch.addSql(
      'INSERT INTO order_allocations (order_line_id, warehouse_id, reserved, shipped) VALUES (?, ?, ?, 0)',
      [lineId, warehouseId, dReserved],
    );
    return;
  }
  batch.add(
    tx(ORDER_ALLOCATIONS)
      .insert({ order_line_id: lineId, warehouse_id: warehouseId, reserved: dReserved, shipped: 0 })
      .onConflict(['order_line_id', 'warehouse_id'])
      .merge({ reserved: tx.raw('?? + ?', [`${ORDER_ALLOCATIONS}.reserved`, dReserved]) }),
  );
}

export interface StatusChange {
  to: OrderStatus;
  reason: string;
  actor: string;
  holdReason?: string | null;
  holdDetails?: unknown;
}

/**
 * Moves an order to a new status: refuses a transition the state machine does not allow (409),
 * and adds the order update, the history row and the outbox message to the transaction's batch.
 * A change to the status it already has writes nothing.
 */
export function changeStatus(
  tx: Tx,
  batch: WriteBatch,
  order: OrderRow,
  change: StatusChange,
  now = dbTime(),
): boolean {
  if (order.status === change.to) return false;
  if (!canTransition(order.status, change.to)) {
    throw conflict('invalid_transition', `an order in status ${order.status} cannot become ${change.to}`, {
      from: order.status,
      to: change.to,
    });
  }
  // Hold fields are set going on hold and cleared otherwise (an order not on hold has none).
  const hold = change.to === 'on_hold';
  batch.addSql(
    'UPDATE orders SET status = ?, updated_at = ?, hold_reason = ?, hold_details = ? WHERE id = ?',
    [
      change.to,
      now,
      hold ? (change.holdReason ?? change.reason) : null,
      hold && change.holdDetails !== undefined ? JSON.stringify(change.holdDetails) : null,
      order.id,
    ],
  );
  batch.addSql(
    'INSERT INTO order_events (order_id, from_status, to_status, reason, actor, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    [order.id, order.status, change.to, change.reason.slice(0, 255), change.actor, now],
  );
  addToOutbox(
    tx,
    batch,
    [{ topic: 'order.status_changed', payload: { orderId: order.id, from: order.status, to: change.to } }],
    now,
  );
  order.status = change.to;
  order.updatedAt = isoTime(now) as string;
  return true;
}

export interface HistoryEntry {
  from: OrderStatus | null;
  to: OrderStatus;
  reason: string | null;
  actor: string;
  at: string;
}

export async function orderHistory(db: Conn, orderId: number): Promise<HistoryEntry[]> {
  const rows = await db(ORDER_EVENTS).where({ order_id: orderId }).orderBy('id');
  return rows.map((r) => ({
    from: r.from_status,
    to: r.to_status,
    reason: r.reason,
    actor: r.actor,
    at: isoTime(r.created_at) as string,
  }));
}
