import type { Conn } from '../db/connection.js';
import { isoTime } from '../db/connection.js';
import { OPEN_STATUSES, type OrderStatus } from '../domain/order-status.js';
import { notFound } from '../errors/domain-errors.js';

/**
 * A customer's orders and how far they have been carried out (执行情况): per line what was ordered,
 * shipped, cancelled and is still open; per order and in total the values of those, in minor units
 * of each order's currency. "Ordered" counts the units not cancelled; "open" is what open orders
 * (received, on hold, confirmed, backordered, partially shipped) have not shipped yet. Rejected and
 * cancelled orders are listed but count in no total.
 */

export interface Totals {
  currency: string;
  orders: number;
  ordered: number;
  shipped: number;
  open: number;
}

const COUNTED_OUT: readonly OrderStatus[] = ['rejected', 'cancelled'];
const isOpen = (status: string) => (OPEN_STATUSES as readonly string[]).includes(status);
const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/** Totals per currency of the given customers' orders, one query (per customer when `perCustomer`). */
async function totalsOf(db: Conn, customerIds: readonly number[]): Promise<Map<number, Totals[]>> {
  const out = new Map<number, Totals[]>();
  if (customerIds.length === 0) return out;
  const rows = await db('orders as o')
    .join('order_lines as ol', 'ol.order_id', 'o.id')
    .whereIn('o.customer_id', customerIds)
    .whereNotIn('o.status', COUNTED_OUT)
    .groupBy('o.customer_id', 'o.currency')
    .orderBy(['o.customer_id', 'o.currency'])
    .select(
      'o.customer_id',
      'o.currency',
      db.raw('COUNT(DISTINCT o.id) AS orders'),
      db.raw('SUM((ol.ordered - ol.cancelled) * ol.unit_price) AS ordered_value'),
      db.raw('SUM(ol.shipped * ol.unit_price) AS shipped_value'),
      db.raw(
        `SUM(CASE WHEN o.status IN (${marks(OPEN_STATUSES.length)}) ` +
          'THEN (ol.ordered - ol.shipped - ol.cancelled) * ol.unit_price ELSE 0 END) AS open_value',
        [...OPEN_STATUSES],
      ),
    );
  for (const r of rows) {
    const list = out.get(Number(r.customer_id)) ?? [];
    list.push({
      currency: String(r.currency),
      orders: Number(r.orders),
      ordered: Number(r.ordered_value),
      shipped: Number(r.shipped_value),
      open: Number(r.open_value),
    });
    out.set(Number(r.customer_id), list);
  }
  return out;
}

/**
 * A customer's execution summary per currency (执行情况): the value (units × unit price, minor units)
 * ordered, reserved, backordered, shipped and cancelled over its orders (rejected ones left out),
 * what is still pending (received or held, not yet reserved), and what open orders have not
 * shipped yet (`open`).
 */
export interface Execution {
  currency: string;
  orders: number;
  ordered: number;
  reserved: number;
  backordered: number;
  shipped: number;
  cancelled: number;
  pending: number;
  open: number;
}

async function executionOf(db: Conn, customerId: number): Promise<Execution[]> {
  const rows = await db('orders as o')
    .join('order_lines as ol', 'ol.order_id', 'o.id')
    .where('o.customer_id', customerId)
    .whereNot('o.status', 'rejected')
    .groupBy('o.currency')
    .orderBy('o.currency')
    .select(
      'o.currency',
      db.raw('COUNT(DISTINCT o.id) AS orders'),
      db.raw('SUM(ol.ordered * ol.unit_price) AS ordered_value'),
      db.raw('SUM(ol.reserved * ol.unit_price) AS reserved_value'),
      db.raw('SUM(ol.backordered * ol.unit_price) AS backordered_value'),
      db.raw('SUM(ol.shipped * ol.unit_price) AS shipped_value'),
      db.raw('SUM(ol.cancelled * ol.unit_price) AS cancelled_value'),
      db.raw(
        `SUM(CASE WHEN o.status IN (${marks(OPEN_STATUSES.length)}) ` +
          'THEN (ol.ordered - ol.shipped - ol.cancelled) * ol.unit_price ELSE 0 END) AS open_value',
        [...OPEN_STATUSES],
      ),
    );
  return rows.map((r) => {
    const v = (k: string) => Number(r[k] ?? 0);
    return {
      currency: String(r.currency),
      orders: v('orders'),
      ordered: v('ordered_value'),
      reserved: v('reserved_value'),
      backordered: v('backordered_value'),
      shipped: v('shipped_value'),
      cancelled: v('cancelled_value'),
      pending:
        v('ordered_value') -
        v('reserved_value') -
        v('backordered_value') -
        v('shipped_value') -
        v('cancelled_value'),
      open: v('open_value'),
    };
  });
}

/** Adds up totals of several customers per currency. */
function sumTotals(lists: readonly Totals[][]): Totals[] {
  const by = new Map<string, Totals>();
  for (const t of lists.flat()) {
    const sum = by.get(t.currency) ?? { currency: t.currency, orders: 0, ordered: 0, shipped: 0, open: 0 };
    sum.orders += t.orders;
    sum.ordered += t.ordered;
    sum.shipped += t.shipped;
    sum.open += t.open;
    by.set(t.currency, sum);
  }
  return [...by.values()].sort((a, b) => (a.currency < b.currency ? -1 : 1));
}

/** A trade customer's orders, newest first by id, with their lines' execution, and its totals. */
export async function customerOrders(
  db: Conn,
  code: string,
  page: { limit: number },
  beforeId: number | null,
) {
  const { customer, id, items, nextId } = await recentCustomerOrders(db, code, page, beforeId);
  const totals = (await totalsOf(db, [id])).get(id) ?? [];
  const execution = await executionOf(db, id);
  return { customer, totals, execution, items, nextId };
}

/**
 * A page of a customer's orders, newest first, with their values: no totals over all its orders
 * (the console's customer page; index on customer_id).
 */
export async function recentCustomerOrders(
  db: Conn,
  code: string,
  page: { limit: number },
  beforeId: number | null,
) {
  const customer = await db('customers').where({ code }).first('id', 'code', 'name');
  if (!customer) throw notFound(`customer ${code}`);
  let q = db('orders').where({ customer_id: customer.id });
  if (beforeId !== null) q = q.where('id', '<', beforeId);
  const rows = await q.orderBy('id', 'desc').limit(page.limit + 1);
  const orders = rows.slice(0, page.limit);
  const lines = orders.length
    ? await db('order_lines')
        .whereIn(
          'order_id',
          orders.map((o) => o.id),
        )
        .orderBy(['order_id', 'line_no'])
    : [];
  const items = orders.map((o) => {
    const own = lines.filter((l) => Number(l.order_id) === Number(o.id));
    const open = isOpen(o.status);
    const value = (units: (l: Record<string, unknown>) => number) =>
      Number(own.reduce((sum, l) => sum + BigInt(units(l)) * BigInt(l.unit_price), 0n));
    const openUnits = (l: Record<string, unknown>) =>
      open ? Number(l.ordered) - Number(l.shipped) - Number(l.cancelled) : 0;
    return {
      id: Number(o.id),
      channel: String(o.channel),
      externalId: String(o.external_id),
      status: o.status as OrderStatus,
      currency: String(o.currency),
      placedAt: isoTime(o.placed_at),
      orderedValue: value((l) => Number(l.ordered) - Number(l.cancelled)),
      shippedValue: value((l) => Number(l.shipped)),
      openValue: value(openUnits),
      lines: own.map((l) => ({
        lineNo: Number(l.line_no),
        sku: String(l.sku_code),
        unitPrice: Number(l.unit_price),
        ordered: Number(l.ordered),
        shipped: Number(l.shipped),
        cancelled: Number(l.cancelled),
        open: openUnits(l),
      })),
    };
  });
  const last = orders[orders.length - 1];
  return {
    customer: { code: String(customer.code), name: customer.name ?? null },
    id: Number(customer.id),
    items,
    nextId: rows.length > page.limit && last ? Number(last.id) : null,
  };
}

/**
 * A salesperson's customers with each one's totals, and the totals over all of them beside the
 * salesperson's credit limit (the limit is in one currency: `open` of that currency is what it
 * is measured against).
 */
export async function salespersonCustomers(
  db: Conn,
  code: string,
  page: { limit: number },
  beforeId: number | null,
  /** false: no totals over all the salesperson's customers (the console's page); `totals` is empty. */
  withTotals = true,
) {
  const sp = await db('salespeople').where({ code }).first();
  if (!sp) throw notFound(`salesperson ${code}`);
  let q = db('customers').where({ salesperson_id: sp.id });
  if (beforeId !== null) q = q.where('id', '<', beforeId);
  const rows = await q
    .orderBy('id', 'desc')
    .limit(page.limit + 1)
    .select('id', 'code', 'name');
  const customers = rows.slice(0, page.limit);
  const pageTotals = await totalsOf(
    db,
    customers.map((c) => Number(c.id)),
  );
  const all = withTotals ? await db('customers').where({ salesperson_id: sp.id }).select('id') : [];
  const allTotals = withTotals
    ? await totalsOf(
        db,
        all.map((c) => Number(c.id)),
      )
    : new Map();
  const totals = sumTotals([...allTotals.values()]);
  const creditLimit =
    sp.credit_limit === null
      ? null
      : { amount: Number(sp.credit_limit), currency: String(sp.credit_currency) };
  const last = customers[customers.length - 1];
  return {
    salesperson: { code: String(sp.code), name: String(sp.name), creditLimit },
    totals,
    creditUsed: creditLimit ? (totals.find((t) => t.currency === creditLimit.currency)?.open ?? 0) : null,
    items: customers.map((c) => ({
      code: String(c.code),
      name: c.name ?? null,
      totals: pageTotals.get(Number(c.id)) ?? [],
    })),
    nextId: rows.length > page.limit && last ? Number(last.id) : null,
  };
}
