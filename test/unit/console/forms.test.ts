import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatMoney } from '../../../src/console/components.js';
import { coerceToSchema, fieldPath, parseFormValues, valueAt } from '../../../src/console/forms.js';

const order = z.object({
  customer: z.string().min(1),
  note: z.string().optional(),
  dueDays: z.number().int().positive().nullable().optional(),
  urgent: z.boolean(),
  lines: z
    .array(
      z.object({
        sku: z.string().min(1),
        quantity: z.number().int().positive(),
        price: z.number().int().optional(),
      }),
    )
    .min(1),
  tags: z.array(z.string()).optional(),
});

describe('console forms', () => {
  it('reads bracketed and dotted names as paths', () => {
    expect(fieldPath('lines[0][sku]')).toEqual(['lines', '0', 'sku']);
    expect(fieldPath('lines.1.quantity')).toEqual(['lines', '1', 'quantity']);
  });

  it('turns a form into the shape the API schema takes, dropping blank rows', () => {
    const values = {
      customer: 'C-1',
      note: '',
      dueDays: '',
      urgent: ['false', 'true'],
      lines: {
        1: { sku: 'B', quantity: '2', price: '' },
        0: { sku: 'A', quantity: ' 3 ', price: '150' },
        2: { sku: '', quantity: '' },
      },
      tags: 'x, y\nz',
    };
    const r = parseFormValues(order, values as never);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.data).toEqual({
      customer: 'C-1',
      dueDays: null,
      urgent: true,
      lines: [
        { sku: 'A', quantity: 3, price: 150 },
        { sku: 'B', quantity: 2 },
      ],
      tags: ['x', 'y', 'z'],
    });
  });

  it('keys every problem by its field, and keeps what was typed', () => {
    const values = { customer: '', urgent: 'false', lines: { 0: { sku: 'A', quantity: 'three' } } };
    const r = parseFormValues(order, values as never);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(Object.keys(r.errors).sort()).toEqual(['customer', 'lines.0.quantity']);
    expect(valueAt(r.values, 'lines.0.quantity')).toBe('three');
  });

  it('leaves an unticked required boolean false and a missing list empty', () => {
    expect(coerceToSchema(z.object({ on: z.boolean() }), {})).toEqual({ on: false });
    expect(
      coerceToSchema(z.object({ xs: z.array(z.object({ a: z.string() })) }), { xs: { 0: { a: '' } } }),
    ).toEqual({
      xs: [],
    });
  });

  it('formats minor units in the currency’s digits', () => {
    expect(formatMoney(123456, 'CNY')).toBe('1,234.56 CNY');
    expect(formatMoney(-5, 'USD')).toBe('-0.05 USD');
    expect(formatMoney(1500, 'JPY')).toBe('1,500 JPY');
  });
});
