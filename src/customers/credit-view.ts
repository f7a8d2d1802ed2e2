import { type Conn, dbTime, isoTime } from '../db/connection.js';
import { CREDIT_HOLD_REASONS, convert, type Money } from '../domain/credit.js';
import { notFound } from '../errors/domain-errors.js';
import { bookingDate, ratesFor } from './credit.js';

/**
 * Where a customer (or a salesperson) stands on credit: the limit, the exposure by bucket (in the
 * counter's currency: what the bookings hold), the credit still available (in the limit's
 * currency, at today's rate when the two differ; null without a limit or a rate), and the orders
 * held for credit. Read without locks: a picture, not a decision.
 */

interface Counter {
  currency: string;
  openOrders: number;
  invoicedUnpaid: number;
}

async function available(db: Conn, limit: Money | null, counter: Counter | null) {
  if (!limit) return null;
  if (!counter) return { amount: limit.amount, currency: limit.currency };
  const exposure = counter.openOrders + counter.invoicedUnpaid;
  const rates = await ratesFor(db, [counter.currency, limit.currency], bookingDate(dbTime()));
  const converted = convert(exposure, counter.currency, limit.currency, rates);
  return converted ? { amount: limit.amount - converted.amount, currency: limit.currency } : null;
}

const counterOf = (r: Record<string, unknown> | undefined): Counter | null =>
  r
    ? {
        currency: String(r.currency),
        openOrders: Number(r.open_orders),
        invoicedUnpaid: Number(r.invoiced_unpaid),
      }
    : null;

const exposureView = (c: Counter | null) =>
  c
    ? {
        currency: c.currency,
        openOrders: c.openOrders,
        invoicedUnpaid: c.invoicedUnpaid,
        total: c.openOrders + c.invoicedUnpaid,
      }
    : null;

async function heldOrders(db: Conn, customerIds: readonly number[]) {
  if (customerIds.length === 0) return [];
  const rows = await db('orders as o')
    .join('customers as c', 'c.id', 'o.customer_id')
    .whereIn('o.customer_id', customerIds)
    .where('o.status', 'on_hold')
    .whereIn('o.hold_reason', [...CREDIT_HOLD_REASONS])
    .orderBy('o.id')
    .limit(1000)
    .select(
      'o.id',
      'o.external_id',
      'o.channel',
      'o.hold_reason',
      'o.total_amount',
      'o.currency',
      'o.updated_at',
      'c.code',
    );
  return rows.map((r) => ({
    id: Number(r.id),
    channel: String(r.channel),
    externalId: String(r.external_id),
    customer: r.code ?? null,
    holdReason: String(r.hold_reason),
    totalAmount: Number(r.total_amount),
    currency: String(r.currency),
    heldAt: isoTime(r.updated_at),
  }));
}

export async function customerCredit(db: Conn, code: string) {
  const c = await db('customers as c')
    .leftJoin('salespeople as s', 's.id', 'c.salesperson_id')
    .where('c.code', code)
    .first(
      'c.id',
      'c.code',
      'c.name',
      'c.customer_group',
      'c.credit_limit',
      'c.credit_currency',
      'c.on_hold',
      'c.on_hold_reason',
      's.code as salesperson_code',
    );
  if (!c) throw notFound(`customer ${code}`);
  const counter = counterOf(await db('customer_credit').where({ customer_id: c.id }).first());
  const limit =
    c.credit_limit === null ? null : { amount: Number(c.credit_limit), currency: String(c.credit_currency) };
  return {
    customer: String(c.code),
    name: c.name ?? null,
    group: String(c.customer_group),
    salesperson: c.salesperson_code ?? null,
    // Retail customers take no credit check (README "Credit control").
    checked: String(c.customer_group).toLowerCase() !== 'retail',
    onHold: Boolean(Number(c.on_hold)),
    onHoldReason: c.on_hold_reason ?? null,
    creditLimit: limit,
    exposure: exposureView(counter),
    available: await available(db, limit, counter),
    heldOrders: await heldOrders(db, [Number(c.id)]),
  };
}

export async function salespersonCredit(db: Conn, code: string) {
  const s = await db('salespeople')
    .where({ code })
    .first('id', 'code', 'name', 'credit_limit', 'credit_currency');
  if (!s) throw notFound(`salesperson ${code}`);
  const counter = counterOf(await db('salesperson_credit').where({ salesperson_id: s.id }).first());
  const limit =
    s.credit_limit === null ? null : { amount: Number(s.credit_limit), currency: String(s.credit_currency) };
  const customers = await db('customers').where({ salesperson_id: s.id }).select('id');
  return {
    salesperson: String(s.code),
    name: s.name ?? null,
    creditLimit: limit,
    exposure: exposureView(counter),
    available: await available(db, limit, counter),
    heldOrders: await heldOrders(
      db,
      customers.map((r) => Number(r.id)),
    ),
  };
}
