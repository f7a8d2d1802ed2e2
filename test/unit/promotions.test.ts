import { describe, expect, it } from 'vitest';
import {
  checkPromotions,
  lineDiscount,
  orderDiscount,
  type Promotion,
  type PromotionOrder,
  type PromotionUsage,
  planPromotions,
  whyNot,
} from '../../src/domain/promotions.js';

let nextId = 1;
const promo = (fields: Partial<Promotion>): Promotion => ({
  id: nextId++,
  code: `P${nextId}`,
  active: true,
  kind: 'percent',
  appliesTo: 'line',
  percentBp: 1000,
  amount: null,
  buyQuantity: null,
  getQuantity: null,
  currency: null,
  minOrderAmount: null,
  minOrderQuantity: null,
  validFrom: null,
  validTo: null,
  customers: [],
  groups: [],
  channels: [],
  skus: [],
  requiresCode: false,
  usageLimit: null,
  customerLimit: null,
  ...fields,
});

const order = (fields: Partial<PromotionOrder> = {}): PromotionOrder => ({
  channel: 'api',
  currency: 'EUR',
  date: '2026-12-01',
  customer: { id: 7, code: 'ACME', group: 'trade' },
  codes: [],
  lines: [
    { lineNo: 1, sku: 'A', quantity: 3, unitPrice: 1000, discount: 0 },
    { lineNo: 2, sku: 'B', quantity: 1, unitPrice: 2550, discount: 0 },
  ],
  discount: 0,
  ...fields,
});

const unused: PromotionUsage = { used: 0, customerUsed: 0 };
const line = { lineNo: 1, sku: 'A', quantity: 7, unitPrice: 999, discount: 0 };

describe('lineDiscount', () => {
  it.each([
    ['10 % of 7 × 9.99 = 6.993 -> 6.99', promo({ percentBp: 1000 }), 699],
    ['12.5 % of 69.93 = 8.74125 -> 8.74', promo({ percentBp: 1250 }), 874],
    ['100 % is the whole line', promo({ percentBp: 10_000 }), 6993],
    ['1.00 off each unit', promo({ kind: 'amount', amount: 100, percentBp: null }), 700],
    ['never more than the line', promo({ kind: 'amount', amount: 5000, percentBp: null }), 6993],
    [
      'buy 2 get 1: 7 units are 2 groups, 2 free',
      promo({ kind: 'buy_x_get_y', buyQuantity: 2, getQuantity: 1, percentBp: null }),
      1998,
    ],
    [
      'buy 3 get 1: 7 units are 1 group, 1 free',
      promo({ kind: 'buy_x_get_y', buyQuantity: 3, getQuantity: 1, percentBp: null }),
      999,
    ],
    [
      'buy 7 get 1: 7 units are no group yet',
      promo({ kind: 'buy_x_get_y', buyQuantity: 7, getQuantity: 1, percentBp: null }),
      0,
    ],
  ])('%s', (_what, p, expected) => {
    expect(lineDiscount(p, line)).toBe(expected);
  });
});

describe('orderDiscount', () => {
  it.each([
    ['5 % of 55.50 = 2.775 -> 2.78', promo({ appliesTo: 'order', percentBp: 500 }), 5550n, 278],
    ['10.00 off', promo({ appliesTo: 'order', kind: 'amount', amount: 1000, percentBp: null }), 5550n, 1000],
    [
      'never more than the order',
      promo({ appliesTo: 'order', kind: 'amount', amount: 9000, percentBp: null }),
      5550n,
      5550,
    ],
    ['nothing off nothing', promo({ appliesTo: 'order', percentBp: 500 }), 0n, 0],
  ])('%s', (_what, p, base, expected) => {
    expect(orderDiscount(p, base)).toBe(expected);
  });
});

describe('whyNot', () => {
  it.each<[string, Partial<Promotion>, Partial<PromotionOrder>, PromotionUsage, string | null]>([
    ['applies', {}, {}, unused, null],
    ['inactive', { active: false }, {}, unused, 'the promotion is not active'],
    ['first day of the window', { validFrom: '2026-12-01' }, {}, unused, null],
    ['the day before the window', { validFrom: '2026-12-02' }, {}, unused, 'valid from 2026-12-02'],
    ['last day of the window', { validTo: '2026-12-01' }, {}, unused, null],
    ['the day after the window', { validTo: '2026-11-30' }, {}, unused, 'valid until 2026-11-30'],
    ['another currency', { currency: 'USD' }, {}, unused, 'only for orders in USD'],
    ['code not named', { code: 'XMAS', requiresCode: true }, {}, unused, 'the order does not name its code'],
    ['code named (any case)', { code: 'XMAS', requiresCode: true }, { codes: ['xmas'] }, unused, null],
    ['channel by type', { channels: ['shopify'] }, { channel: 'shopify:3' }, unused, null],
    [
      'channel by name',
      { channels: ['shopify:4'] },
      { channel: 'shopify:3' },
      unused,
      'not for channel shopify:3',
    ],
    ['customer listed', { customers: ['acme'] }, {}, unused, null],
    ['customer not listed', { customers: ['OTHER'] }, {}, unused, 'not for this customer'],
    ['no customer', { customers: ['ACME'] }, { customer: null }, unused, 'not for this customer'],
    ['group listed', { groups: ['TRADE'] }, {}, unused, null],
    ['group not listed', { groups: ['retail'] }, {}, unused, "not for this customer's group"],
    ['no line for its SKUs', { skus: ['Z'] }, {}, unused, 'no line of the order is for it'],
    ['minimum amount reached (55.50)', { minOrderAmount: 5550 }, {}, unused, null],
    ['minimum amount missed', { minOrderAmount: 5551 }, {}, unused, 'the order is less than 5551'],
    ['minimum amount over its SKUs only', { minOrderAmount: 3000, skus: ['A'] }, {}, unused, null],
    [
      'minimum amount over its SKUs missed',
      { minOrderAmount: 3001, skus: ['A'] },
      {},
      unused,
      'the order is less than 3001',
    ],
    ['minimum quantity reached', { minOrderQuantity: 4 }, {}, unused, null],
    ['minimum quantity missed', { minOrderQuantity: 5 }, {}, unused, 'the order has fewer than 5 units'],
    ['last use', { usageLimit: 10 }, {}, { used: 9, customerUsed: 0 }, null],
    ['used up', { usageLimit: 10 }, {}, { used: 10, customerUsed: 0 }, 'the promotion is used up'],
    ['customer last use', { customerLimit: 2 }, {}, { used: 50, customerUsed: 1 }, null],
    [
      'customer used up',
      { customerLimit: 2 },
      {},
      { used: 50, customerUsed: 2 },
      'the customer has used it up',
    ],
    [
      'customer limit needs a customer',
      { customerLimit: 2 },
      { customer: null },
      unused,
      'only for a known customer',
    ],
  ])('%s', (_what, p, o, usage, expected) => {
    expect(whyNot(promo(p), order(o), usage)).toBe(expected);
  });
});

describe('planPromotions', () => {
  it('gives each line its best line promotion and the order its best order promotion on what is left', () => {
    const tenOnA = promo({ code: 'TEN-A', percentBp: 1000, skus: ['A'] });
    const buy2get1 = promo({
      code: 'B2G1',
      kind: 'buy_x_get_y',
      buyQuantity: 2,
      getQuantity: 1,
      percentBp: null,
    });
    const fiveOff = promo({ code: 'FIVE', appliesTo: 'order', percentBp: 500 });
    const smaller = promo({ code: 'ONE', appliesTo: 'order', kind: 'amount', amount: 100, percentBp: null });
    const plan = planPromotions([tenOnA, buy2get1, fiveOff, smaller], order(), () => unused);
    // Line A: 10 % is 3.00, buy 2 get 1 is 10.00 -> B2G1; line B: 1 unit, nothing (B2G1 gives 0).
    expect(plan.lineDiscounts).toEqual([1000, 0]);
    // The order: 5 % of (30.00 − 10.00 + 25.50) = 2.275 -> 2.28 beats 1.00.
    expect(plan.orderDiscount).toBe(228);
    expect(plan.allowed).toBe(1228);
    expect(plan.applied).toEqual([
      { promotionId: buy2get1.id, code: 'B2G1', lineNo: 1, discount: 1000 },
      { promotionId: fiveOff.id, code: 'FIVE', lineNo: null, discount: 228 },
    ]);
    expect(plan.refused).toEqual([]);
  });

  it('a tie goes to the lower id', () => {
    const a = promo({ code: 'A1', percentBp: 1000 });
    const b = promo({ code: 'B1', percentBp: 1000 });
    const plan = planPromotions([b, a], order(), () => unused);
    expect(plan.applied.map((x) => x.code)).toEqual(['A1', 'A1']);
  });

  it('names the codes the order gives that do not apply, and why', () => {
    const xmas = promo({ code: 'XMAS', requiresCode: true, validTo: '2026-11-30' });
    const plan = planPromotions([xmas], order({ codes: ['XMAS', 'NOPE'] }), () => unused);
    expect(plan.applied).toEqual([]);
    expect(plan.refused).toEqual([
      { code: 'XMAS', reason: 'valid until 2026-11-30' },
      { code: 'NOPE', reason: 'no such promotion' },
    ]);
  });

  it('a used-up promotion gives nothing', () => {
    const limited = promo({ code: 'TEN', usageLimit: 10 });
    expect(planPromotions([limited], order(), () => ({ used: 10, customerUsed: 0 })).allowed).toBe(0);
    expect(planPromotions([limited], order(), () => ({ used: 9, customerUsed: 0 })).allowed).toBe(555);
  });
});

describe('checkPromotions', () => {
  const tenPercent = promo({ code: 'TEN', percentBp: 1000 });
  const claiming = (lineDiscounts: number[], discount = 0) =>
    order({
      lines: order().lines.map((l, i) => ({ ...l, discount: lineDiscounts[i] ?? 0 })),
      discount,
    });

  it.each<[string, PromotionOrder, boolean, { problems: number; taken: number; difference?: number }]>([
    ['claims nothing, accept: nothing taken', claiming([0, 0]), false, { problems: 0, taken: 0 }],
    ['claims nothing, enforce: applied and taken', claiming([0, 0]), true, { problems: 0, taken: 2 }],
    ['claims what is allowed (line)', claiming([300, 255]), false, { problems: 0, taken: 2 }],
    ['claims less than allowed, on the order', claiming([0, 0], 500), false, { problems: 0, taken: 2 }],
    ['claims 1 more than allowed', claiming([300, 256]), false, { problems: 1, taken: 2, difference: 1 }],
    [
      'claims more under enforce too',
      claiming([0, 0], 1000),
      true,
      { problems: 1, taken: 2, difference: 445 },
    ],
  ])('%s', (_what, o, enforce, expected) => {
    const plan = planPromotions([tenPercent], o, () => unused);
    const check = checkPromotions(plan, o, enforce);
    expect(check.problems).toHaveLength(expected.problems);
    expect(check.taken).toHaveLength(expected.taken);
    if (expected.difference !== undefined)
      expect(check.problems[0]).toMatchObject({
        code: 'promotion_invalid',
        allowed: 555,
        difference: expected.difference,
      });
    expect(check.apply).toEqual(enforce ? { lineDiscounts: [300, 255], orderDiscount: 0 } : null);
  });

  it('a discount with no promotion at all is invalid by its whole amount', () => {
    const o = claiming([100, 0], 50);
    const check = checkPromotions(
      planPromotions([], o, () => unused),
      o,
      false,
    );
    expect(check.problems).toEqual([
      expect.objectContaining({ code: 'promotion_invalid', claimed: 150, allowed: 0, difference: 150 }),
    ]);
  });
});
