import { describe, expect, it } from 'vitest';
import {
  addDays,
  billLine,
  type CreditableLine,
  creditLines,
  formatInvoiceNumber,
  invoiceTotals,
  isLastDayOfMonth,
  monthBounds,
  parseInvoiceNumber,
  shareOf,
  startOfDayUtc,
} from '../../src/domain/invoice.js';

describe('invoice numbers', () => {
  it('are series, year and a six-digit number at least', () => {
    expect(formatInvoiceNumber('INV', 2026, 123)).toBe('INV-2026-000123');
    expect(formatInvoiceNumber('CN', 2026, 1_234_567)).toBe('CN-2026-1234567');
    expect(parseInvoiceNumber('INV-2026-000123')).toEqual({ series: 'INV', year: 2026, seq: 123 });
    expect(parseInvoiceNumber('INV-26-1')).toBeNull();
  });
});

describe('shareOf: cumulative rounding', () => {
  it('gives parts that add up to the whole, however it is split', () => {
    for (const split of [[1, 1, 1], [2, 1], [1, 2], [3]]) {
      let before = 0;
      let sum = 0;
      for (const part of split) {
        sum += shareOf(100, before, part, 3);
        before += part;
      }
      expect(sum).toBe(100);
    }
    expect(shareOf(100, 0, 1, 3)).toBe(33);
    expect(shareOf(100, 1, 1, 3)).toBe(34); // round(66.67) - 33
    expect(shareOf(5, 0, 0, 3)).toBe(0);
  });
});

describe('billing and crediting a line', () => {
  const line = {
    orderLineId: 7,
    sku: 'A1',
    description: 'Widget',
    ordered: 3,
    unitPrice: 1000,
    discount: 100,
    tax: 170,
    taxClass: 'standard',
    taxCode: '1090511990000000000',
    invoicedBefore: 0,
  };

  it('bills part of a line with its share of the discount and tax', () => {
    const first = billLine(line, 1, { orderId: 1, shipmentId: 9 });
    expect(first).toMatchObject({ quantity: 1, discount: 33, tax: 57, amount: 967, shipmentId: 9 });
    const rest = billLine({ ...line, invoicedBefore: 1 }, 2, { orderId: 1, shipmentId: 10 });
    expect(first.discount + rest.discount).toBe(100);
    expect(first.tax + rest.tax).toBe(170);
  });

  it('totals an invoice by the order money rule, shipping once', () => {
    const l = billLine(line, 3, { orderId: 1, shipmentId: null });
    expect(invoiceTotals([l], { shipping: 500, discount: 200, orderTax: 30 }, false)).toEqual({
      subtotal: 2900,
      discount: 200,
      shipping: 500,
      shippingTax: 30,
      tax: 200,
      total: 2900 - 200 + 500 + 200,
    });
    // Prices with tax inside: the total does not add it again.
    expect(invoiceTotals([l], { shipping: 0, discount: 0, orderTax: 0 }, true).total).toBe(2900);
  });

  const invoiced: CreditableLine[] = [
    {
      id: 1,
      orderId: 1,
      orderLineId: 7,
      sku: 'A1',
      description: 'W',
      quantity: 3,
      unitPrice: 1000,
      discount: 100,
      tax: 170,
      taxClass: null,
      taxCode: null,
      creditedQuantity: 0,
    },
    {
      id: 2,
      orderId: 1,
      orderLineId: 8,
      sku: 'B2',
      description: 'X',
      quantity: 1,
      unitPrice: 500,
      discount: 0,
      tax: 30,
      taxClass: null,
      taxCode: null,
      creditedQuantity: 0,
    },
  ];

  it('credits the units asked for, and then exactly what is left', () => {
    const part = creditLines(invoiced, new Map([['a1', 2]]));
    expect(Array.isArray(part) && part.map((l) => [l.creditsLineId, l.quantity, l.tax])).toEqual([
      [1, 2, 113],
    ]);
    const rest = creditLines([{ ...invoiced[0]!, creditedQuantity: 2 }, invoiced[1]!]);
    expect(Array.isArray(rest) && rest.map((l) => [l.creditsLineId, l.quantity, l.tax])).toEqual([
      [1, 1, 57],
      [2, 1, 30],
    ]);
  });

  it('refuses a SKU not on the invoice and more than is left', () => {
    expect(creditLines(invoiced, new Map([['ZZ', 1]]))).toMatchObject({
      problem: expect.stringContaining('ZZ'),
    });
    expect(creditLines(invoiced, new Map([['B2', 2]]))).toMatchObject({
      details: { creditable: 1, requested: 2 },
    });
  });
});

describe('business dates', () => {
  it('adds days and knows month ends', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-02-28', 30)).toBe('2026-03-30');
    expect(isLastDayOfMonth('2028-02-29')).toBe(true);
    expect(isLastDayOfMonth('2026-11-29')).toBe(false);
    expect(monthBounds('2026-12-31')).toEqual({ first: '2026-12-01', next: '2027-01-01' });
  });

  it('finds the UTC instant a date begins in a time zone', () => {
    expect(startOfDayUtc('2026-12-01', 'UTC')).toBe('2026-12-01 00:00:00.000');
    expect(startOfDayUtc('2026-12-01', 'Asia/Shanghai')).toBe('2026-11-30 16:00:00.000');
    expect(startOfDayUtc('2026-07-01', 'America/New_York')).toBe('2026-07-01 04:00:00.000');
    // The day a clock goes forward at 02:00 still begins at midnight local time.
    expect(startOfDayUtc('2026-03-29', 'Europe/Berlin')).toBe('2026-03-28 23:00:00.000');
  });
});
