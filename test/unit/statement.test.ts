import { describe, expect, it } from 'vitest';
import {
  ageingBucket,
  canMove,
  datePeriod,
  monthPeriod,
  STATEMENT_STATES,
  signedAmount,
} from '../../src/domain/statement.js';

describe('statement periods', () => {
  it('a month runs from its first to its last day', () => {
    expect(monthPeriod('2026-11')).toEqual({ from: '2026-11-01', to: '2026-11-30', key: '2026-11' });
    expect(monthPeriod('2028-02')).toEqual({ from: '2028-02-01', to: '2028-02-29', key: '2028-02' });
    expect(monthPeriod('2026-12').to).toBe('2026-12-31');
  });

  it('two dates make a month key when they cover a whole month, else from_to', () => {
    expect(datePeriod('2026-11-01', '2026-11-30')).toEqual({
      from: '2026-11-01',
      to: '2026-11-30',
      key: '2026-11',
    });
    expect(datePeriod('2026-11-02', '2026-11-30')).toMatchObject({ key: '2026-11-02_2026-11-30' });
    expect(datePeriod('2026-11-01', '2026-12-31')).toMatchObject({ key: '2026-11-01_2026-12-31' });
    expect(datePeriod('2026-11-05', '2026-11-05')).toMatchObject({ key: '2026-11-05_2026-11-05' });
  });

  it('refuses what is not a period', () => {
    expect(datePeriod('2026-11-31', '2026-12-01')).toBe('from is not a date YYYY-MM-DD');
    expect(datePeriod('2026-11-01', '2026-13-01')).toBe('to is not a date YYYY-MM-DD');
    expect(datePeriod('2026-11-02', '2026-11-01')).toBe('to is before from');
    expect(datePeriod('2000-01-01', '2026-01-01')).toBe('a statement covers at most ten years');
  });
});

describe('statement states', () => {
  it('go issued → sent → confirmed | disputed, and no other way', () => {
    const allowed = STATEMENT_STATES.flatMap((from) =>
      STATEMENT_STATES.filter((to) => canMove(from, to)).map((to) => `${from}>${to}`),
    );
    expect(allowed).toEqual(['issued>sent', 'sent>confirmed', 'sent>disputed']);
  });
});

describe('statement lines and ageing', () => {
  it('invoices raise the balance, credit notes and payments lower it, shipments leave it', () => {
    expect(signedAmount('invoice', 500)).toBe(500);
    expect(signedAmount('credit_note', 500)).toBe(-500);
    expect(signedAmount('payment', 500)).toBe(-500);
    expect(signedAmount('shipment', 500)).toBe(0);
  });

  it.each([
    ['2026-12-10', 'current'],
    ['2026-11-30', 'current'],
    ['2026-11-29', 'd1_30'],
    ['2026-10-31', 'd1_30'],
    ['2026-10-30', 'd31_60'],
    ['2026-10-01', 'd31_60'],
    ['2026-09-30', 'd61_90'],
    ['2026-09-01', 'd61_90'],
    ['2026-08-31', 'over90'],
  ])('an invoice due %s is %s at 2026-11-30', (due, bucket) => {
    expect(ageingBucket(due, '2026-11-30')).toBe(bucket);
  });
});
