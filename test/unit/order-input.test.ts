import { describe, expect, it } from 'vitest';
import {
  holdReason,
  orderInputSchema,
  orderTotal,
  validateForReservation,
} from '../../src/domain/order-input.js';

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
