import {
  type Conn,
  type Db,
  dbTime,
  dialectOf,
  isoTime,
  lockClause,
  rawRows,
  type Tx,
} from '../db/connection.js';
import { withTransaction } from '../db/retry.js';
import type { WriteBatch } from '../db/write-batch.js';
import { canTransition, type LineQuantities, type OrderStatus } from '../domain/order-status.js';
import { InvalidTransitionError, NotFoundError } from '../errors/domain-errors.js';
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
  /** Order money beyond its lines (README "Order money and tax"), minor units. */
  shippingAmount: number;
  discountAmount: number;
  taxAmount: number;
  pricesIncludeTax: boolean;
  /** What the channel says the total is; null when it says nothing. */
  channelTotal: number | null;
  placedAt: string;
  /** The channel's own update time of the version we hold (channel orders), or null. */
  channelUpdatedAt: string | null;
  createdAt: string;
  updatedAt: string;
  /** The sales contract the order names (as it came), or null. */
  contractNumber?: string | null;
}

export interface LineRow extends LineQuantities {
  id: number;
  orderId: number;
  lineNo: number;
  sku: string;
  skuId: number | null;
  unitPrice: number;
  /** Discount and tax of the whole line, minor units. */
  discountAmount: number;
  taxAmount: number;
  /** The line's tax is ours, from rates: computed again when processing changes its price. */
  taxFromRates: boolean;
  /** Units that came back after shipping (never more than `shipped`; not part of the line's sum). */
  returned: number;
  /** Set by the price check: written with the line's quantities (`saveLineQuantities`). */
  priceCheck?: { checked: number | null; ruleId: number | null; variance: number | null };
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
    shippingAmount: Number(r.shipping_amount ?? 0),
    discountAmount: Number(r.discount_amount ?? 0),
    taxAmount: Number(r.tax_amount ?? 0),
    pricesIncludeTax: Boolean(Number(r.prices_include_tax ?? 0)),
    channelTotal: r.channel_total === null || r.channel_total === undefined ? null : Number(r.channel_total),
    placedAt: isoTime(r.placed_at as string) as string,
    channelUpdatedAt: isoTime((r.channel_updated_at as string | null | undefined) ?? null),
    createdAt: isoTime(r.created_at as string) as string,
    updatedAt: isoTime(r.updated_at as string) as string,
    contractNumber: (r.contract_number as string | null | undefined) ?? null,
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
    discountAmount: Number(r.discount_amount ?? 0),
    taxAmount: Number(r.tax_amount ?? 0),
    taxFromRates: Boolean(Number(r.tax_from_rates ?? 0)),
    returned: Number(r.returned ?? 0),
  };
}

export async function findOrder(db: Conn, id: number): Promise<OrderRow | null> {
  const row = await db(ORDERS).where({ id }).first();
  return row ? toOrder(row) : null;
}

/** How many units of one line are reserved and shipped from one warehouse. */
export interface AllocationRow {
  lineId: number;
  warehouseId: number;
  reserved: number;
  shipped: number;
}

/** An order, its lines and their allocations, all locked by the transaction that read them. */
export interface LockedOrder {
  order: OrderRow;
  lines: LineRow[];
  allocations: AllocationRow[];
}

const toAllocation = (r: Record<string, unknown>): AllocationRow => ({
  lineId: Number(r.order_line_id),
  warehouseId: Number(r.warehouse_id),
  reserved: Number(r.reserved),
  shipped: Number(r.shipped),
});

/**
 * Lock first, then read: locks the order rows (in id order), then reads their lines and
 * allocations with locking reads — on MySQL all in one round trip, the statements running in turn
 * — so what the caller sees is what the last committed change left, and no one can change it until
 * this transaction ends. This is the first thing every unit of work that changes orders does
 * (ARCHITECTURE.md: orders by id come first in the lock order; stock rows come after). Orders that
 * do not exist are left out.
 */
export async function lockOrdersForChange(tx: Tx, orderIds: readonly number[]): Promise<LockedOrder[]> {
  const ids = [...new Set(orderIds)].sort((a, b) => a - b);
  if (ids.length === 0) return [];
  const lock = lockClause(tx);
  const marks = ids.map(() => '?').join(', ');
  const [orders = [], lines = [], allocations = []] = await rawRows(
    tx,
    `SELECT * FROM orders WHERE id IN (${marks}) ORDER BY id${lock}; ` +
      `SELECT * FROM order_lines WHERE order_id IN (${marks}) ORDER BY order_id, line_no${lock}; ` +
      'SELECT a.*, l.order_id FROM order_allocations a JOIN order_lines l ON l.id = a.order_line_id ' +
      `WHERE l.order_id IN (${marks}) ORDER BY a.order_line_id, a.warehouse_id${lock}`,
    [...ids, ...ids, ...ids],
  );
  const byOrder = new Map<number, LockedOrder>(
    orders.map((r) => [Number(r.id), { order: toOrder(r), lines: [], allocations: [] }]),
  );
  for (const r of lines) byOrder.get(Number(r.order_id))?.lines.push(toLine(r));
  for (const r of allocations) byOrder.get(Number(r.order_id))?.allocations.push(toAllocation(r));
  return [...byOrder.values()];
}

/**
 * `lockOrdersForChange` for one order, found by id or by (channel, external id). Returns null when
 * there is no such order.
 */
export async function lockOrderForChange(
  tx: Tx,
  key: { id: number } | { channel: string; externalId: string },
): Promise<LockedOrder | null> {
  if ('id' in key) return (await lockOrdersForChange(tx, [key.id]))[0] ?? null;
  // The order row first (by its unique key), then the rest of it.
  const [found = []] = await rawRows(
    tx,
    `SELECT id FROM orders WHERE channel = ? AND external_id = ?${lockClause(tx)}`,
    [key.channel, key.externalId],
  );
  if (found.length === 0) return null;
  return (await lockOrdersForChange(tx, [Number(found[0]!.id)]))[0] ?? null;
}

/**
 * The one unit of work for "change this order": a transaction (retried whole on deadlock) that
 * starts by locking the order and reading its lines and allocations (`lockOrderForChange`), then
 * hands them to `work`. A missing order is a NotFoundError.
 */
export function withOrderLocked<T>(
  db: Db,
  orderId: number,
  work: (tx: Tx, locked: LockedOrder) => Promise<T>,
): Promise<T> {
  return withTransaction(db, async (tx) => {
    const locked = await lockOrderForChange(tx, { id: orderId });
    if (!locked) throw new NotFoundError(`order ${orderId}`);
    return work(tx, locked);
  });
}

export async function orderLines(db: Conn, orderId: number): Promise<LineRow[]> {
  const rows = await db(ORDER_LINES).where({ order_id: orderId }).orderBy('line_no');
  return rows.map(toLine);
}

export function saveLineQuantities(batch: WriteBatch, line: LineRow): void {
  const p = line.priceCheck;
  if (p) {
    batch.addSql(
      'UPDATE order_lines SET sku_id = ?, reserved = ?, backordered = ?, shipped = ?, cancelled = ?, ' +
        'unit_price = ?, discount_amount = ?, tax_amount = ?, checked_price = ?, price_rule_id = ?, price_variance = ? WHERE id = ?',
      [
        line.skuId,
        line.reserved,
        line.backordered,
        line.shipped,
        line.cancelled,
        line.unitPrice,
        line.discountAmount,
        line.taxAmount,
        p.checked,
        p.ruleId,
        p.variance,
        line.id,
      ],
    );
    return;
  }
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
  batch.addSql(
    dialectOf(batch.conn) === 'mysql'
      ? 'INSERT INTO order_allocations (order_line_id, warehouse_id, reserved, shipped) VALUES (?, ?, ?, 0) ON DUPLICATE KEY UPDATE reserved = reserved + VALUES(reserved)'
      : 'INSERT INTO order_allocations (order_line_id, warehouse_id, reserved, shipped) VALUES (?, ?, ?, 0) ON CONFLICT (order_line_id, warehouse_id) DO UPDATE SET reserved = order_allocations.reserved + excluded.reserved',
    [lineId, warehouseId, dReserved],
  );
}

export interface StatusChange {
  to: OrderStatus;
  reason: string;
  actor: string;
  holdReason?: string | null;
  holdDetails?: unknown;
  /** A new total for the order, written with the status (the price check's `enforce`). */
  totalAmount?: number;
  /** The order's discount and tax as the order rules left them, written with the new total. */
  discountAmount?: number;
  taxAmount?: number;
}

/**
 * Moves an order to a new status: refuses a transition the state machine does not allow (409),
 * and adds the order update, the history row and the outbox message to the transaction's batch.
 * A change to the status it already has writes nothing.
 */
export function changeStatus(
  batch: WriteBatch,
  order: OrderRow,
  change: StatusChange,
  now = dbTime(),
): boolean {
  if (order.status === change.to) return false;
  if (!canTransition(order.status, change.to)) {
    throw new InvalidTransitionError(order.status, change.to);
  }
  // Hold fields are set going on hold and cleared otherwise (an order not on hold has none).
  const hold = change.to === 'on_hold';
  const money: [string, number][] = [];
  if (change.totalAmount !== undefined) money.push(['total_amount', change.totalAmount]);
  if (change.discountAmount !== undefined) money.push(['discount_amount', change.discountAmount]);
  if (change.taxAmount !== undefined) money.push(['tax_amount', change.taxAmount]);
  batch.addSql(
    `UPDATE orders SET status = ?, updated_at = ?, hold_reason = ?, hold_details = ?${money.map(([c]) => `, ${c} = ?`).join('')} WHERE id = ?`,
    [
      change.to,
      now,
      hold ? (change.holdReason ?? change.reason) : null,
      hold && change.holdDetails !== undefined ? JSON.stringify(change.holdDetails) : null,
      ...money.map(([, v]) => v),
      order.id,
    ],
  );
  if (change.totalAmount !== undefined) order.totalAmount = change.totalAmount;
  batch.addSql(
    'INSERT INTO order_events (order_id, from_status, to_status, reason, actor, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    [order.id, order.status, change.to, change.reason.slice(0, 255), change.actor, now],
  );
  addToOutbox(
    batch,
    [
      {
        topic: 'order.status_changed',
        // The hold reason as it is now: notifications tell of this hold, whatever the order is by then.
        payload: {
          orderId: order.id,
          from: order.status,
          to: change.to,
          ...(hold ? { holdReason: change.holdReason ?? change.reason } : {}),
        },
      },
    ],
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
