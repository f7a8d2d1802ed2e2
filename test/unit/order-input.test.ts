import { describe, expect, it } from 'vitest';
import {
  holdReason,
  orderFingerprint,
  orderInputSchema,
  orderTotal,
  validateForReservation,
} from '../../src/domain/order-input.js';
import { computeOrderMoney } from '../../src/domain/order-money.js';

describe('orderInputSchema', () => {
  it('accepts a well-formed order', () => {
    const r = orderInputSchema.safeParse({
      externalId: 'A-1',
      currency: 'EUR',
      lines: [{ sku: 'X', quantity: 2, unitPrice: 1999 }],
    });
    expect(r.success).toBe(true);
  });

  it('reports every bad field at once', () => {
    const r = orderInputSchema.safeParse({
      externalId: ' ',
      currency: 'eur',
      lines: [
        { sku: '', quantity: 1.5, unitPrice: -1 },
        { sku: 'Y', quantity: 0, unitPrice: 0.5 },
      ],
    });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(
      expect.arrayContaining([
        'externalId',
        'currency',
        'lines.0.sku',
        'lines.0.quantity',
        'lines.0.unitPrice',
        'lines.1.quantity',
        'lines.1.unitPrice',
      ]),
    );
  });

  it('refuses an order without lines', () => {
    expect(orderInputSchema.safeParse({ externalId: 'A', currency: 'EUR', lines: [] }).success).toBe(false);
  });
});

describe('validateForReservation', () => {
  it('finds unknown SKUs and bad quantities, line by line', () => {
    const problems = validateForReservation(
      [
        { lineNo: 1, sku: 'KNOWN', ordered: 1 },
        { lineNo: 2, sku: 'GHOST', ordered: 1 },
        { lineNo: 3, sku: 'KNOWN', ordered: 0 },
      ],
      new Set(['KNOWN']),
    );
    expect(problems).toEqual([
      expect.objectContaining({ code: 'unknown_sku', lineNo: 2, sku: 'GHOST' }),
      expect.objectContaining({ code: 'invalid_quantity', lineNo: 3 }),
    ]);
    expect(holdReason(problems)).toBe('unknown_sku');
  });

  it('holds an order without lines rather than letting it complete empty', () => {
    expect(validateForReservation([], new Set(['A']))).toEqual([
      expect.objectContaining({ code: 'no_lines' }),
    ]);
  });

  it('finds nothing wrong with a good order', () => {
    expect(validateForReservation([{ lineNo: 1, sku: 'A', ordered: 3 }], new Set(['A']))).toEqual([]);
  });
});

describe('orderTotal', () => {
  it('adds quantity times unit price in minor units', () => {
    expect(
      orderTotal([
        { quantity: 3, unitPrice: 1999 },
        { quantity: 1, unitPrice: 1 },
      ]),
    ).toBe(5998);
  });
});

describe('orderInputSchema limits', () => {
  const order = (extra: Record<string, unknown> = {}) => ({
    externalId: 'o-1',
    currency: 'EUR',
    lines: [{ sku: 'A1', quantity: 1, unitPrice: 100 }],
    ...extra,
  });

  it('refuses NUL characters in its strings, naming each field', () => {
    const r = orderInputSchema.safeParse(
      order({ externalId: 'o\u00001', customer: { code: 'c\u0000', name: 'n\u0000' } }),
    );
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.')).sort()).toEqual([
      'customer.code',
      'customer.name',
      'externalId',
    ]);
  });

  it('takes a total of exactly 2^53 - 1 and refuses one more, computing it without rounding', () => {
    const max = Number.MAX_SAFE_INTEGER;
    expect(
      orderInputSchema.safeParse(order({ lines: [{ sku: 'A', quantity: 1, unitPrice: max }] })).success,
    ).toBe(true);
    const over = orderInputSchema.safeParse(
      order({
        lines: [
          { sku: 'A', quantity: 1, unitPrice: max },
          { sku: 'B', quantity: 1, unitPrice: 1 },
        ],
      }),
    );
    expect(over.success).toBe(false);
    expect(computeOrderMoney([{ quantity: 1_000_000, unitPrice: max }]).total).toBe(
      9_007_199_254_740_991_000_000n,
    );
    expect(() => orderTotal([{ quantity: 2, unitPrice: max }])).toThrow(/more than/);
    expect(
      orderTotal([
        { quantity: 1, unitPrice: max - 1 },
        { quantity: 1, unitPrice: 1 },
      ]),
    ).toBe(max);
  });

  it('fingerprints an order by its values, not by key order or padding', () => {
    const a = orderInputSchema.parse(order({ customer: { code: 'C1' } }));
    const b = orderInputSchema.parse({
      lines: [{ unitPrice: 100, quantity: 1, sku: ' A1 ' }],
      customer: { code: 'C1 ' },
      currency: 'EUR',
      externalId: 'o-1',
    });
    expect(orderFingerprint(a)).toBe(orderFingerprint(b));
    expect(orderFingerprint(a)).not.toBe(
      orderFingerprint(
        orderInputSchema.parse(order({ lines: [{ sku: 'A1', quantity: 2, unitPrice: 100 }] })),
      ),
    );
  });
});
