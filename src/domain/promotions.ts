import { codeKey } from './codes.js';
import type { OrderProblem } from './order-input.js';
import { BASIS_POINTS, divideRounded } from './order-money.js';

/**
 * Promotions, as decisions over plain data: which promotions apply to an order, the discount each
 * gives, and whether the discount an order claims is one they allow. No I/O here;
 * `src/customers/promotion-rule.ts` loads the promotions and their uses for a group of orders and
 * takes the uses in the database.
 *
 * - `percent`: `percentBp` hundredths of a percent off a line (each line the promotion applies to)
 *   or off the order (its lines' amounts after their promotions), rounded per line / once, halves
 *   away from zero.
 * - `amount`: `amount` minor units off each unit of a line, or once off the order; never more than
 *   what it is taken off.
 * - `buy_x_get_y`: on each line it applies to, of every `buy + get` units `get` are free.
 *
 * A line takes at most one line promotion and the order at most one order promotion: the one that
 * gives the most (the lowest id on a tie).
 */

export type PromotionKind = 'percent' | 'amount' | 'buy_x_get_y';
export type PromotionTarget = 'line' | 'order';
export const PROMOTION_KINDS: readonly PromotionKind[] = ['percent', 'amount', 'buy_x_get_y'];

export interface Promotion {
  id: number;
  code: string;
  active: boolean;
  kind: PromotionKind;
  appliesTo: PromotionTarget;
  percentBp: number | null;
  amount: number | null;
  buyQuantity: number | null;
  getQuantity: number | null;
  /** The currency of `amount` and `minOrderAmount`; null: any (a percent without a minimum amount). */
  currency: string | null;
  minOrderAmount: number | null;
  minOrderQuantity: number | null;
  /** Inclusive `YYYY-MM-DD` in the business time zone; null: open-ended. */
  validFrom: string | null;
  validTo: string | null;
  /** Codes; empty: no restriction. A channel entry is a channel name (`shopify:3`) or a type (`shopify`). */
  customers: readonly string[];
  groups: readonly string[];
  channels: readonly string[];
  skus: readonly string[];
  /** Applies only to orders naming its code. */
  requiresCode: boolean;
  /** Uses (orders) allowed in all, and per customer; null: no limit. */
  usageLimit: number | null;
  customerLimit: number | null;
}

export interface PromotionUsage {
  /** Uses so far (the locked counter). */
  used: number;
  /** Uses so far by this order's customer. */
  customerUsed: number;
}

export interface PromotionLine {
  lineNo: number;
  sku: string;
  quantity: number;
  unitPrice: number;
  /** The discount the order claims on the line. */
  discount: number;
}

export interface PromotionOrder {
  channel: string;
  currency: string;
  /** The order's date in the business time zone (`businessDate` of when it was placed). */
  date: string;
  customer: { id: number | null; code: string | null; group: string | null } | null;
  /** The promotion codes the order names. */
  codes: readonly string[];
  lines: readonly PromotionLine[];
  /** The order-level discount the order claims. */
  discount: number;
}

export interface AppliedPromotion {
  promotionId: number;
  code: string;
  /** Null: on the order as a whole. */
  lineNo: number | null;
  discount: number;
}

export interface PromotionPlan {
  /** Per line (in the order's order): the discount its promotion allows (0: none). */
  lineDiscounts: number[];
  orderDiscount: number;
  applied: AppliedPromotion[];
  /** Everything the promotions allow: Σ line discounts + order discount. */
  allowed: number;
  /** Promotions the order names that do not apply, and why. */
  refused: { code: string; reason: string }[];
}

const channelMatches = (entries: readonly string[], channel: string) => {
  if (entries.length === 0) return true;
  const type = channel.split(':')[0]!;
  return entries.some((e) => codeKey(e) === codeKey(channel) || codeKey(e) === codeKey(type));
};

const listed = (entries: readonly string[], value: string | null | undefined) =>
  entries.length === 0 || (value != null && entries.some((e) => codeKey(e) === codeKey(value)));

/** The lines a promotion applies to (its SKUs, or all). */
export function matchingLines(p: Promotion, lines: readonly PromotionLine[]): PromotionLine[] {
  return p.skus.length === 0 ? [...lines] : lines.filter((l) => listed(p.skus, l.sku));
}

const gross = (l: PromotionLine) => BigInt(l.quantity) * BigInt(l.unitPrice);

/**
 * Why a promotion does not apply to an order, or null when it does: every condition but the
 * discount itself (a promotion that applies may still give nothing, e.g. buy 2 get 1 on 2 units).
 */
export function whyNot(p: Promotion, order: PromotionOrder, usage: PromotionUsage): string | null {
  if (!p.active) return 'the promotion is not active';
  if (p.validFrom !== null && order.date < p.validFrom) return `valid from ${p.validFrom}`;
  if (p.validTo !== null && order.date > p.validTo) return `valid until ${p.validTo}`;
  if (p.currency !== null && p.currency !== order.currency) return `only for orders in ${p.currency}`;
  if (p.requiresCode && !order.codes.some((c) => codeKey(c) === codeKey(p.code)))
    return 'the order does not name its code';
  if (!channelMatches(p.channels, order.channel)) return `not for channel ${order.channel}`;
  if (p.customers.length > 0 && !listed(p.customers, order.customer?.code)) return 'not for this customer';
  if (p.groups.length > 0 && !listed(p.groups, order.customer?.group)) return "not for this customer's group";
  const lines = matchingLines(p, order.lines);
  if (lines.length === 0) return 'no line of the order is for it';
  if (p.minOrderAmount !== null) {
    const amount = lines.reduce((s, l) => s + gross(l), 0n);
    if (amount < BigInt(p.minOrderAmount)) return `the order is less than ${p.minOrderAmount}`;
  }
  if (p.minOrderQuantity !== null) {
    const quantity = lines.reduce((s, l) => s + l.quantity, 0);
    if (quantity < p.minOrderQuantity) return `the order has fewer than ${p.minOrderQuantity} units`;
  }
  if (p.usageLimit !== null && usage.used + 1 > p.usageLimit) return 'the promotion is used up';
  if (p.customerLimit !== null) {
    if (order.customer?.id == null) return 'only for a known customer';
    if (usage.customerUsed + 1 > p.customerLimit) return 'the customer has used it up';
  }
  return null;
}

/** What a line promotion takes off one line. */
export function lineDiscount(p: Promotion, line: PromotionLine): number {
  const g = gross(line);
  let d = 0n;
  if (p.kind === 'percent') d = divideRounded(g * BigInt(p.percentBp ?? 0), BASIS_POINTS);
  else if (p.kind === 'amount') d = BigInt(p.amount ?? 0) * BigInt(line.quantity);
  else {
    const buy = p.buyQuantity ?? 0;
    const get = p.getQuantity ?? 0;
    if (buy + get > 0) d = BigInt(Math.floor(line.quantity / (buy + get)) * get) * BigInt(line.unitPrice);
  }
  return Number(d > g ? g : d);
}

/** What an order promotion takes off `base` (the amount of the lines it applies to, after their promotions). */
export function orderDiscount(p: Promotion, base: bigint): number {
  if (base <= 0n) return 0;
  const d =
    p.kind === 'percent'
      ? divideRounded(base * BigInt(p.percentBp ?? 0), BASIS_POINTS)
      : p.kind === 'amount'
        ? BigInt(p.amount ?? 0)
        : 0n;
  return Number(d > base ? base : d);
}

/**
 * The promotions that apply to an order and what each gives: per line the best line promotion,
 * then the best order promotion on what the lines are worth after theirs. `usageOf` gives each
 * promotion's uses so far (in all and by the order's customer).
 */
export function planPromotions(
  promotions: readonly Promotion[],
  order: PromotionOrder,
  usageOf: (p: Promotion) => PromotionUsage,
): PromotionPlan {
  const eligible: Promotion[] = [];
  const refused: { code: string; reason: string }[] = [];
  const named = new Set(order.codes.map(codeKey));
  const known = new Set<string>();
  for (const p of [...promotions].sort((a, b) => a.id - b.id)) {
    const reason = whyNot(p, order, usageOf(p));
    if (named.has(codeKey(p.code))) known.add(codeKey(p.code));
    if (reason === null) eligible.push(p);
    else if (named.has(codeKey(p.code))) refused.push({ code: p.code, reason });
  }
  for (const c of order.codes)
    if (!known.has(codeKey(c)) && !refused.some((r) => codeKey(r.code) === codeKey(c)))
      refused.push({ code: c, reason: 'no such promotion' });

  const applied: AppliedPromotion[] = [];
  const lineDiscounts = order.lines.map((line) => {
    let best: { p: Promotion; d: number } | null = null;
    for (const p of eligible) {
      if (p.appliesTo !== 'line' || !listed(p.skus, line.sku)) continue;
      const d = lineDiscount(p, line);
      if (d > 0 && (best === null || d > best.d)) best = { p, d };
    }
    if (best)
      applied.push({ promotionId: best.p.id, code: best.p.code, lineNo: line.lineNo, discount: best.d });
    return best?.d ?? 0;
  });
  let orderBest: { p: Promotion; d: number } | null = null;
  for (const p of eligible) {
    if (p.appliesTo !== 'order') continue;
    const base = order.lines.reduce(
      (s, l, i) => (listed(p.skus, l.sku) ? s + gross(l) - BigInt(lineDiscounts[i]!) : s),
      0n,
    );
    const d = orderDiscount(p, base);
    if (d > 0 && (orderBest === null || d > orderBest.d)) orderBest = { p, d };
  }
  if (orderBest)
    applied.push({
      promotionId: orderBest.p.id,
      code: orderBest.p.code,
      lineNo: null,
      discount: orderBest.d,
    });
  const orderDiscountAmount = orderBest?.d ?? 0;
  return {
    lineDiscounts,
    orderDiscount: orderDiscountAmount,
    applied,
    allowed: lineDiscounts.reduce((s, d) => s + d, 0) + orderDiscountAmount,
    refused,
  };
}

/** What the order claims: its lines' discounts and its own. */
export const claimedDiscount = (order: PromotionOrder) =>
  order.lines.reduce((s, l) => s + l.discount, 0) + order.discount;

export interface PromotionCheck {
  problems: OrderProblem[];
  /** Under `enforce`: the discounts to set (per line, and the order's); otherwise null (the order's stay). */
  apply: { lineDiscounts: number[]; orderDiscount: number } | null;
  /** The promotions the order takes (a use each, stored per line). */
  taken: AppliedPromotion[];
  claimed: number;
  allowed: number;
}

/**
 * The promotion check of one order. The discount it claims (lines and order together) may not be
 * more than its promotions allow: more holds it (`promotion_invalid`, with `claimed`, `allowed`
 * and the `difference`), and so does a code it names that does not apply (with the reason). Under
 * `enforce` the promotions are applied: the order's discounts become theirs. Otherwise the order's
 * discounts stay, and the promotions covering them are taken (none when it claims nothing).
 */
export function checkPromotions(
  plan: PromotionPlan,
  order: PromotionOrder,
  enforce: boolean,
): PromotionCheck {
  const claimed = claimedDiscount(order);
  const problems: OrderProblem[] = [];
  for (const r of plan.refused)
    problems.push({
      code: 'promotion_invalid',
      message: `promotion ${r.code} does not apply: ${r.reason}`,
      promotion: r.code,
      reason: r.reason,
    } as OrderProblem);
  if (claimed > plan.allowed)
    problems.push({
      code: 'promotion_invalid',
      message: `the order claims a discount of ${claimed}; its promotions allow ${plan.allowed}`,
      claimed,
      allowed: plan.allowed,
      difference: claimed - plan.allowed,
    } as OrderProblem);
  const taken = enforce || claimed > 0 ? plan.applied : [];
  return {
    problems,
    apply: enforce ? { lineDiscounts: plan.lineDiscounts, orderDiscount: plan.orderDiscount } : null,
    taken,
    claimed,
    allowed: plan.allowed,
  };
}
