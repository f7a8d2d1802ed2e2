import {
  type Conn,
  dbTime,
  dialectOf,
  isoTime,
  lockClause,
  rawRows,
  type SqlStatements,
  type Tx,
} from '../db/connection.js';
import { StaleReadError } from '../db/retry.js';
import { placeholders, rowValues, WriteBatch } from '../db/write-batch.js';
import {
  applyBooking,
  type CreditBooking,
  type CreditCustomer,
  type CreditProblem,
  type CreditSalesperson,
  convert,
  creditExemption,
  decideCredit,
  type ExchangeRate,
  type Money,
  type NoCheckReason,
  type OverdueInvoice,
  pairKey,
  type RateTable,
  shippedShare,
} from '../domain/credit.js';
import { orderTotal } from '../domain/order-input.js';
import { businessDate } from '../domain/pricing.js';
import { storedMoney } from '../orders/money.js';
import type { OrderRule, RuleContext, RuleOrder, RuleStatements } from '../orders/order-rules.js';
import type { LineRow, OrderRow } from '../orders/order-store.js';
import { ORDER_CUSTOMER_ID } from './order-customer.js';
import { currentBusinessTimeZone } from './price-book.js';

/**
 * Credit control in the worker's grouped transaction (src/orders/order-rules.ts), and the
 * bookings that keep the exposure counters:
 *
 * - `customer_credit` / `salesperson_credit`: one row per customer / salesperson, in the counter's
 *   currency, `open_orders` (value of orders booked and not yet invoiced) and `invoiced_unpaid`;
 * - `credit_bookings`: append-only; per counter and bucket the bookings add up to the counter
 *   (test/helpers/invariants.ts checks it).
 *
 * Lock order (ARCHITECTURE.md): orders → customer (the `customers` row, then its credit row) →
 * salesperson (the `salespeople` row, then its credit row) → … → stock rows. Orders of `retail`
 * customers, without a customer, or paid on their channel are exempt: they lock nothing here.
 */

interface OrderFacts {
  exempt: NoCheckReason | null;
  customerId: number | null;
  booked: number;
  approvedUpTo: Money | null;
}

interface StateCustomer extends CreditCustomer {
  salespersonId: number | null;
}

export interface CreditState {
  date: string;
  rates: RateTable;
  orders: Map<number, OrderFacts>;
  customers: Map<number, StateCustomer>;
  salespeople: Map<number, CreditSalesperson>;
  /** Bookings taken by the group's orders, written together by the rule's `finish`. */
  pending: BookingWrite[];
}

const marks = (list: readonly unknown[]) => (list.length ? list.map(() => '?').join(', ') : 'NULL');
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const truthy = (v: unknown) => v === true || Number(v) === 1;
const moneyOf = (amount: unknown, currency: unknown): Money | null =>
  amount === null || amount === undefined || currency === null || currency === undefined
    ? null
    : { amount: Number(amount), currency: String(currency) };

/**
 * The invoices of `customers` (ids) past their due date (bound after the ids: the business date)
 * with money open (total − paid − credited), for those customers who have `overdue_hold` set.
 */
const OVERDUE_SQL = (customers: readonly number[]) =>
  'SELECT x.customer_id, x.number, x.due_date, x.currency, x.open_amount FROM (SELECT i.customer_id, i.number, ' +
  'i.due_date, i.currency, i.total - i.paid - COALESCE((SELECT SUM(cn.total) FROM invoices cn ' +
  "WHERE cn.credits_invoice_id = i.id AND cn.type = 'credit_note'), 0) AS open_amount FROM invoices i " +
  `JOIN customers cu ON cu.id = i.customer_id WHERE i.customer_id IN (${marks(customers)}) AND cu.overdue_hold = 1 ` +
  "AND i.type = 'invoice' AND i.due_date < ? AND i.paid < i.total) x WHERE x.open_amount > 0 " +
  'ORDER BY x.customer_id, x.due_date, x.number';

/** The business date of a unit of work's database time. */
export const bookingDate = (now: string, timeZone = currentBusinessTimeZone()) =>
  businessDate(isoTime(now) as string, timeZone);

/**
 * Locks and reads what credit control needs for a group of orders:
 *
 * 1. one plain read (the orders are locked by the caller): each order's customer group and
 *    currencies, whether it was paid on its channel, what it booked so far, its approvals;
 * 2. for the trade customers only, one round trip that locks the customers (by id), creates (those
 *    not there yet) and locks their credit rows (`INSERT … ON DUPLICATE KEY UPDATE`), locks their salespeople and
 *    the salespeople's credit rows the same way, and reads the exchange rates in force.
 *
 * A group with no trade customer's order makes only the first read, and locks nothing.
 */
export async function loadCredit(
  tx: Tx,
  orders: readonly { order: Pick<OrderRow, 'id' | 'customerId' | 'currency'> }[],
  now: string,
  timeZone: string,
): Promise<CreditState> {
  const locking = await prepareCredit(tx, orders, now, timeZone);
  return locking.parse(locking.sql === '' ? [] : await rawRows(tx, locking.sql, locking.bindings));
}

/**
 * Credit control's plain read for orders (ids; locked by the caller), three statements: each
 * order's customer group and currencies and whether it was paid on its channel, what it booked so
 * far, its approvals. `prepareCredit` makes it, unless processing sent it with its first round trip
 * (the credit rule's `prefetch`).
 */
export function creditRead(orderIds: readonly number[]): SqlStatements {
  const ids = orderIds;
  return {
    sql:
      'SELECT o.id, o.paid_on_channel, o.currency AS order_currency, c.id AS customer_id, c.customer_group, ' +
      'c.credit_currency, c.currency, c.overdue_hold, c.salesperson_id, cc.currency AS counter_currency, ' +
      's.credit_currency AS sp_limit_currency, ' +
      `sc.currency AS sp_counter_currency FROM orders o JOIN customers c ON c.id = ${ORDER_CUSTOMER_ID} ` +
      'LEFT JOIN customer_credit cc ON cc.customer_id = c.id LEFT JOIN salespeople s ON s.id = c.salesperson_id ' +
      `LEFT JOIN salesperson_credit sc ON sc.salesperson_id = s.id WHERE o.id IN (${marks(ids)}); ` +
      "SELECT order_id, SUM(amount) AS booked FROM credit_bookings WHERE bucket = 'open_orders' " +
      `AND order_id IN (${marks(ids)}) GROUP BY order_id; ` +
      "SELECT order_id, currency, MAX(amount) AS amount FROM order_approvals WHERE decision = 'approved' " +
      `AND order_id IN (${marks(ids)}) GROUP BY order_id, currency`,
    bindings: [...ids, ...ids, ...ids],
  };
}

/**
 * `loadCredit` in two steps: the plain read (1.) now — or its rows as `prefetched` (`creditRead`
 * of these orders' ids or more) — and the locking round trip (2.) as statements for the caller to
 * send (with the other rules' locks, src/orders/order-rules.ts), and what makes the state of their
 * rows. With no trade customer's order there is nothing to send.
 */
export async function prepareCredit(
  tx: Tx,
  orders: readonly { order: Pick<OrderRow, 'id' | 'customerId' | 'currency'> }[],
  now: string,
  timeZone: string,
  prefetched?: Record<string, unknown>[][],
): Promise<RuleStatements<CreditState>> {
  const date = businessDate(isoTime(now) as string, timeZone);
  const state: CreditState = {
    date,
    rates: new Map(),
    orders: new Map(),
    customers: new Map(),
    salespeople: new Map(),
    pending: [],
  };
  for (const { order } of orders)
    state.orders.set(order.id, { exempt: 'no_customer', customerId: null, booked: 0, approvedUpTo: null });
  const nothing: RuleStatements<CreditState> = { sql: '', bindings: [], parse: () => state };
  const ids = orders.filter((o) => o.order.customerId !== null).map((o) => o.order.id);
  if (ids.length === 0) return nothing;

  let read = prefetched;
  if (!read) {
    const statements = creditRead(ids);
    read = await rawRows(tx, statements.sql, statements.bindings);
  }
  const mine = new Set(ids);
  const [allFacts = [], booked = [], approvals = []] = read;
  const facts = allFacts.filter((r) => mine.has(Number(r.id)));
  const bookedOf = new Map(booked.map((r) => [Number(r.order_id), Number(r.booked ?? 0)]));
  const approvedOf = new Map(approvals.map((r) => [Number(r.order_id), moneyOf(r.amount, r.currency)]));
  const counterCurrency = new Map<number, string>();
  /** Customers whose credit row the read found (such rows are never deleted). */
  const counted = new Set<number>();
  const currencies = new Set<string>();
  /** Customers the read found with `overdue_hold` set, and whether a salesperson has no credit row yet. */
  const overdueHeld = new Set<number>();
  let spUncounted = false;
  for (const r of facts) {
    const id = Number(r.id);
    const customerId = Number(r.customer_id);
    const exempt = creditExemption(
      { customerId, paidOnChannel: truthy(r.paid_on_channel) },
      String(r.customer_group),
    );
    state.orders.set(id, {
      exempt,
      customerId,
      booked: bookedOf.get(id) ?? 0,
      approvedUpTo: approvedOf.get(id) ?? null,
    });
    if (exempt) continue;
    // The counter keeps the currency it was created in: the credit limit's, else the customer's,
    // else the first order's.
    const cc = String(r.counter_currency ?? r.credit_currency ?? r.currency ?? r.order_currency);
    if (!counterCurrency.has(customerId)) counterCurrency.set(customerId, cc);
    if (r.counter_currency !== null && r.counter_currency !== undefined) counted.add(customerId);
    if (truthy(r.overdue_hold)) overdueHeld.add(customerId);
    if (r.salesperson_id !== null && r.salesperson_id !== undefined && !r.sp_counter_currency)
      spUncounted = true;
    for (const c of [r.order_currency, cc, r.credit_currency, r.sp_limit_currency, r.sp_counter_currency])
      if (c) currencies.add(String(c));
  }
  const trade = [...counterCurrency.keys()].sort((a, b) => a - b);
  if (trade.length === 0) return nothing;
  // Only the credit rows not there yet are created (and locked) by the insert; the others are
  // locked by the SELECT … FOR UPDATE after it, as the created ones are.
  const uncounted = trade.filter((id) => !counted.has(id));

  const lock = lockClause(tx);
  const mysql = dialectOf(tx) === 'mysql';
  const upsert = (table: string, key: string) =>
    mysql ? `ON DUPLICATE KEY UPDATE updated_at = ${table}.updated_at` : `ON CONFLICT (${key}) DO NOTHING`;
  const ccy = [...currencies].sort();
  // With processing's prefetched read, the statements that read says cannot matter are left out:
  // the salespeople's credit rows when each exists (such rows are never deleted), the exchange
  // rates when only one currency is involved, the overdue invoices of customers without
  // `overdue_hold`. The locked rows are checked against that read (`staleAgainstRead`); if one
  // changed in between, the transaction starts again (`StaleReadError`, retried by
  // `withTransaction`). Every other caller (quote, amend, a channel's change) sends every statement.
  const trusted = prefetched !== undefined;
  const withSpUpsert = !trusted || spUncounted;
  const withRates = !trusted || ccy.length > 1;
  const overdueOf = trusted ? trade.filter((id) => overdueHeld.has(id)) : trade;
  const spOfTrade = `SELECT salesperson_id FROM customers WHERE id IN (${marks(trade)})`;
  const statements: [string, unknown[]][] = [
    // customer: the customers rows, then their credit rows (created and locked in one statement)
    [
      'SELECT id, code, customer_group, salesperson_id, credit_limit, credit_currency, on_hold, on_hold_reason, overdue_hold ' +
        `FROM customers WHERE id IN (${marks(trade)}) ORDER BY id${lock}`,
      trade,
    ],
    uncounted.length === 0
      ? ['', []]
      : [
          'INSERT INTO customer_credit (customer_id, currency, open_orders, invoiced_unpaid, updated_at) ' +
            `VALUES ${uncounted.map(() => '(?, ?, 0, 0, ?)').join(', ')} ${upsert('customer_credit', 'customer_id')}`,
          uncounted.flatMap((id) => [id, counterCurrency.get(id), now]),
        ],
    [
      'SELECT customer_id, currency, open_orders, invoiced_unpaid FROM customer_credit ' +
        `WHERE customer_id IN (${marks(trade)}) ORDER BY customer_id${lock}`,
      trade,
    ],
    // salesperson: the salespeople rows, then their credit rows
    [
      `SELECT id, code, credit_limit, credit_currency FROM salespeople WHERE id IN (${spOfTrade}) ORDER BY id${lock}`,
      trade,
    ],
    withSpUpsert
      ? [
          'INSERT INTO salesperson_credit (salesperson_id, currency, open_orders, invoiced_unpaid, updated_at) ' +
            'SELECT s.id, COALESCE(s.credit_currency, (SELECT cc.currency FROM customer_credit cc JOIN customers c ON c.id = cc.customer_id ' +
            `WHERE c.salesperson_id = s.id AND c.id IN (${marks(trade)}) ORDER BY c.id LIMIT 1)), 0, 0, ? ` +
            `FROM salespeople s WHERE s.id IN (${spOfTrade}) ${upsert('salesperson_credit', 'salesperson_id')}`,
          [...trade, now, ...trade],
        ]
      : ['', []],
    [
      'SELECT salesperson_id, currency, open_orders, invoiced_unpaid FROM salesperson_credit ' +
        `WHERE salesperson_id IN (${spOfTrade}) ORDER BY salesperson_id${lock}`,
      trade,
    ],
    // the rates in force on the booking date, between any two currencies involved
    withRates
      ? [
          'SELECT r.from_currency, r.to_currency, r.valid_on, r.rate_scaled FROM exchange_rates r ' +
            `WHERE r.from_currency IN (${marks(ccy)}) AND r.to_currency IN (${marks(ccy)}) AND r.valid_on = ` +
            '(SELECT MAX(r2.valid_on) FROM exchange_rates r2 WHERE r2.from_currency = r.from_currency ' +
            'AND r2.to_currency = r.to_currency AND r2.valid_on <= ?)',
          [...ccy, ...ccy, date],
        ]
      : ['', []],
    // invoices past due with money open, of the customers who asked for overdue holds
    overdueOf.length > 0 ? [OVERDUE_SQL(overdueOf), [...overdueOf, date]] : ['', []],
  ];
  const sent = statements.map(([sql]) => sql !== '');
  return {
    sql: statements
      .filter(([sql]) => sql !== '')
      .map(([sql]) => sql)
      .join('; '),
    bindings: statements.flatMap(([, b]) => b),
    // Each statement left out gets an empty result in its place.
    parse: (rows) => {
      const all: Record<string, unknown>[][] = [];
      let at = 0;
      for (const was of sent) all.push(was ? (rows[at++] ?? []) : []);
      if (trusted) {
        const stale = staleAgainstRead(all, { currencies, overdueHeld });
        if (stale) throw new StaleReadError(`credit: ${stale} changed between the read and the locks`);
      }
      return parseCreditLocks(state, all);
    },
  };
}

/**
 * What, in the locked rows of `prepareCredit`, the plain read it trusted did not foresee (a
 * salesperson without a credit row, a customer who set `overdue_hold`, a currency not read; null
 * when nothing): the statements that read made it leave out would then have mattered.
 */
function staleAgainstRead(
  rows: Record<string, unknown>[][],
  read: { currencies: ReadonlySet<string>; overdueHeld: ReadonlySet<number> },
): string | null {
  const [customers = [], , counters = [], salespeople = [], , spCounters = []] = rows;
  const spCounted = new Set(spCounters.map((r) => Number(r.salesperson_id)));
  if (salespeople.some((r) => !spCounted.has(Number(r.id)))) return 'a salesperson';
  if (customers.some((r) => truthy(r.overdue_hold) && !read.overdueHeld.has(Number(r.id))))
    return "a customer's overdue hold";
  const locked = [
    ...customers.map((r) => r.credit_currency),
    ...counters.map((r) => r.currency),
    ...salespeople.map((r) => r.credit_currency),
    ...spCounters.map((r) => r.currency),
  ];
  if (locked.some((c) => c !== null && c !== undefined && !read.currencies.has(String(c))))
    return 'a currency';
  return null;
}

/** The state from the rows of `prepareCredit`'s locking statements. */
function parseCreditLocks(state: CreditState, rows: Record<string, unknown>[][]): CreditState {
  const [customers = [], , counters = [], salespeople = [], , spCounters = [], rates = [], overdue = []] =
    rows;
  const rateTable = new Map<string, ExchangeRate>();
  for (const r of rates) {
    const rate: ExchangeRate = {
      from: String(r.from_currency),
      to: String(r.to_currency),
      validOn: String(r.valid_on),
      rateScaled: BigInt(String(r.rate_scaled)),
    };
    rateTable.set(pairKey(rate.from, rate.to), rate);
  }
  state.rates = rateTable;
  const counterOf = new Map(counters.map((r) => [Number(r.customer_id), r]));
  const overdueOf = new Map<number, OverdueInvoice[]>();
  for (const r of overdue) {
    const list = overdueOf.get(Number(r.customer_id)) ?? [];
    list.push({
      number: String(r.number),
      dueDate: String(r.due_date),
      open: Number(r.open_amount),
      currency: String(r.currency),
    });
    overdueOf.set(Number(r.customer_id), list);
  }
  for (const r of customers) {
    const id = Number(r.id);
    const counter = counterOf.get(id)!;
    state.customers.set(id, {
      id,
      code: (r.code as string | null) ?? null,
      group: String(r.customer_group),
      creditLimit: moneyOf(r.credit_limit, r.credit_currency),
      onHold: truthy(r.on_hold),
      onHoldReason: (r.on_hold_reason as string | null) ?? null,
      salespersonId: num(r.salesperson_id),
      overdue: truthy(r.overdue_hold) ? (overdueOf.get(id) ?? []) : [],
      counter: {
        currency: String(counter.currency),
        openOrders: Number(counter.open_orders),
        invoicedUnpaid: Number(counter.invoiced_unpaid),
      },
    });
  }
  const spCounterOf = new Map(spCounters.map((r) => [Number(r.salesperson_id), r]));
  for (const r of salespeople) {
    const id = Number(r.id);
    const counter = spCounterOf.get(id)!;
    state.salespeople.set(id, {
      id,
      code: String(r.code),
      creditLimit: moneyOf(r.credit_limit, r.credit_currency),
      counter: {
        currency: String(counter.currency),
        openOrders: Number(counter.open_orders),
        invoicedUnpaid: Number(counter.invoiced_unpaid),
      },
    });
  }
  return state;
}

/** The credit decision for one order of a loaded group, at the order's value `total`. */
export function decideOrderCredit(state: CreditState, orderId: number, total: number, currency: string) {
  const facts = state.orders.get(orderId);
  const customer = facts?.customerId === null || !facts ? undefined : state.customers.get(facts.customerId);
  if (!facts || facts.exempt || !customer)
    return {
      problems: [] as CreditProblem[],
      info: { checked: false, exempt: facts?.exempt ?? 'no_customer' },
    };
  const salesperson =
    customer.salespersonId === null ? null : (state.salespeople.get(customer.salespersonId) ?? null);
  return decideCredit(
    {
      id: orderId,
      total,
      currency,
      paidOnChannel: false,
      booked: facts.booked,
      approvedUpTo: facts.approvedUpTo,
    },
    customer,
    salesperson,
    state.rates,
    state.date,
  );
}

/**
 * Takes a decided booking: the in-memory counters (for the group's next order), and the booking
 * kept for the rule's `finish` (`writeBookings`: one update per counter, one insert per 500 rows).
 */
export function takeCredit(
  state: CreditState,
  orderId: number,
  booking: CreditBooking,
  kind: 'order' | 'amend',
  actor: string,
  now: string,
): void {
  const customer = state.customers.get(booking.customerId)!;
  const salesperson = booking.salespersonId === null ? null : state.salespeople.get(booking.salespersonId)!;
  applyBooking(booking, customer, salesperson ?? null);
  const facts = state.orders.get(orderId);
  if (facts) facts.booked += booking.amount;
  // Spelled out rather than spread: one object shape for every booking (a spread of the decision's
  // booking plus six more fields cost several µs an order in processing's profile).
  state.pending.push({
    customerId: booking.customerId,
    salespersonId: booking.salespersonId,
    orderId,
    invoiceId: null,
    bucket: 'open_orders',
    kind,
    amount: booking.amount,
    currency: booking.currency,
    spAmount: booking.spAmount,
    spCurrency: booking.spCurrency,
    sourceAmount: booking.sourceAmount,
    sourceCurrency: booking.sourceCurrency,
    rateScaled: booking.rateScaled,
    rateDate: booking.rateDate,
    actor,
    now,
  });
}

/** A booking row's values, in the column order of the inserts above and below. */
function bookingRow(b: BookingWrite): unknown[] {
  return [
    b.customerId,
    b.salespersonId,
    b.orderId,
    b.invoiceId,
    b.bucket,
    b.kind,
    b.amount,
    b.currency,
    b.spAmount,
    b.spCurrency,
    b.sourceAmount,
    b.sourceCurrency,
    b.rateScaled === null ? null : b.rateScaled.toString(),
    b.rateDate,
    b.actor.slice(0, 64),
    b.now,
  ];
}

/**
 * Many bookings of any bucket as few statements as the counters allow: per (customer, bucket) and
 * per (salesperson, bucket) one relative update by the sum (customers in id order, then
 * salespeople in id order), and the booking rows in multi-row inserts of 500. For billing, which
 * books a whole posting or receipt at once.
 */
function writeBookings(batch: WriteBatch, bookings: readonly BookingWrite[]): void {
  const real = bookings.filter((b) => b.amount !== 0 || (b.spAmount ?? 0) !== 0);
  if (real.length === 0) return;
  const now = real[0]!.now;
  const sums = (pick: (b: BookingWrite) => [number, number] | null) => {
    const m = new Map<string, { id: number; bucket: string; amount: number }>();
    for (const b of real) {
      const got = pick(b);
      if (!got) continue;
      const k = `${got[0]}:${b.bucket}`;
      const e = m.get(k) ?? { id: got[0], bucket: b.bucket, amount: 0 };
      e.amount += got[1];
      m.set(k, e);
    }
    return [...m.values()]
      .filter((e) => e.amount !== 0)
      .sort((a, b) => a.id - b.id || a.bucket.localeCompare(b.bucket));
  };
  addCounterUpdates(
    batch,
    'customer_credit',
    'customer_id',
    sums((b) => [b.customerId, b.amount]),
    now,
  );
  addCounterUpdates(
    batch,
    'salesperson_credit',
    'salesperson_id',
    sums((b) => (b.salespersonId !== null && b.spAmount !== null ? [b.salespersonId, b.spAmount] : null)),
    now,
  );
  for (let i = 0; i < real.length; i += 500) {
    const chunk = real.slice(i, i + 500);
    batch.addSql(
      'INSERT INTO credit_bookings (customer_id, salesperson_id, order_id, invoice_id, bucket, kind, amount, currency, ' +
        `sp_amount, sp_currency, source_amount, source_currency, rate_scaled, rate_date, actor, created_at) VALUES ${placeholders(chunk.length, 16)}`,
      rowValues(chunk.map(bookingRow)),
    );
  }
}

/**
 * Relative updates of counter rows (held locked by the caller) by the sums given, in id order: per
 * bucket one statement for all its rows (`CASE` on the id), or the plain update for one row.
 */
function addCounterUpdates(
  batch: WriteBatch,
  table: 'customer_credit' | 'salesperson_credit',
  key: 'customer_id' | 'salesperson_id',
  sums: readonly { id: number; bucket: string; amount: number }[],
  now: string,
): void {
  for (const bucket of [...new Set(sums.map((e) => e.bucket))].sort()) {
    const rows = sums.filter((e) => e.bucket === bucket).sort((a, b) => a.id - b.id);
    if (rows.length === 1)
      batch.addSql(`UPDATE ${table} SET ${bucket} = ${bucket} + ?, updated_at = ? WHERE ${key} = ?`, [
        rows[0]!.amount,
        now,
        rows[0]!.id,
      ]);
    else
      batch.addSql(
        `UPDATE ${table} SET ${bucket} = ${bucket} + CASE ${key} ${rows.map(() => 'WHEN ? THEN ?').join(' ')} END, ` +
          `updated_at = ? WHERE ${key} IN (${marks(rows)})`,
        [...rows.flatMap((e) => [e.id, e.amount]), now, ...rows.map((e) => e.id)],
      );
  }
}

interface BookingWrite {
  customerId: number;
  salespersonId: number | null;
  orderId: number | null;
  invoiceId: number | null;
  bucket: 'open_orders' | 'invoiced_unpaid';
  kind: 'order' | 'amend' | 'cancel' | 'invoice' | 'payment' | 'credit_note';
  amount: number;
  currency: string;
  spAmount: number | null;
  spCurrency: string | null;
  sourceAmount: number;
  sourceCurrency: string;
  rateScaled: bigint | null;
  rateDate: string | null;
  actor: string;
  now: string;
}

/**
 * One booking: the counters move by the amounts (relative updates of rows this transaction holds
 * locked) and the booking row records them. Nothing is written for a booking of nothing.
 */
function writeBooking(batch: WriteBatch, b: BookingWrite): void {
  if (b.amount === 0 && (b.spAmount ?? 0) === 0) return;
  const col = b.bucket;
  batch.addSql(`UPDATE customer_credit SET ${col} = ${col} + ?, updated_at = ? WHERE customer_id = ?`, [
    b.amount,
    b.now,
    b.customerId,
  ]);
  if (b.salespersonId !== null && b.spAmount !== null)
    batch.addSql(
      `UPDATE salesperson_credit SET ${col} = ${col} + ?, updated_at = ? WHERE salesperson_id = ?`,
      [b.spAmount, b.now, b.salespersonId],
    );
  batch.addSql(
    'INSERT INTO credit_bookings (customer_id, salesperson_id, order_id, invoice_id, bucket, kind, amount, currency, ' +
      'sp_amount, sp_currency, source_amount, source_currency, rate_scaled, rate_date, actor, created_at) ' +
      'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    bookingRow(b),
  );
}

/** The credit rule: lock rank 10 (customer; its salesperson is locked in the same load, after it). */
export const creditRule: OrderRule<CreditState, CreditBooking> = {
  name: 'credit',
  lockRank: 10,
  load: (tx, orders, ctx) => loadCredit(tx, orders, ctx.now, ctx.timeZone),
  prepare: (tx, orders, ctx) =>
    prepareCredit(tx, orders, ctx.now, ctx.timeZone, ctx.prefetched?.get(creditRule.name)),
  prefetch: creditRead,
  decide(state, draft: RuleOrder, _ctx: RuleContext) {
    // Last of the rules: the order's value with every earlier rule's prices and discounts.
    const total = orderTotal(...storedMoney(draft.order, draft.lines));
    const decision = decideOrderCredit(state, draft.order.id, total, draft.order.currency);
    return {
      problems: decision.problems,
      ...('booking' in decision && decision.booking ? { effect: decision.booking } : {}),
      info: decision.info,
    };
  },
  take(state, draft, effect, _batch, ctx) {
    if (effect)
      takeCredit(
        state,
        draft.order.id,
        effect,
        ctx.change === 'amend' ? 'amend' : 'order',
        ctx.actor,
        ctx.now,
      );
  },
  /** The group's bookings: one update per customer and per salesperson, one insert of the rows. */
  finish(state, batch) {
    writeBookings(batch, state.pending);
    state.pending = [];
  },
};

// ---------------------------------------------------------------------------------------------
// Changes to booked orders: amendments, cancellations (and billing, below)
// ---------------------------------------------------------------------------------------------

/**
 * Gives back the open exposure a locked order booked, when it is cancelled: everything, or — when
 * some of it shipped — all but the shipped share of its lines' value (shipped goods are still to
 * be invoiced). Call before locking stock rows (lock order). Locks the order's customer and
 * salesperson credit rows only when it has something booked, so orders that never booked (retail,
 * paid, unprocessed) touch nothing.
 */
export async function releaseOrderCredit(
  tx: Tx,
  order: Pick<OrderRow, 'id'>,
  lines: readonly Pick<LineRow, 'ordered' | 'shipped' | 'unitPrice' | 'discountAmount'>[],
  actor: string,
  now = dbTime(),
): Promise<void> {
  const [rows = []] = await rawRows(
    tx,
    'SELECT customer_id, salesperson_id, currency, sp_currency, SUM(amount) AS amount, SUM(sp_amount) AS sp_amount ' +
      "FROM credit_bookings WHERE order_id = ? AND bucket = 'open_orders' " +
      'GROUP BY customer_id, salesperson_id, currency, sp_currency ORDER BY customer_id, salesperson_id',
    [order.id],
  );
  const batch = new WriteBatch(tx);
  for (const r of rows) {
    const booked = Number(r.amount ?? 0);
    if (booked === 0) continue;
    const give = booked - shippedShare(booked, lines);
    if (give === 0) continue;
    const spBooked = num(r.sp_amount);
    const spGive =
      spBooked === null ? null : give === booked ? spBooked : Math.round((spBooked * give) / booked);
    writeBooking(batch, {
      customerId: Number(r.customer_id),
      salespersonId: num(r.salesperson_id),
      orderId: order.id,
      invoiceId: null,
      bucket: 'open_orders',
      kind: 'cancel',
      amount: -give,
      currency: String(r.currency),
      spAmount: spGive === null ? null : -spGive,
      spCurrency: (r.sp_currency as string | null) ?? null,
      sourceAmount: 0,
      sourceCurrency: String(r.currency),
      rateScaled: null,
      rateDate: null,
      actor,
      now,
    });
  }
  await batch.flush();
}

// ---------------------------------------------------------------------------------------------
// The invoiced side, for billing (issue 11): call these in the transaction that writes the
// invoice / the payment, after the order (or the customer) is locked, before the invoice sequence.
// ---------------------------------------------------------------------------------------------

/**
 * Moves an order's exposure from open orders to unpaid invoices when (part of) it is invoiced:
 * `amount` in the order's currency is converted to the customer's counter currency at the rate in
 * force on the invoice's business date; the open side gives back at most what the order still has
 * booked there. Returns the amount booked on `invoiced_unpaid` (counter currency), or null when no
 * rate is known (nothing is booked: the caller decides whether to refuse the invoice).
 */
export async function moveToInvoiced(
  tx: Tx,
  move: { orderId: number; invoiceId: number; amount: number; currency: string; actor: string; now?: string },
): Promise<number | null> {
  const now = move.now ?? dbTime();
  const [rows = []] = await rawRows(
    tx,
    'SELECT customer_id, salesperson_id, currency, sp_currency, SUM(amount) AS amount, SUM(sp_amount) AS sp_amount ' +
      "FROM credit_bookings WHERE order_id = ? AND bucket = 'open_orders' " +
      'GROUP BY customer_id, salesperson_id, currency, sp_currency ORDER BY customer_id, salesperson_id',
    [move.orderId],
  );
  const open = rows.find((r) => Number(r.amount ?? 0) !== 0) ?? rows[0];
  if (!open) return 0;
  const currency = String(open.currency);
  const rates = await ratesFor(tx, [move.currency, currency], bookingDate(now));
  const converted = convert(move.amount, move.currency, currency, rates);
  if (!converted) return null;
  const booked = Number(open.amount ?? 0);
  const fromOpen = Math.min(Math.max(booked, 0), converted.amount);
  const spBooked = num(open.sp_amount);
  const spShare = (x: number) =>
    spBooked === null || booked === 0 ? null : Math.round((spBooked * x) / booked);
  const base = {
    customerId: Number(open.customer_id),
    salespersonId: num(open.salesperson_id),
    orderId: move.orderId,
    invoiceId: move.invoiceId,
    kind: 'invoice' as const,
    currency,
    spCurrency: (open.sp_currency as string | null) ?? null,
    sourceAmount: move.amount,
    sourceCurrency: move.currency,
    rateScaled: converted.rateScaled,
    rateDate: converted.rateDate,
    actor: move.actor,
    now,
  };
  const batch = new WriteBatch(tx);
  const spFrom = spShare(fromOpen);
  writeBooking(batch, {
    ...base,
    bucket: 'open_orders',
    amount: -fromOpen,
    spAmount: spFrom === null ? null : -spFrom,
  });
  writeBooking(batch, {
    ...base,
    bucket: 'invoiced_unpaid',
    amount: converted.amount,
    spAmount: spShare(converted.amount),
  });
  await batch.flush();
  return converted.amount;
}

/**
 * `moveToInvoiced` for many (order, invoice) shares at once, as a posting makes them: one read of
 * the orders' open bookings, one of the rates, then the bookings as one batch. Shares of the same
 * order take from what it still has open in the order given. An order that booked nothing (retail,
 * paid on its channel, no customer) moves nothing; a share with no rate to the counter's currency
 * is skipped (its exposure stays on open orders). Returns how many shares were booked.
 */
export async function moveManyToInvoiced(
  tx: Tx,
  moves: readonly { orderId: number; invoiceId: number; amount: number; currency: string }[],
  actor: string,
  now = dbTime(),
): Promise<number> {
  const orderIds = [...new Set(moves.map((m) => m.orderId))];
  if (orderIds.length === 0) return 0;
  type Open = {
    customerId: number;
    salespersonId: number | null;
    currency: string;
    spCurrency: string | null;
    booked: number;
    spBooked: number | null;
  };
  const openOf = new Map<number, Open>();
  for (let i = 0; i < orderIds.length; i += 500) {
    const chunk = orderIds.slice(i, i + 500);
    const [rows = []] = await rawRows(
      tx,
      'SELECT order_id, customer_id, salesperson_id, currency, sp_currency, SUM(amount) AS amount, SUM(sp_amount) AS sp_amount ' +
        `FROM credit_bookings WHERE order_id IN (${marks(chunk)}) AND bucket = 'open_orders' ` +
        'GROUP BY order_id, customer_id, salesperson_id, currency, sp_currency ORDER BY order_id, customer_id, salesperson_id',
      chunk,
    );
    for (const r of rows) {
      const id = Number(r.order_id);
      const seen = openOf.get(id);
      // As moveToInvoiced: the first group with something booked, else the first.
      if (seen && seen.booked !== 0) continue;
      openOf.set(id, {
        customerId: Number(r.customer_id),
        salespersonId: num(r.salesperson_id),
        currency: String(r.currency),
        spCurrency: (r.sp_currency as string | null) ?? null,
        booked: Number(r.amount ?? 0),
        spBooked: num(r.sp_amount),
      });
    }
  }
  if (openOf.size === 0) return 0;
  const currencies = new Set<string>();
  for (const m of moves) if (openOf.has(m.orderId)) currencies.add(m.currency);
  for (const o of openOf.values()) currencies.add(o.currency);
  const rates = await ratesFor(tx, [...currencies], bookingDate(now));
  const writes: BookingWrite[] = [];
  let booked = 0;
  for (const m of moves) {
    const open = openOf.get(m.orderId);
    if (!open) continue;
    const converted = convert(m.amount, m.currency, open.currency, rates);
    if (!converted) continue;
    const fromOpen = Math.min(Math.max(open.booked, 0), converted.amount);
    const spShare = (x: number) =>
      open.spBooked === null || open.booked === 0 ? null : Math.round((open.spBooked * x) / open.booked);
    const base = {
      customerId: open.customerId,
      salespersonId: open.salespersonId,
      orderId: m.orderId,
      invoiceId: m.invoiceId,
      kind: 'invoice' as const,
      currency: open.currency,
      spCurrency: open.spCurrency,
      sourceAmount: m.amount,
      sourceCurrency: m.currency,
      rateScaled: converted.rateScaled,
      rateDate: converted.rateDate,
      actor,
      now,
    };
    const spFrom = spShare(fromOpen);
    const spTo = spShare(converted.amount);
    writes.push(
      { ...base, bucket: 'open_orders', amount: -fromOpen, spAmount: spFrom === null ? null : -spFrom },
      { ...base, bucket: 'invoiced_unpaid', amount: converted.amount, spAmount: spTo },
    );
    // The next share of the same order takes from what is left open.
    if (open.spBooked !== null && spFrom !== null) open.spBooked -= spFrom;
    open.booked -= fromOpen;
    booked++;
  }
  const batch = new WriteBatch(tx);
  writeBookings(batch, writes);
  await batch.flush();
  return booked;
}

/**
 * Reduces unpaid invoices when an invoice is paid (in full or in part): `amount` in the invoice's
 * currency, at the rate its `invoiced_unpaid` bookings used (the same customer-currency amounts
 * come off that were put on), at most what the invoice still has there.
 */
export async function recordCreditPayment(
  tx: Tx,
  payment: {
    invoiceId: number;
    amount: number;
    currency: string;
    actor: string;
    now?: string;
    /** `credit_note`: a credit note against the invoice takes it off the same way. Default `payment`. */
    kind?: 'payment' | 'credit_note';
  },
): Promise<void> {
  await recordManyCreditPayments(tx, [payment], payment.now ?? dbTime());
}

/**
 * `recordCreditPayment` for many at once (a receipt over several invoices, a posting's credit
 * notes and channel settlements): one read of the invoices' unpaid bookings per 500 invoices, then
 * the bookings as one batch. Several payments of one invoice take from what the earlier left.
 */
export async function recordManyCreditPayments(
  tx: Tx,
  payments: readonly {
    invoiceId: number;
    amount: number;
    currency: string;
    actor: string;
    kind?: 'payment' | 'credit_note';
  }[],
  now = dbTime(),
): Promise<void> {
  const ids = [...new Set(payments.filter((p) => p.amount > 0).map((p) => p.invoiceId))];
  if (ids.length === 0) return;
  type Unpaid = {
    customerId: number;
    salespersonId: number | null;
    currency: string;
    spCurrency: string | null;
    unpaid: number;
    sp: number | null;
    invoiced: number;
    invoicedInCounter: number;
  };
  const unpaidOf = new Map<number, Unpaid[]>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const [rows = []] = await rawRows(
      tx,
      'SELECT invoice_id, customer_id, salesperson_id, currency, sp_currency, SUM(amount) AS amount, SUM(sp_amount) AS sp_amount, ' +
        "SUM(CASE WHEN kind = 'invoice' THEN source_amount ELSE 0 END) AS source_amount, " +
        "SUM(CASE WHEN kind = 'invoice' THEN amount ELSE 0 END) AS invoiced_amount " +
        `FROM credit_bookings WHERE invoice_id IN (${marks(chunk)}) AND bucket = 'invoiced_unpaid' ` +
        'GROUP BY invoice_id, customer_id, salesperson_id, currency, sp_currency',
      chunk,
    );
    for (const r of rows) {
      const list = unpaidOf.get(Number(r.invoice_id)) ?? [];
      list.push({
        customerId: Number(r.customer_id),
        salespersonId: num(r.salesperson_id),
        currency: String(r.currency),
        spCurrency: (r.sp_currency as string | null) ?? null,
        unpaid: Number(r.amount ?? 0),
        sp: num(r.sp_amount),
        invoiced: Number(r.source_amount ?? 0),
        invoicedInCounter: Number(r.invoiced_amount ?? 0),
      });
      unpaidOf.set(Number(r.invoice_id), list);
    }
  }
  if (unpaidOf.size === 0) return;
  const writes: BookingWrite[] = [];
  for (const payment of payments) {
    for (const u of unpaidOf.get(payment.invoiceId) ?? []) {
      if (u.unpaid <= 0 || u.invoiced <= 0 || payment.amount <= 0) continue;
      // At the rate the invoice was booked: what it put on, per unit of the invoice's currency (not
      // what is left unpaid, which earlier payments have reduced already).
      const amount = Math.min(u.unpaid, Math.round((u.invoicedInCounter * payment.amount) / u.invoiced));
      const spAmount = u.sp === null ? null : Math.round((u.sp * amount) / u.unpaid);
      writes.push({
        customerId: u.customerId,
        salespersonId: u.salespersonId,
        orderId: null,
        invoiceId: payment.invoiceId,
        bucket: 'invoiced_unpaid',
        kind: payment.kind ?? 'payment',
        amount: -amount,
        currency: u.currency,
        spAmount: spAmount === null ? null : -spAmount,
        spCurrency: u.spCurrency,
        sourceAmount: payment.amount,
        sourceCurrency: payment.currency,
        rateScaled: null,
        rateDate: null,
        actor: payment.actor,
        now,
      });
      u.unpaid -= amount;
      if (u.sp !== null && spAmount !== null) u.sp -= spAmount;
    }
  }
  const batch = new WriteBatch(tx);
  writeBookings(batch, writes);
  await batch.flush();
}

/** The rates in force on a date between the given currencies (both directions). */
export async function ratesFor(tx: Conn, currencies: readonly string[], date: string): Promise<RateTable> {
  const ccy = [...new Set(currencies)];
  const table = new Map<string, ExchangeRate>();
  if (ccy.length < 2) return table;
  const [rows = []] = await rawRows(
    tx,
    'SELECT r.from_currency, r.to_currency, r.valid_on, r.rate_scaled FROM exchange_rates r ' +
      `WHERE r.from_currency IN (${marks(ccy)}) AND r.to_currency IN (${marks(ccy)}) AND r.valid_on = ` +
      '(SELECT MAX(r2.valid_on) FROM exchange_rates r2 WHERE r2.from_currency = r.from_currency ' +
      'AND r2.to_currency = r.to_currency AND r2.valid_on <= ?)',
    [...ccy, ...ccy, date],
  );
  for (const r of rows) {
    const rate: ExchangeRate = {
      from: String(r.from_currency),
      to: String(r.to_currency),
      validOn: String(r.valid_on),
      rateScaled: BigInt(String(r.rate_scaled)),
    };
    table.set(pairKey(rate.from, rate.to), rate);
  }
  return table;
}
