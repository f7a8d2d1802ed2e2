import { orderCustomerOf, orderCustomerProblems, orderCustomersRead } from '../customers/order-customer.js';
import { currentBusinessTimeZone, loadPricingData, type PricingData } from '../customers/price-book.js';
import {
  type Db,
  dbTime,
  lockClause,
  rawRows,
  type SqlStatements,
  statementCount,
  type Tx,
} from '../db/connection.js';
import { withTransaction } from '../db/retry.js';
import { WriteBatch } from '../db/write-batch.js';
import type { WarehouseStock } from '../domain/allocation.js';
import { holdReason, type OrderProblem, orderTotal, validateForReservation } from '../domain/order-input.js';
import { fulfilmentStatus, type OrderStatus } from '../domain/order-status.js';
import { businessDate, checkOrderPrices, type LinePriceCheck, resolvePrice } from '../domain/pricing.js';
import { type ProcessedChange, recordProcessed } from '../metrics.js';
import { addToOutbox } from '../outbox/outbox.js';
import { type LockedStock, lockStock, stockStatement } from '../stock/stock-store.js';
import { storedMoney } from './money.js';
import { ORDER_RULES, type RuleContext, runOrderRulesLocking } from './order-rules.js';
import { changeStatus, type LineRow, type OrderRow, toLine, toOrder } from './order-store.js';
import { planReservation, writeOrderSide, writeStockSide } from './reservation.js';

export interface ProcessResult {
  orderId: number;
  status: OrderStatus | null;
  /** False when the order had already been processed (a repeated job) or does not exist. */
  changed: boolean;
}

/** Processes one order; see `processOrders`. */
export async function processOrder(db: Db, orderId: number, actor = 'system'): Promise<ProcessResult> {
  const [result] = await processOrders(db, [orderId], actor);
  return result!;
}

/**
 * Validates `received` orders and reserves their stock, in one transaction for the whole group:
 * the orders are locked first (so a second run of the same job waits, then finds nothing to do),
 * orders with problems go on hold, then the stock rows of every SKU involved are locked in
 * (sku, warehouse) order, the orders are allocated oldest first against that stock, and every
 * write plus the COMMIT goes to the database in one round trip.
 *
 * Taking several orders at once is what keeps a hot SKU fast: its stock row is locked once per
 * group, not once per order, and the group shares one commit.
 */
export async function processOrders(
  db: Db,
  orderIds: readonly number[],
  actor = 'system',
): Promise<ProcessResult[]> {
  const ids = [...new Set(orderIds)].sort((a, b) => a - b);
  let changes: ProcessedChange[] = [];
  const byId = await withTransaction(db, (tx) => {
    // A retried transaction starts its list again: only the committed attempt is counted.
    changes = [];
    return reserveOrders(tx, ids, actor, changes);
  });
  recordProcessed(changes);
  return orderIds.map((id) => byId.get(id) ?? { orderId: id, status: null, changed: false });
}

/** An order about to be reserved; `newTotal` when the price check changed its lines' prices. */
interface ToReserve {
  order: OrderRow;
  lines: LineRow[];
  newTotal?: number;
}

/** A line as loaded for reservation, with the id of its SKU when we know the SKU. */
export interface LoadedLine {
  line: LineRow;
  knownSkuId: number | null;
}

/**
 * The orders (locked, in id order) and their lines with the SKU ids we know, in one round trip;
 * with the unit price each line carried (for the price check) and the SKUs' reorder points.
 * `reads`: plain reads by these orders' ids that the caller sends in the same round trip, after the
 * orders are locked; `read` has their rows (per entry of `reads`, a list of rows per statement).
 */
export async function loadForReservation(
  tx: Tx,
  ids: readonly number[],
  reads: readonly SqlStatements[] = [],
) {
  const marks = ids.map(() => '?').join(', ');
  const [orderRows = [], lineRows = [], ...readRows] = await rawRows(
    tx,
    [
      `SELECT * FROM orders WHERE id IN (${marks}) ORDER BY id${lockClause(tx)}`,
      'SELECT ol.*, s.id AS known_sku_id, s.reorder_point AS sku_reorder_point FROM order_lines ol LEFT JOIN skus s ON s.code = ol.sku_code ' +
        `WHERE ol.order_id IN (${marks}) ORDER BY ol.order_id, ol.line_no`,
      ...reads.map((r) => r.sql.trim().replace(/;\s*$/, '')),
    ].join('; '),
    [...ids, ...ids, ...reads.flatMap((r) => r.bindings)],
  );
  const read: Record<string, unknown>[][][] = [];
  let offset = 0;
  for (const r of reads) {
    const count = statementCount(r.sql);
    read.push(readRows.slice(offset, offset + count));
    offset += count;
  }
  const linesOf = new Map<number, LoadedLine[]>();
  const carried = new Map<number, number | null>();
  const reorderPoints = new Map<number, number>();
  for (const r of lineRows) {
    if (r.known_sku_id !== null && r.sku_reorder_point !== null)
      reorderPoints.set(Number(r.known_sku_id), Number(r.sku_reorder_point));
    carried.set(Number(r.id), r.carried_unit_price === null ? null : Number(r.carried_unit_price));
    const list = linesOf.get(Number(r.order_id)) ?? [];
    list.push({ line: toLine(r), knownSkuId: r.known_sku_id === null ? null : Number(r.known_sku_id) });
    linesOf.set(Number(r.order_id), list);
  }
  return { orderRows, linesOf, carried, reorderPoints, read };
}

/** What holds an order before its prices are looked at: its customer, its intake, its lines. */
export function orderProblems(
  order: OrderRow,
  entries: readonly LoadedLine[],
  customerProblems: readonly OrderProblem[],
): OrderProblem[] {
  const known = new Set(entries.filter((e) => e.knownSkuId !== null).map((e) => e.line.sku));
  return [
    ...customerProblems,
    ...((order.intakeProblems as OrderProblem[] | null) ?? []),
    ...validateForReservation(
      entries.map((e) => e.line),
      known,
    ),
  ];
}

/**
 * The price decision for one order (src/domain/pricing.ts): our price per line (`resolvePrice`,
 * with the rule that gave it) and what the channel's price policy makes of it.
 */
export function priceDecision(
  data: PricingData,
  timeZone: string,
  order: OrderRow,
  lines: readonly LineRow[],
  carried: ReadonlyMap<number, number | null>,
) {
  const customer = order.customerId === null ? null : (data.customers.get(order.customerId) ?? null);
  const date = businessDate(order.placedAt, timeZone);
  const resolved = lines.map((l) =>
    resolvePrice(data.book, { customer, currency: order.currency, sku: l.sku, quantity: l.ordered, date }),
  );
  const pricing = data.pricingOf(order.channel);
  const check = checkOrderPrices(
    lines.map((l) => ({ lineNo: l.lineNo, sku: l.sku, carried: carried.get(l.id) ?? null })),
    resolved,
    pricing,
  );
  // An order naming a sales contract is priced by it (the contract rule holds lines not on it).
  if (order.contractNumber) check.problems = check.problems.filter((p) => p.code !== 'no_price');
  return { resolved, check, pricing };
}

/** Gives the lines the prices the check decided (and what it was checked against); true when a price changed. */
export function applyCheckedPrices(lines: LineRow[], check: { lines: readonly LinePriceCheck[] }): boolean {
  let repriced = false;
  for (const [i, line] of lines.entries()) {
    const c = check.lines[i]!;
    repriced ||= c.unitPrice !== line.unitPrice;
    line.unitPrice = c.unitPrice;
    line.priceCheck = { checked: c.checked, ruleId: c.ruleId, variance: c.variance };
  }
  return repriced;
}

async function reserveOrders(
  tx: Tx,
  ids: readonly number[],
  actor: string,
  changes: ProcessedChange[],
): Promise<Map<number, ProcessResult>> {
  const results = new Map<number, ProcessResult>();
  if (ids.length === 0) return results;
  const now = dbTime();
  // The plain reads of the customers' check and of the rules that depend on the order ids only go
  // with the round trip that locks the orders (after their lock: the lock order is kept).
  const prefetching = ORDER_RULES.filter((r) => r.prefetch);
  const { orderRows, linesOf, carried, reorderPoints, read } = await loadForReservation(tx, ids, [
    orderCustomersRead(ids),
    ...prefetching.map((r) => r.prefetch!(ids)),
  ]);
  const prefetched = new Map(prefetching.map((r, i) => [r.name, read[i + 1]!]));

  const batch = new WriteBatch(tx);
  const received = orderRows.filter((r) => r.status === 'received');
  const rowOf = new Map(received.map((r) => [Number(r.id), r]));
  const customerProblems = await orderCustomerProblems(
    tx,
    received.map(orderCustomerOf),
    (id, customerId) => {
      batch.addSql('UPDATE orders SET customer_id = ? WHERE id = ?', [customerId, id]);
      // The rest of this unit of work (prices, rules) sees the customer the order now has.
      rowOf.get(id)!.customer_id = customerId;
    },
    read[0]?.[0] ?? [],
  );
  let toReserve: ToReserve[] = [];
  for (const row of orderRows) {
    const order = toOrder(row);
    if (order.status !== 'received') {
      results.set(order.id, { orderId: order.id, status: order.status, changed: false });
      continue;
    }
    const entries = linesOf.get(order.id) ?? [];
    const lines = entries.map((e) => e.line);
    const problems = orderProblems(order, entries, customerProblems.get(order.id) ?? []);
    if (problems.length > 0) {
      const reason = holdReason(problems);
      changeStatus(
        batch,
        order,
        { to: 'on_hold', reason, holdReason: reason, holdDetails: problems, actor },
        now,
      );
      results.set(order.id, { orderId: order.id, status: order.status, changed: true });
      changes.push({
        channel: order.channel,
        status: 'on_hold',
        holdReason: reason,
        receivedAt: order.createdAt,
      });
      continue;
    }
    for (const e of entries) e.line.skuId = e.knownSkuId;
    toReserve.push({ order, lines });
  }
  toReserve = await checkPrices(tx, batch, toReserve, carried, { actor, now }, results);
  // The stock rows of every order still to reserve are locked in the same round trip as the rules'
  // rows (after them: the lock order), and stay locked to the commit: everything after is
  // computed in memory and sent with the COMMIT in one round trip.
  const ruled = await applyOrderRules(tx, batch, toReserve, { actor, now, prefetched }, results, changes);
  toReserve = ruled.toReserve;

  if (toReserve.length > 0) {
    const skuIds = [...new Set(toReserve.flatMap((o) => o.lines.map((l) => l.skuId as number)))];
    const pool = ruled.pool ?? (await lockStock(tx, skuIds));
    for (const { order, lines, newTotal } of toReserve) {
      const plan = planReservation(
        order.id,
        lines.map((line) => ({ line, need: line.ordered })),
        pool,
        'reservation',
      );
      writeOrderSide(batch, plan);
      writeStockSide(batch, pool, plan, now);
      const warnings = lowStockWarnings(lines, pool, reorderPoints);
      if (warnings.length > 0)
        batch.addSql('UPDATE orders SET warnings = ? WHERE id = ?', [JSON.stringify(warnings), order.id]);
      const status = fulfilmentStatus(lines);
      changeStatus(
        batch,
        order,
        {
          to: status,
          reason: status === 'confirmed' ? 'all lines reserved' : 'waiting for stock',
          actor,
          // A new total comes with the discount and tax the rules left (written in the same statement).
          ...(newTotal === undefined
            ? {}
            : { totalAmount: newTotal, discountAmount: order.discountAmount, taxAmount: order.taxAmount }),
        },
        now,
      );
      results.set(order.id, { orderId: order.id, status, changed: true });
      changes.push({ channel: order.channel, status, holdReason: null, receivedAt: order.createdAt });
    }
    addToOutbox(batch, [{ topic: 'stock.changed', payload: { skuIds } }], now);
  }
  await batch.flush({ commit: true });
  return results;
}

/**
 * The price check of the orders about to be reserved (src/domain/pricing.ts decides): the rules'
 * data for the whole group in one round trip, then per order its channel's policy. Lines get the
 * price they were checked against, the rule and the variance (and, under `enforce`, our price and
 * the recalculated total); an order with price problems goes on hold instead. Returns the orders
 * still to reserve.
 */
async function checkPrices(
  tx: Tx,
  batch: WriteBatch,
  orders: ToReserve[],
  carried: ReadonlyMap<number, number | null>,
  { actor, now }: { actor: string; now: string },
  results: Map<number, ProcessResult>,
): Promise<ToReserve[]> {
  const checks = await priceCheck(tx, orders, carried);
  const passed: ToReserve[] = [];
  for (const [i, entry] of orders.entries()) {
    const { order, lines } = entry;
    const check = checks[i]!;
    if (check.problems.length > 0) {
      const reason = holdReason(check.problems);
      changeStatus(
        batch,
        order,
        { to: 'on_hold', reason, holdReason: reason, holdDetails: check.problems, actor },
        now,
      );
      results.set(order.id, { orderId: order.id, status: order.status, changed: true });
      continue;
    }
    passed.push(
      // Written with the line's quantities when the order is reserved, in the same statement.
      applyCheckedPrices(lines, check)
        ? {
            ...entry,
            // Our prices, with the order's own discounts, shipping and tax as stored.
            newTotal: orderTotal(...storedMoney(order, lines)),
          }
        : entry,
    );
  }
  return passed;
}

/**
 * What the price check decides for stored orders (their lines as stored: `carried` is what each
 * line's order said, by line id): one round trip for the whole group. Takes no lock. Used by
 * processing and by a change to the lines of a reserved order (src/orders/amend.ts).
 */
export async function priceCheck(
  tx: Tx,
  orders: readonly { order: OrderRow; lines: readonly LineRow[] }[],
  carried: ReadonlyMap<number, number | null>,
): Promise<ReturnType<typeof checkOrderPrices>[]> {
  if (orders.length === 0) return [];
  const data = await loadPricingData(tx, {
    customerIds: orders.flatMap(({ order }) => (order.customerId === null ? [] : [order.customerId])),
    orderIds: orders.map(({ order }) => order.id),
    channels: orders.map(({ order }) => order.channel),
  });
  const timeZone = currentBusinessTimeZone();
  return orders.map(({ order, lines }) => priceDecision(data, timeZone, order, lines, carried).check);
}

/**
 * The order rules (src/orders/order-rules.ts: contracts, promotions, credit) over the orders that
 * passed the price check: held orders go on hold with every rule's problems; the others carry on
 * with the prices and discounts the rules gave them (written here, with the recalculated total).
 */
async function applyOrderRules(
  tx: Tx,
  batch: WriteBatch,
  orders: ToReserve[],
  { actor, now, prefetched }: Pick<RuleContext, 'actor' | 'now' | 'prefetched'>,
  results: Map<number, ProcessResult>,
  changes: ProcessedChange[],
): Promise<{ toReserve: ToReserve[]; pool: LockedStock | undefined }> {
  if (orders.length === 0 || ORDER_RULES.length === 0) return { toReserve: orders, pool: undefined };
  const ctx: RuleContext = { actor, now, timeZone: currentBusinessTimeZone(), dryRun: false, prefetched };
  // Locked with the rules' rows: the stock of every order that may pass (one that does not only
  // makes the group hold a few rows more until its commit).
  const skuIds = [...new Set(orders.flatMap((o) => o.lines.map((l) => l.skuId as number)))];
  const stock = skuIds.length === 0 ? undefined : stockStatement(tx, skuIds);
  const { outcome, locked } = await runOrderRulesLocking(
    tx,
    orders,
    ctx,
    ORDER_RULES,
    batch,
    stock && { ...stock, parse: ([rows = []]) => stock.pool(rows) },
  );
  for (const { original, problems } of outcome.held) {
    const reason = holdReason(problems);
    changeStatus(
      batch,
      original.order,
      { to: 'on_hold', reason, holdReason: reason, holdDetails: problems, actor },
      now,
    );
    results.set(original.order.id, { orderId: original.order.id, status: 'on_hold', changed: true });
    changes.push({
      channel: original.order.channel,
      status: 'on_hold',
      holdReason: reason,
      receivedAt: original.order.createdAt,
    });
  }
  const byId = new Map(orders.map((o) => [o.order.id, o]));
  const toReserve = outcome.passed.map(({ original, draft }) => {
    const entry = byId.get(original.order.id)!;
    return applyRuleDraft(entry, draft)
      ? { ...entry, newTotal: orderTotal(...storedMoney(entry.order, entry.lines)) }
      : entry;
  });
  return { toReserve, pool: locked };
}

/**
 * Gives an order that passed the rules the prices, discounts and tax its draft ends with, in
 * memory; true when anything changed (its total is then to be recalculated). Nothing is written
 * here: the lines are written with their reservation (`saveLineQuantities`, which writes a checked
 * line's price, discount and tax), the order's discount and tax with its new total. Used by
 * processing and by a change to a reserved order's lines.
 */
export function applyRuleDraft(
  entry: { order: OrderRow; lines: LineRow[] },
  draft: { order: OrderRow; lines: readonly LineRow[] },
): boolean {
  let changed = false;
  for (const [i, line] of entry.lines.entries()) {
    const d = draft.lines[i]!;
    if (
      d.unitPrice === line.unitPrice &&
      d.discountAmount === line.discountAmount &&
      d.taxAmount === line.taxAmount
    )
      continue;
    changed = true;
    line.unitPrice = d.unitPrice;
    line.discountAmount = d.discountAmount;
    line.taxAmount = d.taxAmount;
  }
  const o = entry.order;
  if (draft.order.discountAmount !== o.discountAmount || draft.order.taxAmount !== o.taxAmount) {
    changed = true;
    o.discountAmount = draft.order.discountAmount;
    o.taxAmount = draft.order.taxAmount;
  }
  return changed;
}

/**
 * The "stock warning when ordering": for each SKU of the order whose available stock, right after
 * this order took its share, is below the SKU's reorder point.
 */
function lowStockWarnings(
  lines: readonly LineRow[],
  pool: Map<number, WarehouseStock[]>,
  reorderPoints: ReadonlyMap<number, number>,
) {
  const warnings: { code: 'low_stock'; sku: string; available: number; reorderPoint: number }[] = [];
  for (const skuId of new Set(lines.map((l) => l.skuId as number))) {
    const reorderPoint = reorderPoints.get(skuId);
    if (reorderPoint === undefined) continue;
    const available = (pool.get(skuId) ?? []).reduce((n, w) => n + w.onHand - w.reserved, 0);
    if (available < reorderPoint)
      warnings.push({
        code: 'low_stock',
        sku: lines.find((l) => l.skuId === skuId)!.sku,
        available,
        reorderPoint,
      });
  }
  return warnings;
}
