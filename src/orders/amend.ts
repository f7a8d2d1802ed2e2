import { returnContractDraws } from '../customers/contracts.js';
import { currentBusinessTimeZone } from '../customers/price-book.js';
import { ORDER_LINE_PROMOTIONS, returnPromotionUses } from '../customers/promotions.js';
import { dbTime, type Tx } from '../db/connection.js';
import { WriteBatch } from '../db/write-batch.js';
import { codeKey } from '../domain/codes.js';
import {
  type OrderInput,
  type OrderLineInput,
  type OrderProblem,
  orderTotal,
} from '../domain/order-input.js';
import { fulfilmentStatus } from '../domain/order-status.js';
import { addToOutbox } from '../outbox/outbox.js';
import { lockStock } from '../stock/stock-store.js';
import { releaseReservations } from './cancel.js';
import { insertLines } from './intake.js';
import { orderMoneyColumns, storedMoney } from './money.js';
import { lockRuleRows, ORDER_RULES, type RuleContext, runOrderRules } from './order-rules.js';
import {
  changeStatus,
  type LineRow,
  type LockedOrder,
  ORDER_ALLOCATIONS,
  ORDER_LINES,
  ORDERS,
  type OrderRow,
  toLine,
} from './order-store.js';
import { applyCheckedPrices, applyRuleDraft, priceCheck } from './processing.js';
import { planReservation, writeOrderSide, writeStockSide } from './reservation.js';

export interface AmendRequest {
  /** The order's lines as they should be now. */
  lines: readonly OrderLineInput[];
  /**
   * What the new version says about money beyond its lines (shipping, discount, tax, its total).
   * Absent: the version says nothing about it, and the order keeps what it holds.
   */
  money?: Pick<OrderInput, 'shipping' | 'discount' | 'tax' | 'channelTotal' | 'pricesIncludeTax'>;
  /** Problems found reading the new version (unmapped SKUs, bad quantities, ...). */
  problems: readonly OrderProblem[];
  actor: string;
  /**
   * A held order whose lines did not change is released for another try (an administrator's
   * replay after fixing what held it).
   */
  retryHeld?: boolean;
}

export interface AmendResult {
  outcome: 'updated' | 'unchanged' | 'not_applied';
  note: string;
  /** Orders that are now `received` and need processing. */
  toProcess: number[];
  /** SKUs the order gave stock back on; backorders may take them once the caller has committed. */
  released: number[];
}

/**
 * Changes the lines of an order the caller has locked (`lockOrderForChange`), as far as its status
 * allows: an unprocessed or automatically held order gets the new lines and is processed again; a
 * reserved order that has shipped nothing gives back its reservations and reserves the new lines
 * in the same transaction (no other order can take the units in between); anything further along
 * keeps its lines (`not_applied`, with the reason).
 */
export async function amendLocked(
  tx: Tx,
  locked: LockedOrder,
  request: AmendRequest,
  now = dbTime(),
): Promise<AmendResult> {
  const { order, lines } = locked;
  const { problems, actor } = request;
  const autoHold = order.status === 'on_hold' && order.holdReason !== 'manual_hold';
  const result = (
    outcome: AmendResult['outcome'],
    note: string,
    toProcess: number[] = [],
    released: number[] = [],
  ) => ({
    outcome,
    note,
    toProcess,
    released,
  });
  if (
    sameLines(lines, request.lines) &&
    sameProblems(order.intakeProblems, problems) &&
    sameMoney(order, request)
  ) {
    if (request.retryHeld && autoHold) {
      await releaseFromHold(tx, locked, problems, actor, now);
      return result('updated', 'released from hold for another try', [order.id]);
    }
    return result('unchanged', 'no change to the lines');
  }
  if (order.status === 'received' || autoHold) {
    await tx(ORDER_LINES).where({ order_id: order.id }).delete();
    await insertLines(tx, order.id, request.lines);
    await tx(ORDERS)
      .where({ id: order.id })
      .update({ ...moneyColumns(order, request, request.lines), updated_at: now });
    await releaseFromHold(tx, locked, problems, actor, now);
    return result('updated', 'lines replaced', [order.id]);
  }
  if (
    (order.status === 'confirmed' || order.status === 'backordered') &&
    lines.every((l) => l.shipped === 0)
  ) {
    if (problems.length > 0)
      return result('not_applied', `the new lines have problems: ${problems[0]!.message}`);
    const reserved = await reReserve(tx, locked, request, actor, now);
    if (!reserved.ok) return result('not_applied', reserved.reason);
    return result('updated', 'lines replaced and reserved again', [], reserved.released);
  }
  return result('not_applied', `lines not changed: the order is ${order.status}`);
}

function sameLines(current: readonly LineRow[], next: readonly OrderLineInput[]): boolean {
  return (
    current.length === next.length &&
    current.every(
      (l, i) =>
        l.sku === next[i]!.sku &&
        l.ordered === next[i]!.quantity &&
        l.unitPrice === next[i]!.unitPrice &&
        // A version that says nothing of a line's discount or tax (a pulled GraphQL node) changes neither.
        (next[i]!.discount === undefined || l.discountAmount === next[i]!.discount) &&
        (next[i]!.tax === undefined || l.taxAmount === next[i]!.tax),
    )
  );
}

/**
 * The order's money columns for the new version (its lines with what it says beyond them). A
 * version that does not say whether its prices include tax keeps what the order holds.
 */
function moneyColumns(order: LockedOrder['order'], request: AmendRequest, lines: readonly OrderLineInput[]) {
  const held = {
    shipping: order.shippingAmount,
    discount: order.discountAmount,
    tax: order.taxAmount,
    channelTotal: order.channelTotal ?? undefined,
  };
  const pricesIncludeTax = request.money?.pricesIncludeTax ?? order.pricesIncludeTax;
  return orderMoneyColumns({ ...(request.money ?? held), pricesIncludeTax, lines: [...lines] });
}

/** The new version says the same about money beyond its lines as the order holds. */
function sameMoney(order: LockedOrder['order'], request: AmendRequest): boolean {
  if (!request.money) return true;
  const next = moneyColumns(order, request, request.lines);
  return (
    order.shippingAmount === next.shipping_amount &&
    order.discountAmount === next.discount_amount &&
    order.taxAmount === next.tax_amount &&
    order.channelTotal === next.channel_total &&
    order.pricesIncludeTax === Boolean(next.prices_include_tax)
  );
}

function sameProblems(current: unknown, next: readonly OrderProblem[]): boolean {
  const codes = (list: unknown) =>
    (Array.isArray(list) ? list : []).map((p: OrderProblem) => `${p.code}:${p.lineNo ?? ''}`).join(',');
  return codes(current) === codes(next);
}

/** Sets the order's intake problems; an automatically held order goes back to `received`. */
async function releaseFromHold(
  tx: Tx,
  { order }: LockedOrder,
  problems: readonly OrderProblem[],
  actor: string,
  now: string,
): Promise<void> {
  await tx(ORDERS)
    .where({ id: order.id })
    .update({ intake_problems: problems.length ? JSON.stringify(problems) : null });
  if (order.status !== 'on_hold') return;
  const batch = new WriteBatch(tx);
  changeStatus(
    batch,
    order,
    { to: 'received', reason: 'updated by the channel; processing again', actor },
    now,
  );
  await batch.flush();
}

/**
 * Replaces the lines of a reserved order that has not shipped: gives back what it took (its
 * contract draws and promotion uses; its credit is booked again at the new value), writes the new
 * lines, runs the price check and the order rules over them as processing would (a contract draw,
 * promotions, tax, credit), then gives back its reservations and reserves the new lines. Locks in
 * the one lock order: the rules' rows (customer, salesperson, contract lines, promotion counters)
 * before any stock row; every stock row involved, old and new, in one sorted pass.
 */
async function reReserve(
  tx: Tx,
  locked: LockedOrder,
  request: AmendRequest,
  actor: string,
  now: string,
): Promise<{ ok: true; released: number[] } | { ok: false; reason: string }> {
  const next = request.lines;
  const skuRows = await tx('skus')
    .whereIn('code', [...new Set(next.map((l) => l.sku))])
    .select('id', 'code');
  const idByKey = new Map(skuRows.map((r) => [codeKey(String(r.code)), Number(r.id)]));
  const skuIdOf = new Map<string, number>();
  for (const l of next) {
    const id = idByKey.get(codeKey(l.sku));
    if (id !== undefined) skuIdOf.set(l.sku, id);
  }
  const unknown = next.filter((l) => !skuIdOf.has(l.sku)).map((l) => l.sku);
  if (unknown.length > 0) return { ok: false, reason: `unknown SKUs ${unknown.join(', ')}` };
  try {
    // In a savepoint: when the new lines need a person (credit, prices, a contract, a promotion),
    // the order stays exactly as it was, with what it booked, drew and used.
    const released = await tx.transaction((sp) =>
      replaceAndReserve(sp, locked, request, skuIdOf, actor, now),
    );
    return { ok: true, released };
  } catch (err) {
    if (err instanceof Refused) return { ok: false, reason: err.message };
    if (!(err instanceof PriceProblems)) throw err;
    return {
      ok: false,
      reason: `the new prices need a person (the order keeps its lines): ${err.problems.map((p) => p.message).join('; ')}`,
    };
  }
}

/** Thrown inside the amendment's savepoint when the new lines are refused (the message says why). */
class Refused extends Error {}

/** Thrown inside the amendment's savepoint when the new lines fail the price check. */
class PriceProblems extends Error {
  constructor(readonly problems: readonly OrderProblem[]) {
    super('price problems');
  }
}

async function replaceAndReserve(
  tx: Tx,
  locked: LockedOrder,
  request: AmendRequest,
  skuIdOf: ReadonlyMap<string, number>,
  actor: string,
  now: string,
): Promise<number[]> {
  const { order, lines: oldLines } = locked;
  const next = request.lines;
  const ctx: RuleContext = {
    actor,
    now,
    timeZone: currentBusinessTimeZone(),
    dryRun: false,
    change: 'amend',
  };
  // Lock first, in the lock order, everything the give-back and the rules below touch: the
  // customer and salesperson rows, the contract lines and the promotion counters of this order.
  await lockRuleRows(tx, { order, lines: oldLines }, ctx);
  // What the old lines took goes back; the rules take again for the new lines.
  await returnContractDraws(tx, order.id, [], 'lines_replaced', actor, now);
  await returnPromotionUses(tx, order.id, now);
  await tx(ORDER_LINE_PROMOTIONS).where({ order_id: order.id }).delete();

  // The new lines replace the old ones (the old allocations are released below, from `locked`).
  if (oldLines.length > 0)
    await tx(ORDER_ALLOCATIONS)
      .whereIn(
        'order_line_id',
        oldLines.map((l) => l.id),
      )
      .delete();
  await tx(ORDER_LINES).where({ order_id: order.id }).delete();
  await insertLines(tx, order.id, next);
  const money = moneyColumns(order, request, next);
  await tx(ORDERS)
    .where({ id: order.id })
    .update({ ...money, updated_at: now });
  const amended: OrderRow = {
    ...order,
    shippingAmount: money.shipping_amount,
    discountAmount: money.discount_amount,
    taxAmount: money.tax_amount,
    pricesIncludeTax: Boolean(money.prices_include_tax),
  };

  const rows = await tx(ORDER_LINES).where({ order_id: order.id }).orderBy('line_no');
  const lines = rows.map(toLine);
  for (const l of lines) l.skuId = skuIdOf.get(l.sku) as number;
  // The new lines meet the price lists as a new order would (the channel's policy decides).
  const carried = new Map(
    rows.map((r) => [Number(r.id), r.carried_unit_price === null ? null : Number(r.carried_unit_price)]),
  );
  const [check] = await priceCheck(tx, [{ order: amended, lines }], carried);
  if (check!.problems.length > 0) throw new PriceProblems(check!.problems);
  const batch = new WriteBatch(tx);
  // Checked prices are written with the reservation below (writeOrderSide); the rules' changes here.
  let repriced = applyCheckedPrices(lines, check!);
  // Then the order rules, as for a new order: a refusal leaves the order as it was.
  const outcome = await runOrderRules(tx, [{ order: amended, lines }], ctx, ORDER_RULES, batch);
  const held = outcome.held[0];
  if (held) throw new Refused(held.problems.map((p) => `${p.code}: ${p.message}`).join('; '));
  repriced = applyRuleDraft({ order: amended, lines }, outcome.passed[0]!.draft) || repriced;
  if (repriced) {
    const total = orderTotal(...storedMoney(amended, lines));
    batch.addSql('UPDATE orders SET total_amount = ?, discount_amount = ?, tax_amount = ? WHERE id = ?', [
      total,
      amended.discountAmount,
      amended.taxAmount,
      order.id,
    ]);
    order.totalAmount = total;
  }
  await batch.flush();

  // Now the stock rows, old and new, in one sorted pass; the old reservations go back (a copy of
  // the allocations: should the savepoint roll back, the caller's view of them stays true).
  const oldSkus = oldLines.map((l) => l.skuId).filter((id): id is number => id !== null);
  const heldStock = await lockStock(tx, [...oldSkus, ...skuIdOf.values()]);
  const released = await releaseReservations(
    tx,
    { ...locked, allocations: locked.allocations.map((a) => ({ ...a })) },
    now,
    heldStock,
  );
  const pool = await lockStock(tx, [...skuIdOf.values()]);
  const writes = new WriteBatch(tx);
  const plan = planReservation(
    order.id,
    lines.map((line) => ({ line, need: line.ordered })),
    pool,
    'reservation',
  );
  writeOrderSide(writes, plan);
  writeStockSide(writes, pool, plan, now);
  const status = fulfilmentStatus(lines);
  const reason = 'lines updated by the channel';
  if (!changeStatus(writes, order, { to: status, reason, actor }, now)) {
    writes.addSql(
      'INSERT INTO order_events (order_id, from_status, to_status, reason, actor, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      [order.id, order.status, order.status, reason, actor, now],
    );
  }
  addToOutbox(writes, [{ topic: 'stock.changed', payload: { skuIds: [...skuIdOf.values()] } }], now);
  await writes.flush();
  return released;
}
