import { describe, expect, it } from 'vitest';
import { allowanceLines, allowanceOf, splitAllowance } from '../../src/domain/allowance.js';
import { invoiceTotals } from '../../src/domain/invoice.js';

const std = (amount: number, tax: number) => ({ taxClass: 'standard', taxCode: '1090511', amount, tax });
const red = (amount: number, tax: number) => ({ taxClass: 'reduced', taxCode: '1010101', amount, tax });

describe('allowances (销售折让)', () => {
  it('what a refund paid back beyond its lines, never below zero', () => {
    expect(allowanceOf({ amount: 3000, linesAmount: 0 })).toBe(3000);
    expect(allowanceOf({ amount: 3000, linesAmount: 2500 })).toBe(500);
    expect(allowanceOf({ amount: 2000, linesAmount: 2500 })).toBe(0);
  });

  it('split over the rates by their net, each part with its rate’s tax, the cent of rounding to the largest', () => {
    // 100.00 at 13 % and 50.00 at 9 % (two lines of the standard rate): 30.00 back.
    const parts = splitAllowance(3000, [std(6000, 780), std(4000, 520), red(5000, 450)], false);
    expect(parts).toEqual([
      { taxClass: 'standard', taxCode: '1090511', net: 1791, tax: 233, gross: 2024 },
      { taxClass: 'reduced', taxCode: '1010101', net: 895, tax: 81, gross: 976 },
    ]);
    // Net in the rates' proportion (2 : 1, to the cent).
    expect(Math.abs(parts[0]!.net - 2 * parts[1]!.net)).toBeLessThanOrEqual(2);
  });

  it('adds up to the amount exactly, whatever the figures', () => {
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let k = 0; k < 500; k++) {
      const lines = Array.from({ length: 1 + next(4) }, (_, i) => {
        const amount = 1 + next(100_000);
        const rate = [0, 600, 900, 1300][next(4)]!;
        return { taxClass: `c${i % 3}`, taxCode: null, amount, tax: Math.round((amount * rate) / 10_000) };
      });
      const gross = 1 + next(50_000);
      const inclusive = next(2) === 1;
      const parts = splitAllowance(gross, lines, inclusive);
      expect(parts.reduce((s, p) => s + p.gross, 0)).toBe(gross);
      for (const p of parts) {
        expect(p.net + p.tax).toBe(p.gross);
        expect(p.tax).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it('prices with tax inside: the lines carry the gross, and the totals are the amount', () => {
    const parts = splitAllowance(1130, [std(11300, 1300)], true);
    expect(parts).toEqual([{ taxClass: 'standard', taxCode: '1090511', net: 1000, tax: 130, gross: 1130 }]);
    const lines = allowanceLines(parts, true, 1, { orderId: 1, description: 'x' });
    expect(lines[0]).toMatchObject({ quantity: 0, unitPrice: 0, amount: 1130, tax: 130 });
    expect(invoiceTotals(lines, { shipping: 0, discount: 0, orderTax: 0 }, true).total).toBe(1130);
  });

  it('credit note lines are positive, discount lines of an invoice negative; both total the allowance', () => {
    const parts = splitAllowance(3000, [std(10000, 1300), red(5000, 450)], false);
    const credit = allowanceLines(parts, false, 1, { orderId: 1, description: 'x' });
    const discount = allowanceLines(parts, false, -1, { orderId: 1, description: 'x' });
    const none = { shipping: 0, discount: 0, orderTax: 0 };
    expect(invoiceTotals(credit, none, false)).toMatchObject({ subtotal: 2686, tax: 314, total: 3000 });
    expect(invoiceTotals(discount, none, false)).toMatchObject({ subtotal: -2686, tax: -314, total: -3000 });
  });

  it('an invoice without a taxed, positive line gives one untaxed part; nothing gives nothing', () => {
    expect(splitAllowance(500, [], false)).toEqual([
      { taxClass: null, taxCode: null, net: 500, tax: 0, gross: 500 },
    ]);
    expect(splitAllowance(0, [std(100, 13)], false)).toEqual([]);
  });
});
