import { describe, expect, it } from 'vitest';
import {
  businessDate,
  type ChannelPricing,
  checkOrderPrices,
  defaultPricing,
  findTie,
  type PriceAssignment,
  type PriceItem,
  type PriceQuery,
  percentOf,
  priceBook,
  type RuleKey,
  resolvePrice,
  withinTolerance,
} from '../../src/domain/pricing.js';

const lists = [
  { id: 1, code: 'BASE', currency: 'EUR' },
  { id: 2, code: 'ACME', currency: 'EUR' },
  { id: 3, code: 'TRADE', currency: 'EUR' },
  { id: 4, code: 'USD-LIST', currency: 'USD' },
  { id: 5, code: 'SEASON', currency: 'EUR' },
];
const assignments: PriceAssignment[] = [
  { listId: 1, level: 'default', target: '' },
  { listId: 2, level: 'customer', target: 'ACME' },
  { listId: 3, level: 'group', target: 'trade' },
  { listId: 4, level: 'default', target: '' },
  { listId: 5, level: 'customer', target: 'ACME' },
];
let nextId = 100;
const item = (listId: number, sku: string, fields: Partial<PriceItem>): PriceItem => ({
  id: nextId++,
  listId,
  sku,
  minQuantity: 1,
  validFrom: null,
  validTo: null,
  price: null,
  percentBp: null,
  basedOnListId: null,
  ...fields,
});
const items: PriceItem[] = [
  item(1, 'A', { id: 1, price: 1000 }),
  item(1, 'A', { id: 2, price: 900, minQuantity: 10 }),
  item(1, 'A', { id: 3, price: 800, minQuantity: 100 }),
  item(1, 'B', { id: 4, price: 500 }),
  item(2, 'A', { id: 10, price: 950 }),
  item(2, 'A', { id: 11, price: 850, minQuantity: 10 }),
  // ACME's summer price: only within June 2026 (business dates, inclusive).
  item(5, 'A', { id: 12, price: 700, minQuantity: 10, validFrom: '2026-06-01', validTo: '2026-06-30' }),
  // The trade group pays 90 % of the base list.
  item(3, 'A', { id: 20, percentBp: 9000, basedOnListId: 1 }),
  item(3, 'A', { id: 21, percentBp: 8000, basedOnListId: 1, minQuantity: 50 }),
  item(4, 'A', { id: 30, price: 1200 }),
  item(1, 'C', { id: 40, price: 300, validTo: '2026-12-31' }),
];
const book = priceBook(lists, assignments, items);
const acme = { code: 'acme', group: 'default' };
const trader = { code: 'T1', group: 'TRADE' };

describe('resolvePrice', () => {
  const q = (over: Partial<PriceQuery>): PriceQuery => ({
    customer: null,
    currency: 'EUR',
    sku: 'A',
    quantity: 1,
    date: '2026-03-01',
    ...over,
  });
  it.each<[string, Partial<PriceQuery>, number | null, number | null]>([
    ['default list, no break reached', {}, 1000, 1],
    ['default list, break at 10 reached exactly', { quantity: 10 }, 900, 2],
    ['default list, one below the break', { quantity: 9 }, 1000, 1],
    ['default list, highest break reached wins', { quantity: 150 }, 800, 3],
    ['customer list beats the default (even its lower break)', { customer: acme, quantity: 150 }, 850, 11],
    ['customer code compares case-insensitively', { customer: { code: 'ACME', group: null } }, 950, 10],
    ['later validFrom wins at the same break', { customer: acme, quantity: 10, date: '2026-06-15' }, 700, 12],
    ['first day of validity (inclusive)', { customer: acme, quantity: 10, date: '2026-06-01' }, 700, 12],
    ['last day of validity (inclusive)', { customer: acme, quantity: 10, date: '2026-06-30' }, 700, 12],
    ['the day after validTo', { customer: acme, quantity: 10, date: '2026-07-01' }, 850, 11],
    [
      'group list: percentage of the base list, at the base list break',
      { customer: trader, quantity: 10 },
      810,
      20,
    ],
    ['group list: its own break on the percentage', { customer: trader, quantity: 60 }, 720, 21],
    ['group compares case-insensitively, customer list absent', { customer: trader }, 900, 20],
    ['another currency: only the list in it applies', { currency: 'USD' }, 1200, 30],
    ['a currency no list has: no price', { currency: 'GBP' }, null, null],
    ['a SKU no list has: no price', { sku: 'Z' }, null, null],
    ['SKU code compares case-insensitively', { sku: 'b' }, 500, 4],
    ['expired item: no price', { sku: 'C', date: '2027-01-01' }, null, null],
  ])('%s', (_name, over, price, itemId) => {
    const r = resolvePrice(book, q(over));
    expect(r?.price ?? null).toBe(price);
    expect(r?.itemId ?? null).toBe(itemId);
  });

  it('a percentage item whose base list has no price for the line does not apply', () => {
    const b = priceBook(
      [lists[0]!, lists[2]!],
      [assignments[0]!, assignments[2]!],
      [item(3, 'Q', { id: 50, percentBp: 9000, basedOnListId: 1 })],
    );
    expect(resolvePrice(b, q({ sku: 'Q', customer: trader }))).toBeNull();
  });
});

describe('businessDate: midnight in the business time zone', () => {
  it.each([
    ['2026-06-30T15:59:59.999Z', 'Asia/Shanghai', '2026-06-30'],
    ['2026-06-30T16:00:00.000Z', 'Asia/Shanghai', '2026-07-01'],
    ['2026-06-30T23:59:59.999Z', 'UTC', '2026-06-30'],
    ['2026-07-01T00:00:00.000Z', 'UTC', '2026-07-01'],
    ['2026-07-01T03:59:59.000Z', 'America/New_York', '2026-06-30'],
    ['2026-07-01T04:00:00.000Z', 'America/New_York', '2026-07-01'],
  ])('%s in %s is %s', (instant, tz, date) => {
    expect(businessDate(instant, tz)).toBe(date);
  });

  it('an order placed just after midnight in Shanghai on 1 July misses a price valid to 30 June', () => {
    const date = businessDate('2026-06-30T16:30:00Z', 'Asia/Shanghai');
    const r = resolvePrice(book, { customer: acme, currency: 'EUR', sku: 'A', quantity: 10, date });
    expect(r?.itemId).toBe(11);
    const utc = businessDate('2026-06-30T16:30:00Z', 'UTC');
    expect(
      resolvePrice(book, { customer: acme, currency: 'EUR', sku: 'A', quantity: 10, date: utc })?.itemId,
    ).toBe(12);
  });
});

describe('percentOf rounds half up exactly', () => {
  it.each([
    [1000, 9000, 900],
    [999, 9000, 899], // 899.1
    [995, 5000, 498], // 497.5 -> 498
    [Number.MAX_SAFE_INTEGER, 10000, Number.MAX_SAFE_INTEGER],
  ])('%i × %i bp = %i', (amount, bp, out) => expect(percentOf(amount, bp)).toBe(out));
});

describe('checkOrderPrices', () => {
  const ours = { price: 1000, itemId: 7, listCode: 'L', level: 'default' as const };
  const policy = (p: Partial<ChannelPricing>): ChannelPricing => ({
    policy: 'enforce',
    tolerancePercent: null,
    toleranceAmount: null,
    ...p,
  });
  it.each<
    [string, number | null, typeof ours | null, Partial<ChannelPricing>, number, number | null, string | null]
  >([
    ['enforce: our price replaces the order’s', 1200, ours, {}, 1000, 200, null],
    ['accept: the order’s price stays, variance recorded', 1200, ours, { policy: 'accept' }, 1200, 200, null],
    ['hold: no tolerance, any difference holds', 1001, ours, { policy: 'hold' }, 1001, 1, 'price_variance'],
    ['hold: equal price passes', 1000, ours, { policy: 'hold' }, 1000, 0, null],
    [
      'hold: within the absolute tolerance',
      1050,
      ours,
      { policy: 'hold', toleranceAmount: 50 },
      1050,
      50,
      null,
    ],
    [
      'hold: beyond the absolute tolerance',
      1051,
      ours,
      { policy: 'hold', toleranceAmount: 50 },
      1051,
      51,
      'price_variance',
    ],
    ['hold: within 5 % (below)', 950, ours, { policy: 'hold', tolerancePercent: 5 }, 950, -50, null],
    ['hold: beyond 5 %', 949, ours, { policy: 'hold', tolerancePercent: 5 }, 949, -51, 'price_variance'],
    [
      'hold: the larger tolerance wins',
      1080,
      ours,
      { policy: 'hold', tolerancePercent: 5, toleranceAmount: 100 },
      1080,
      80,
      null,
    ],
    ['no price given: ours', null, ours, { policy: 'accept' }, 1000, null, null],
    ['no price given, none of ours: no_price', null, null, {}, 0, null, 'no_price'],
    ['a price given, none of ours: kept', 1234, null, {}, 1234, null, null],
  ])('%s', (_name, carried, resolved, p, unitPrice, variance, problem) => {
    const result = checkOrderPrices([{ lineNo: 1, sku: 'A', carried }], [resolved], policy(p));
    expect(result.lines[0]).toMatchObject({ unitPrice, variance, checked: resolved?.price ?? null });
    expect(result.problems.map((x) => x.code)).toEqual(problem ? [problem] : []);
  });

  it('a held line names the order price, ours and the variance', () => {
    const result = checkOrderPrices(
      [{ lineNo: 2, sku: 'A', carried: 1500 }],
      [ours],
      policy({ policy: 'hold' }),
    );
    expect(result.problems[0]).toMatchObject({
      lineNo: 2,
      orderPrice: 1500,
      ourPrice: 1000,
      variance: 500,
      ruleId: 7,
    });
  });

  it('defaults: the API and Excel enforce, shops accept', () => {
    expect(defaultPricing('api').policy).toBe('enforce');
    expect(defaultPricing('excel').policy).toBe('enforce');
    expect(defaultPricing('shopify:3').policy).toBe('accept');
    expect(defaultPricing('woocommerce:4').policy).toBe('accept');
  });

  it('withinTolerance works on exact integers for large prices', () => {
    const big = 45_035_996_273_704_00; // a multiple of 100 near 2^52
    expect(withinTolerance(big / 100, big, policy({ tolerancePercent: 1 }))).toBe(true);
    expect(withinTolerance(big / 100 + 1, big, policy({ tolerancePercent: 1 }))).toBe(false);
  });
});

describe('findTie', () => {
  const rule = (over: Partial<RuleKey>): RuleKey => ({
    itemId: 1,
    listCode: 'L1',
    level: 'customer',
    target: 'ACME',
    currency: 'EUR',
    sku: 'A',
    minQuantity: 10,
    validFrom: null,
    ...over,
  });
  it.each<[string, Partial<RuleKey>, boolean]>([
    ['same everything', {}, true],
    ['target in another case', { target: 'acme' }, true],
    ['another break', { minQuantity: 20 }, false],
    ['another validFrom', { validFrom: '2026-01-01' }, false],
    ['another currency', { currency: 'USD' }, false],
    ['another level', { level: 'group' }, false],
    ['another SKU', { sku: 'B' }, false],
  ])('%s: tie %s', (_name, over, tie) => {
    expect(findTie([rule({}), rule({ itemId: 2, listCode: 'L2', ...over })]) !== null).toBe(tie);
  });
});
