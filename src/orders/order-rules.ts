import { contractRule } from '../customers/contract-rule.js';
import { creditRule } from '../customers/credit.js';
import { promotionRule } from '../customers/promotion-rule.js';
import { lockPromotionCountersOf } from '../customers/promotions.js';
import { rawRows, type SqlStatements, statementCount, type Tx } from '../db/connection.js';
import type { WriteBatch } from '../db/write-batch.js';
import type { OrderProblem } from '../domain/order-input.js';
import { businessDate } from '../domain/pricing.js';
import { taxRule } from './money.js';
import type { LineRow, OrderRow } from './order-store.js';

/**
 * The order rules that run after the price check, inside the worker's grouped transaction
 * (src/orders/processing.ts): contracts, promotions, credit. Each rule
 *
 * 1. `load`s what it needs for the whole group of orders, locking the rows it guards (customer,
 *    salesperson, contract lines, promotion counters). Rules load in `lockRank` order, which is
 *    ARCHITECTURE.md's lock order, whatever order they decide in. A rule with `prepare` makes its
 *    plain reads first and hands over its locking statements: the locking statements of every rule
 *    and then the stock rows' (processing) go to the database in one round trip, still in lock
 *    order, so the first rows locked (the salespeople's, shared by many groups) are held from that
 *    round trip to the group's COMMIT — two round trips — not across one round trip per rule;
 * 2. `decide`s for one order, in the order of `ORDER_RULES`, seeing what earlier rules changed in
 *    the order's draft (a contract price, a promotion's discount) and what earlier orders of the
 *    group took from its state. `decide` changes nothing but the draft;
 * 3. `take`s what it decided when the order passed every rule: updates its in-memory state (so the
 *    next order of the group sees less credit, fewer promotion uses…) and queues its writes on the
 *    batch. An order held by any rule takes nothing from any rule.
 *
 * The quote (`POST /api/orders/quote`) runs `load` and `decide` only.
 */
export interface OrderRule<State, Effect = unknown> {
  readonly name: string;
  /**
   * Position in the lock order: 10 customer, 20 salesperson, 30 contract lines, 40 promotion
   * counters (stock rows come after every rule, the invoice sequence last).
   */
  readonly lockRank: number;
  load(tx: Tx, orders: readonly RuleOrder[], ctx: RuleContext): Promise<State>;
  /**
   * Optional: `load` in two steps, for processing. `prepare` makes the rule's plain reads (taking
   * no lock) and returns its locking statements instead of sending them; `runOrderRules` sends the
   * statements of every such rule, in lock order, in one round trip (with the stock rows' when the
   * caller gives them), so the rows locked first are held for one round trip less per rule.
   * `parse` of those statements' rows must give the state `load` gives.
   */
  prepare?(tx: Tx, orders: readonly RuleOrder[], ctx: RuleContext): Promise<RuleStatements<State>>;
  /**
   * Optional, with `prepare`: those of `prepare`'s plain reads that depend on the orders' ids only.
   * Processing sends them in its first round trip, after the statement that locks the orders, and
   * hands their rows over in `ctx.prefetched` (by rule name), where `prepare` finds them instead of
   * reading. The rows may cover more orders than `prepare` is given (the whole group, whatever its
   * orders' status): `prepare` keeps those of its own orders. Every other caller reads as before.
   */
  prefetch?(orderIds: readonly number[]): SqlStatements;
  decide(state: State, draft: RuleOrder, ctx: RuleContext): RuleDecision<Effect>;
  take(state: State, draft: RuleOrder, effect: Effect | undefined, batch: WriteBatch, ctx: RuleContext): void;
  /**
   * Optional: called once after every order of the group was decided (and the passed ones taken),
   * not for a quote. A rule that gathers its writes in its state during `take` queues them here as
   * one statement per table for the whole group (fewer statements while the group holds its locks).
   */
  finish?(state: State, batch: WriteBatch, ctx: RuleContext): void;
}

/** A rule's locking statements (`;`-separated, `?` placeholders; none: `sql` empty) and its state from their rows. */
export interface RuleStatements<State, Rows = Record<string, unknown>[]> {
  sql: string;
  bindings: readonly unknown[];
  parse(rows: Rows[]): State | Promise<State>;
}

/** An order under the rules: the locked order row and its lines (prices as the price check left them). */
export interface RuleOrder {
  order: OrderRow;
  lines: LineRow[];
}

export interface RuleContext {
  actor: string;
  /** Database time of this unit of work (`dbTime()`). */
  now: string;
  /** The business time zone (`STOCKBRIDGE_TIME_ZONE`). */
  timeZone: string;
  /** True for a quote: nothing will be taken or written. */
  dryRun: boolean;
  /**
   * `amend`: the rules run again over a reserved order whose lines changed (src/orders/amend.ts),
   * after what it took was given back; what it takes is recorded as an amendment.
   */
  change?: 'amend';
  /** The rows of each rule's `prefetch` statements (by rule name), when the caller sent them. */
  prefetched?: ReadonlyMap<string, Record<string, unknown>[][]>;
}

export interface RuleDecision<Effect = unknown> {
  /** Any problem holds the order (with every rule's problems in `holdDetails`). */
  problems: OrderProblem[];
  /** What `take` needs to apply the decision. */
  effect?: Effect;
  /** What the quote shows for this rule (e.g. credit headroom, the contract line drawn). */
  info?: unknown;
}

/** A rule of any state; the list below is heterogeneous. */
// biome-ignore lint/suspicious/noExplicitAny: each rule keeps its own state type.
export type AnyOrderRule = OrderRule<any, any>;

/**
 * The rules in the order they decide: later rules see what earlier ones changed in the draft.
 * Contracts first (a contract price replaces the line's), then promotions (their discounts); tax after every rule that changes a price
 * or a discount, and before credit, which weighs the order's final total.
 */
export const ORDER_RULES: AnyOrderRule[] = [contractRule, promotionRule, taxRule, creditRule];

export interface RulesOutcome {
  /** Orders that passed: the draft (with the rules' changes to prices and discounts). */
  passed: { original: RuleOrder; draft: RuleOrder; info: Record<string, unknown> }[];
  held: { original: RuleOrder; problems: OrderProblem[]; info: Record<string, unknown> }[];
}

/**
 * Runs the rules over a group of orders (oldest first, as given). Without rules this is a no-op
 * that passes every order unchanged.
 */
export async function runOrderRules(
  tx: Tx,
  orders: readonly RuleOrder[],
  ctx: RuleContext,
  rules: readonly AnyOrderRule[] = ORDER_RULES,
  batch?: WriteBatch,
): Promise<RulesOutcome> {
  return (await runOrderRulesLocking(tx, orders, ctx, rules, batch)).outcome;
}

/**
 * `runOrderRules`, with the statements of a lock that comes after every rule's in the lock order
 * (processing: the stock rows of the group's orders) sent in the same round trip as the rules'
 * locking statements; its state is returned beside the outcome (`locked`, undefined without `after`).
 */
export async function runOrderRulesLocking<After = undefined>(
  tx: Tx,
  orders: readonly RuleOrder[],
  ctx: RuleContext,
  rules: readonly AnyOrderRule[] = ORDER_RULES,
  batch?: WriteBatch,
  after?: RuleStatements<After>,
): Promise<{ outcome: RulesOutcome; locked: After | undefined }> {
  const outcome: RulesOutcome = { passed: [], held: [] };
  if (orders.length === 0) return { outcome, locked: undefined };
  const states = new Map<AnyOrderRule, unknown>();
  // Locking statements gathered in lock order, sent together before any rule that loads on its own.
  let gathered: { rule: AnyOrderRule | null; statements: RuleStatements<unknown> }[] = [];
  let locked: After | undefined;
  const send = async () => {
    const parts = gathered;
    gathered = [];
    const sql = parts.map((p) => p.statements.sql.trim().replace(/;\s*$/, '')).filter(Boolean);
    const rows =
      sql.length === 0
        ? []
        : await rawRows(
            tx,
            sql.join('; '),
            parts.flatMap((p) => [...p.statements.bindings]),
          );
    let offset = 0;
    for (const { rule, statements } of parts) {
      const count = statementCount(statements.sql);
      const state = await statements.parse(rows.slice(offset, offset + count));
      offset += count;
      if (rule) states.set(rule, state);
      else locked = state as After;
    }
  };
  for (const rule of [...rules].sort((a, b) => a.lockRank - b.lockRank)) {
    if (rule.prepare) gathered.push({ rule, statements: await rule.prepare(tx, orders, ctx) });
    else {
      await send();
      states.set(rule, await rule.load(tx, orders, ctx));
    }
  }
  if (after) gathered.push({ rule: null, statements: after as RuleStatements<unknown> });
  await send();
  if (rules.length === 0) {
    for (const o of orders) outcome.passed.push({ original: o, draft: o, info: {} });
    return { outcome, locked };
  }
  for (const original of orders) {
    const draft: RuleOrder = {
      order: { ...original.order },
      lines: original.lines.map((l) => ({ ...l })),
    };
    const problems: OrderProblem[] = [];
    const info: Record<string, unknown> = {};
    const effects: [AnyOrderRule, unknown][] = [];
    for (const rule of rules) {
      const decision = rule.decide(states.get(rule), draft, ctx);
      problems.push(...decision.problems);
      if (decision.info !== undefined) info[rule.name] = decision.info;
      effects.push([rule, decision.effect]);
    }
    if (problems.length > 0) {
      outcome.held.push({ original, problems, info });
      continue;
    }
    if (!ctx.dryRun && batch)
      for (const [rule, effect] of effects) rule.take(states.get(rule), draft, effect, batch, ctx);
    outcome.passed.push({ original, draft, info });
  }
  if (!ctx.dryRun && batch) for (const rule of rules) rule.finish?.(states.get(rule), batch, ctx);
  return { outcome, locked };
}

/**
 * Locks, in the lock order, every row the order rules guard for one order already locked: its
 * customer's and salesperson's rows and credit counters, the contract lines it may draw on, and the
 * promotion counters it took or may take (src/customers/promotions.ts `lockPromotionCountersOf`).
 * For a unit of work that gives back what an order took and then takes again or locks stock rows
 * (a change to a reserved order's lines; a channel's version that both refunds and cancels): taken
 * first, the later give-backs and loads find these rows held and never lock one after a stock row.
 */
export async function lockRuleRows(tx: Tx, order: RuleOrder, ctx: RuleContext): Promise<void> {
  await creditRule.load(tx, [order], ctx);
  await contractRule.load(tx, [order], ctx);
  await lockPromotionCountersOf(tx, order.order.id, businessDate(order.order.placedAt, ctx.timeZone));
}
