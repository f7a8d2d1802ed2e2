import { randomUUID } from 'node:crypto';
import { orderCustomerOf, orderCustomerProblems } from '../customers/order-customer.js';
import { currentBusinessTimeZone, loadPricingData } from '../customers/price-book.js';
import { type Db, dbTime, type Tx } from '../db/connection.js';
import type { WarehouseStock } from '../domain/allocation.js';
import type { OrderInput, OrderProblem } from '../domain/order-input.js';
import { orderTotal } from '../domain/order-input.js';
import type { OrderStatus } from '../domain/order-status.js';
import { quoteOutcome } from '../domain/quote.js';
import { readStock } from '../stock/stock-store.js';
import { API_CHANNEL, insertOrder } from './intake.js';
import { storedMoney } from './money.js';
import { ORDER_RULES, runOrderRules } from './order-rules.js';
import { ORDERS, type OrderRow, toOrder } from './order-store.js';
import { applyCheckedPrices, loadForReservation, orderProblems, priceDecision } from './processing.js';
import { planReservation } from './reservation.js';

/**
 * A quote for an order taken by phone: what processing would decide for this order body now,
 * without storing anything. The order is written by the one order writer inside a transaction that
 * is always rolled back (so customer, money and lines are read exactly as intake stores them), then
 * goes through processing's own steps — the customer and line checks, the price decision
 * (`priceDecision`: `resolvePrice` and the channel's price policy), the order rules with
 * `dryRun: true` — and an allocation against the stock as it is now, read without locking it.
 * Unlike processing, which stops at the first step that holds an order, the quote runs every
 * step and lists every reason it would be held.
 */

export interface QuoteLine {
  lineNo: number;
  sku: string;
  quantity: number;
  /** False: an unknown SKU (the order would be held). */
  known: boolean;
  price: {
    /** What the order said (null: nothing, our price applies). */
    carried: number | null;
    /** Our price from the price lists (null: none applies). */
    checked: number | null;
    /** The unit price the line would be sold at (after the rules). */
    unitPrice: number;
    variance: number | null;
    /** The price list item that gave our price. */
    rule: { itemId: number; priceList: string; level: string } | null;
  };
  /** Available (on hand − reserved) per warehouse that sells, before this order. */
  stock: { available: number; warehouses: { warehouse: string; available: number }[] };
  /** What the order would reserve where, and what it would wait for. */
  reservation: {
    reserved: number;
    backordered: number;
    warehouses: { warehouse: string; quantity: number }[];
  };
}

export interface Quote {
  /** What processing would make of the order now. */
  status: OrderStatus;
  /** The hold reason processing would give (its first holding step's first problem), or null. */
  holdReason: string | null;
  /** Every reason it would be held, from every step (customer, lines, prices, rules). */
  problems: OrderProblem[];
  channel: string;
  currency: string;
  customer: { code: string | null; known: boolean };
  /** The total the order would have after the price check and the rules, minor units. */
  totalAmount: number;
  /** The channel's price policy the lines were checked under. */
  pricePolicy: string;
  lines: QuoteLine[];
  /** What each order rule (contracts, promotions, credit) says about the order, by rule name. */
  rules: Record<string, unknown>;
  /** An order already stored with this external id: `POST /api/orders` would answer with it instead. */
  existingOrder: { id: number; status: string } | null;
}

/** Rolled back on purpose: nothing of the quote is ever committed. */
class QuoteDone<T> {
  constructor(readonly value: T) {}
}

export async function quoteOrder(db: Db, input: OrderInput): Promise<Quote> {
  try {
    await db.transaction(async (tx) => {
      throw new QuoteDone(await quoteIn(tx, input));
    });
  } catch (err) {
    if (err instanceof QuoteDone) return err.value as Quote;
    throw err;
  }
  throw new Error('unreachable: a quote always rolls back');
}

async function quoteIn(tx: Tx, input: OrderInput): Promise<Quote> {
  const now = dbTime();
  const existing = await tx(ORDERS)
    .where({ channel: API_CHANNEL, external_id: input.externalId })
    .first('id', 'status');
  // Written as `POST /api/orders` would write it, under an external id of its own (never kept).
  const id = await insertOrder(tx, {
    channel: API_CHANNEL,
    order: { ...input, externalId: `quote:${randomUUID()}` },
    actor: 'quote',
    now,
  });
  const { orderRows, linesOf, carried } = await loadForReservation(tx, [id]);
  const order: OrderRow = toOrder(orderRows[0]!);
  const entries = linesOf.get(id) ?? [];
  const lines = entries.map((e) => e.line);
  for (const e of entries) e.line.skuId = e.knownSkuId;

  // 1. Customer and lines, as processing checks them first.
  const customerProblems = await orderCustomerProblems(tx, [orderCustomerOf(orderRows[0]!)], () => {});
  const stepProblems: OrderProblem[][] = [orderProblems(order, entries, customerProblems.get(id) ?? [])];

  // 2. The price decision.
  const data = await loadPricingData(tx, {
    customerIds: order.customerId === null ? [] : [order.customerId],
    orderIds: [id],
    channels: [order.channel],
  });
  const timeZone = currentBusinessTimeZone();
  const { resolved, check, pricing } = priceDecision(data, timeZone, order, lines, carried);
  stepProblems.push(check.problems);
  applyCheckedPrices(lines, check);

  // 3. The order rules, deciding only.
  const outcome = await runOrderRules(
    tx,
    [{ order, lines }],
    { actor: 'quote', now, timeZone, dryRun: true },
    ORDER_RULES,
  );
  const ruled = outcome.passed[0] ?? outcome.held[0]!;
  stepProblems.push(outcome.held[0]?.problems ?? []);
  const draft = outcome.passed[0]?.draft ?? { order, lines };

  // 4. Stock: what each warehouse that sells has now, and what this order would take from where.
  const skuIds = [...new Set(lines.flatMap((l) => (l.skuId === null ? [] : [l.skuId])))];
  const pool = await readStock(tx, skuIds, false);
  const before = new Map([...pool].map(([k, v]) => [k, v.map((w) => ({ ...w }))]));
  const known = lines.filter((l) => l.skuId !== null);
  const plan = planReservation(
    id,
    known.map((line) => ({ line: { ...line, reserved: 0, backordered: 0 }, need: line.ordered })),
    pool as Map<number, WarehouseStock[]>,
    'reservation',
  );
  const codeOf = new Map([...before.values()].flat().map((w) => [w.warehouseId, w.code]));
  const planned = new Map(known.map((l, i) => [l.id, plan.results[i]!]));

  const { status, holdReason, problems } = quoteOutcome(
    stepProblems,
    lines.map((l) => {
      const r = planned.get(l.id);
      return { ...l, reserved: r?.reserved ?? 0, backordered: r?.backordered ?? l.ordered };
    }),
  );
  const customer = order.customerId === null ? null : (data.customers.get(order.customerId) ?? null);
  return {
    status,
    holdReason,
    problems,
    channel: order.channel,
    currency: order.currency,
    customer: { code: customer?.code ?? input.customer?.code ?? null, known: order.customerId !== null },
    totalAmount: orderTotal(...storedMoney(draft.order, draft.lines)),
    pricePolicy: pricing.policy,
    lines: lines.map((l, i) => {
      const c = check.lines[i]!;
      const r = resolved[i];
      const stock = l.skuId === null ? [] : (before.get(l.skuId) ?? []);
      const result = planned.get(l.id);
      return {
        lineNo: l.lineNo,
        sku: l.sku,
        quantity: l.ordered,
        known: l.skuId !== null,
        price: {
          carried: carried.get(l.id) ?? null,
          checked: c.checked,
          unitPrice: draft.lines[i]?.unitPrice ?? c.unitPrice,
          variance: c.variance,
          rule: r ? { itemId: r.itemId, priceList: r.listCode, level: r.level } : null,
        },
        stock: {
          available: stock.reduce((n, w) => n + Math.max(0, w.onHand - w.reserved), 0),
          warehouses: stock.map((w) => ({
            warehouse: w.code,
            available: Math.max(0, w.onHand - w.reserved),
          })),
        },
        reservation: {
          reserved: result?.reserved ?? 0,
          backordered: result?.backordered ?? l.ordered,
          warehouses: (result?.allocations ?? []).map((a) => ({
            warehouse: codeOf.get(a.warehouseId) ?? String(a.warehouseId),
            quantity: a.quantity,
          })),
        },
      };
    }),
    rules: ruled.info,
    existingOrder: existing ? { id: Number(existing.id), status: String(existing.status) } : null,
  };
}
