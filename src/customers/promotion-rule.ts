import { lockClause, rawRows, type Tx } from '../db/connection.js';
import { placeholders, rowValues } from '../db/write-batch.js';
import { businessDate, defaultPricing, type PricePolicy } from '../domain/pricing.js';
import {
  type AppliedPromotion,
  checkPromotions,
  type Promotion,
  type PromotionOrder,
  planPromotions,
} from '../domain/promotions.js';
import type { OrderRule, RuleOrder, RuleStatements } from '../orders/order-rules.js';
import { isLimited, toPromotion } from './promotions.js';

/**
 * The promotions order rule (lock rank 40, promotion counters): per group of orders, one round trip
 * locks the counters of the limited promotions the orders could take (in id order) and reads the
 * promotions, the customers' uses of limited ones, the customers and the channels' price policies.
 * Each order is then checked (`checkPromotions`); under `enforce` the promotions are applied to the
 * draft. An order that passes takes a use of each promotion it got: the counter of a limited one
 * (locked since `load`, and checked by the table's CHECK constraint), a row in the uses ledger, and
 * the promotions stored per line.
 */

interface PromotionState {
  /** The promotion codes each order names. */
  codes: Map<number, string[]>;
  promotions: Promotion[];
  /** Counters of the limited promotions, locked. */
  used: Map<number, number>;
  /** Uses of limited promotions per `promotionId:customerId`. */
  customerUsed: Map<string, number>;
  customers: Map<number, { code: string | null; group: string | null }>;
  policies: Map<number, PricePolicy | null>;
  /** What the group's passed orders took, written by `finish`: rows of order_line_promotions and promotion_uses. */
  applied: unknown[][];
  uses: unknown[][];
  /** Uses of each limited promotion taken by this group. */
  counted: Map<number, number>;
}

interface PromotionEffect {
  taken: AppliedPromotion[];
}

const marks = (n: number) => (n === 0 ? 'NULL' : new Array(n).fill('?').join(', '));

const channelIdOf = (channel: string): number | null => {
  const m = /^[a-z0-9_-]+:(\d+)$/i.exec(channel);
  return m ? Number(m[1]) : null;
};

const customerKey = (promotionId: number, customerId: number) => `${promotionId}:${customerId}`;

function promotionOrder(draft: RuleOrder, state: PromotionState, timeZone: string): PromotionOrder {
  const { order, lines } = draft;
  const customer = order.customerId === null ? null : (state.customers.get(order.customerId) ?? null);
  return {
    channel: order.channel,
    currency: order.currency,
    date: businessDate(order.placedAt, timeZone),
    customer: customer ? { id: order.customerId, ...customer } : null,
    codes: state.codes.get(order.id) ?? [],
    lines: lines.map((l) => ({
      lineNo: l.lineNo,
      sku: l.sku,
      quantity: l.ordered,
      unitPrice: l.unitPrice,
      discount: l.discountAmount,
    })),
    discount: order.discountAmount,
  };
}

/** The promotion rule's round trip for a group of orders (`load`, or sent with the other rules'). */
function promotionStatements(
  tx: Tx,
  orders: readonly RuleOrder[],
  timeZone: string,
): RuleStatements<PromotionState> {
  const dates = orders.map((o) => businessDate(o.order.placedAt, timeZone)).sort();
  const first = dates[0]!;
  const last = dates[dates.length - 1]!;
  const orderIds = orders.map((o) => o.order.id);
  const customerIds = [
    ...new Set(orders.flatMap((o) => (o.order.customerId === null ? [] : [o.order.customerId]))),
  ];
  const channelIds = [
    ...new Set(orders.map((o) => channelIdOf(o.order.channel)).filter((id): id is number => id !== null)),
  ];
  const window = '(valid_from IS NULL OR valid_from <= ?) AND (valid_to IS NULL OR valid_to >= ?)';
  const codesOf = `SELECT code FROM order_promotion_codes WHERE order_id IN (${marks(orderIds.length)})`;
  return {
    sql:
      // The codes the orders name (their rows are ours: the orders are locked).
      `SELECT order_id, code FROM order_promotion_codes WHERE order_id IN (${marks(orderIds.length)}); ` +
      // Lock first: the counters of the limited promotions these orders could take, in id order.
      `SELECT id, used FROM promotions WHERE active = 1 AND (usage_limit IS NOT NULL OR customer_limit IS NOT NULL) ` +
      `AND ${window} AND (requires_code = 0 OR code IN (${codesOf})) ORDER BY id${lockClause(tx)}; ` +
      // Every promotion that could apply, and any the orders name (to say why one does not).
      `SELECT * FROM promotions WHERE (active = 1 AND ${window} AND requires_code = 0) OR code IN (${codesOf}); ` +
      // The customers' uses of the limited ones (current: read after the counters' locks).
      'SELECT promotion_id, customer_id, SUM(delta) AS n FROM promotion_uses ' +
      `WHERE customer_id IN (${marks(customerIds.length)}) AND promotion_id IN ` +
      '(SELECT id FROM promotions WHERE active = 1 AND customer_limit IS NOT NULL) GROUP BY promotion_id, customer_id; ' +
      `SELECT id, code, customer_group FROM customers WHERE id IN (${marks(customerIds.length)}); ` +
      `SELECT id, price_policy FROM channels WHERE id IN (${marks(channelIds.length)})`,
    bindings: [
      ...orderIds,
      last,
      first,
      ...orderIds,
      last,
      first,
      ...orderIds,
      ...customerIds,
      ...customerIds,
      ...channelIds,
    ],
    parse: ([named = [], locked = [], rows = [], uses = [], customers = [], channels = []]) => {
      const codes = new Map<number, string[]>();
      for (const r of named)
        codes.set(Number(r.order_id), [...(codes.get(Number(r.order_id)) ?? []), String(r.code)]);
      return {
        codes,
        promotions: rows.map(toPromotion),
        used: new Map(locked.map((r) => [Number(r.id), Number(r.used)])),
        customerUsed: new Map(
          uses.map((r) => [customerKey(Number(r.promotion_id), Number(r.customer_id)), Number(r.n ?? 0)]),
        ),
        customers: new Map(
          customers.map((r) => [
            Number(r.id),
            { code: (r.code as string | null) ?? null, group: (r.customer_group as string | null) ?? null },
          ]),
        ),
        policies: new Map(
          channels.map((r) => [Number(r.id), (r.price_policy as PricePolicy | null) ?? null]),
        ),
        applied: [],
        uses: [],
        counted: new Map(),
      };
    },
  };
}

export const promotionRule: OrderRule<PromotionState, PromotionEffect> = {
  name: 'promotions',
  lockRank: 40,

  async load(tx, orders, ctx) {
    const locking = promotionStatements(tx, orders, ctx.timeZone);
    return locking.parse(await rawRows(tx, locking.sql, locking.bindings));
  },

  prepare: async (tx, orders, ctx) => promotionStatements(tx, orders, ctx.timeZone),

  decide(state, draft, ctx) {
    const order = promotionOrder(draft, state, ctx.timeZone);
    const customerId = draft.order.customerId;
    const plan = planPromotions(state.promotions, order, (p) => ({
      // A limited promotion not locked here is one this group may not take (not in the window).
      used: isLimited(p) ? (state.used.get(p.id) ?? Number.MAX_SAFE_INTEGER) : 0,
      customerUsed: customerId === null ? 0 : (state.customerUsed.get(customerKey(p.id, customerId)) ?? 0),
    }));
    const id = channelIdOf(draft.order.channel);
    const policy =
      (id === null ? null : state.policies.get(id)) ?? defaultPricing(draft.order.channel).policy;
    const check = checkPromotions(plan, order, policy === 'enforce');
    if (check.apply && check.problems.length === 0) {
      for (const [i, line] of draft.lines.entries()) line.discountAmount = check.apply.lineDiscounts[i]!;
      draft.order.discountAmount = check.apply.orderDiscount;
    }
    return {
      problems: check.problems,
      effect: { taken: check.taken },
      info: {
        claimed: check.claimed,
        allowed: check.allowed,
        applied: plan.applied,
        refused: plan.refused,
      },
    };
  },

  take(state, draft, effect, _batch, ctx) {
    if (!effect || effect.taken.length === 0) return;
    const { order, lines } = draft;
    const lineIdOf = new Map(lines.map((l) => [l.lineNo, l.id]));
    for (const a of effect.taken)
      state.applied.push([
        order.id,
        a.lineNo === null ? null : (lineIdOf.get(a.lineNo) ?? null),
        a.promotionId,
        a.discount,
      ]);
    for (const id of new Set(effect.taken.map((a) => a.promotionId))) {
      if (state.used.has(id)) {
        state.used.set(id, state.used.get(id)! + 1);
        state.counted.set(id, (state.counted.get(id) ?? 0) + 1);
      }
      if (order.customerId !== null) {
        const key = customerKey(id, order.customerId);
        state.customerUsed.set(key, (state.customerUsed.get(key) ?? 0) + 1);
      }
      state.uses.push([id, order.id, order.customerId, 1, ctx.now]);
    }
  },

  /** The group's uses and applied promotions: one statement per table, one per limited counter. */
  finish(state, batch) {
    if (state.applied.length > 0)
      batch.addSql(
        `INSERT INTO order_line_promotions (order_id, order_line_id, promotion_id, discount_amount) VALUES ${placeholders(state.applied.length, 4)}`,
        rowValues(state.applied),
      );
    if (state.uses.length > 0)
      batch.addSql(
        `INSERT INTO promotion_uses (promotion_id, order_id, customer_id, delta, created_at) VALUES ${placeholders(state.uses.length, 5)}`,
        rowValues(state.uses),
      );
    // Under the locks taken in `load` (and the table's CHECK: never past the limit).
    for (const [id, n] of [...state.counted].sort(([a], [b]) => a - b))
      batch.addSql('UPDATE promotions SET used = used + ? WHERE id = ?', [n, id]);
  },
};
