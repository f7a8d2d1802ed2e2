import { describe, expect, it } from 'vitest';
import { LIMITS, orderInputSchema, orderTotal } from '../../src/domain/order-input.js';
import {
  computeOrderMoney,
  divideRounded,
  lineTax,
  type MoneyLine,
  type OrderAmounts,
  withComputedTax,
} from '../../src/domain/order-money.js';

describe('divideRounded: halves away from zero', () => {
  it.each([
    [5n, 2n, 3n], // 2.5 -> 3
    [-5n, 2n, -3n], // -2.5 -> -3
    [7n, 2n, 4n], // 3.5 -> 4 (banker's would give 4 too)
    [9n, 2n, 5n], // 4.5 -> 5 (banker's would give 4)
    [4n, 3n, 1n], // 1.33 -> 1
    [5n, 3n, 2n], // 1.67 -> 2
    [0n, 7n, 0n],
    [-4n, 3n, -1n],
    [10n ** 30n + 1n, 2n, 5n * 10n ** 29n + 1n], // far beyond a double, exact
  ])('%s / %s = %s', (n, d, q) => {
    expect(divideRounded(n, d)).toBe(q);
  });

  it('refuses a divisor that is not positive', () => {
    expect(() => divideRounded(1n, 0n)).toThrow(RangeError);
  });
});

describe('lineTax: per line, in minor units', () => {
  it.each([
    // amount, rate bp, prices include tax, tax
    [10000n, 1300, false, 1300n], // 100.00 at 13 %
    [1999n, 1300, false, 260n], // 259.87 -> 260
    [1150n, 1000, false, 115n], // exactly 115
    [25n, 1000, false, 3n], // 2.5 -> 3: the half goes away from zero
    [35n, 1000, false, 4n], // 3.5 -> 4
    [45n, 1000, false, 5n], // 4.5 -> 5 (not 4: not banker's)
    [11300n, 1300, true, 1300n], // 113.00 gross at 13 % holds 13.00
    [1000n, 1900, true, 160n], // 10.00 gross at 19 %: 1.5966 -> 1.60
    [2499n, 1900, true, 399n], // WooCommerce's documented 24.99 gross: 3.99 tax
    [1500n, 1000, false, 150n], // JPY 1500 at 10 %: 150 yen
    [12500n, 500, false, 625n], // KWD 12.500 at 5 %: 0.625
    [0n, 1300, false, 0n],
    [10000n, 0, false, 0n],
  ])('%s at %s bp (inclusive %s) -> %s', (amount, rate, inclusive, tax) => {
    expect(lineTax(amount, rate, inclusive)).toBe(tax);
  });
});

describe('withComputedTax', () => {
  it('taxes each line after its discount at its own rate, and keeps a tax the line already says', () => {
    const lines = [
      { sku: 'A', quantity: 3, unitPrice: 1999, discount: 500 }, // 54.97 at 13 % = 7.1461 -> 7.15
      { sku: 'B', quantity: 1, unitPrice: 1000 }, // 10.00 at 6 % = 0.60
      { sku: 'C', quantity: 2, unitPrice: 500, tax: 7 }, // said by the order: kept
      { sku: 'D', quantity: 1, unitPrice: 999 }, // no rate: no tax
    ];
    const rates: Record<string, number> = { A: 1300, B: 600 };
    const taxed = withComputedTax(lines, (l) => rates[l.sku] ?? 0, false);
    expect(taxed.map((l) => l.tax)).toEqual([715, 60, 7, 0]);
    // The input is not changed.
    expect(lines[0]).not.toHaveProperty('tax');
  });
});

describe('computeOrderMoney and orderTotal', () => {
  const cases: [string, MoneyLine[], OrderAmounts, { subtotal: bigint; tax: bigint; total: bigint }][] = [
    ['lines only', [{ quantity: 2, unitPrice: 1250 }], {}, { subtotal: 2500n, tax: 0n, total: 2500n }],
    [
      'line discount, shipping and line tax (exclusive)',
      [
        { quantity: 1, unitPrice: 19900, discount: 500, tax: 1164 },
        { quantity: 2, unitPrice: 1000, tax: 120 },
      ],
      { shipping: 1000 },
      { subtotal: 21400n, tax: 1284n, total: 23684n },
    ],
    [
      'the order says its tax (it includes shipping tax): that, not the sum of the lines',
      [{ quantity: 1, unitPrice: 10000, tax: 1300 }],
      { shipping: 1000, tax: 1430 },
      { subtotal: 10000n, tax: 1430n, total: 12430n },
    ],
    [
      'order-level discount',
      [{ quantity: 4, unitPrice: 2500 }],
      { discount: 1000, shipping: 500 },
      { subtotal: 10000n, tax: 0n, total: 9500n },
    ],
    [
      'prices include tax: the tax is inside the total, not added',
      [
        { quantity: 3, unitPrice: 1000, discount: 300, tax: 431 },
        { quantity: 1, unitPrice: 2499, discount: 250, tax: 359 },
      ],
      { tax: 790, pricesIncludeTax: true },
      { subtotal: 4949n, tax: 790n, total: 4949n },
    ],
  ];

  it.each(cases)('%s', (_name, lines, amounts, expected) => {
    const money = computeOrderMoney(lines, amounts);
    expect({ subtotal: money.subtotal, tax: money.tax, total: money.total }).toEqual(expected);
    expect(orderTotal(lines, amounts)).toBe(Number(expected.total));
  });

  it('sums past 2^53 exactly, and orderTotal refuses a total out of range instead of rounding it', () => {
    const lines = [
      { quantity: 1_000_000, unitPrice: LIMITS.maxMinor },
      { quantity: 1, unitPrice: 1 },
    ];
    expect(computeOrderMoney(lines).total).toBe(BigInt(LIMITS.maxMinor) * 1_000_000n + 1n);
    expect(() => orderTotal(lines)).toThrow(/more than/);
    // A total exactly at the bound is fine; shipping and tax count towards it.
    expect(orderTotal([{ quantity: 1, unitPrice: LIMITS.maxMinor - 2 }], { shipping: 1, tax: 1 })).toBe(
      LIMITS.maxMinor,
    );
    expect(() =>
      orderTotal([{ quantity: 1, unitPrice: LIMITS.maxMinor - 2 }], { shipping: 2, tax: 1 }),
    ).toThrow(/more than/);
  });

  it('refuses a negative total (discounts worth more than the order)', () => {
    expect(() => orderTotal([{ quantity: 1, unitPrice: 100 }], { discount: 101 })).toThrow(/negative/);
  });
});

describe('orderInputSchema: money fields', () => {
  const base = { externalId: 'M-1', currency: 'EUR', lines: [{ sku: 'A', quantity: 2, unitPrice: 1000 }] };

  it('takes per-line discount and tax and per-order shipping, discount, tax, channel total, pricesIncludeTax', () => {
    const parsed = orderInputSchema.parse({
      ...base,
      lines: [{ sku: 'A', quantity: 2, unitPrice: 1000, discount: 200, tax: 100 }],
      shipping: 500,
      discount: 100,
      tax: 100,
      channelTotal: 2300,
      pricesIncludeTax: false,
    });
    expect(parsed.lines[0]).toMatchObject({ discount: 200, tax: 100 });
    expect(parsed).toMatchObject({ shipping: 500, discount: 100, tax: 100, channelTotal: 2300 });
  });

  it.each([
    [
      'a line discount above the line',
      { lines: [{ sku: 'A', quantity: 2, unitPrice: 1000, discount: 2001 }] },
      'lines.0.discount',
    ],
    ['an order discount that makes the total negative', { discount: 2001 }, 'discount'],
    ['a fractional shipping amount', { shipping: 1.5 }, 'shipping'],
    ['a negative tax', { tax: -1 }, 'tax'],
    ['shipping that takes the total past the bound', { shipping: LIMITS.maxMinor }, 'lines'],
  ])('refuses %s', (_name, change, path) => {
    const result = orderInputSchema.safeParse({ ...base, ...change });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toContain(path);
  });
});
