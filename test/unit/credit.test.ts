import { describe, expect, it } from 'vitest';
import {
  applyBooking,
  type CreditCustomer,
  type CreditOrder,
  type CreditSalesperson,
  convert,
  creditExemption,
  decideCredit,
  type ExchangeRate,
  formatRate,
  minorDigits,
  pairKey,
  parseRate,
  shippedShare,
} from '../../src/domain/credit.js';

const rates = (...list: [string, string, string, string][]) =>
  new Map<string, ExchangeRate>(
    list.map(([from, to, rate, validOn]) => [
      pairKey(from, to),
      { from, to, validOn, rateScaled: parseRate(rate)! },
    ]),
  );

const customer = (over: Partial<CreditCustomer> = {}): CreditCustomer => ({
  id: 1,
  code: 'ACME',
  group: 'default',
  creditLimit: { amount: 1000, currency: 'EUR' },
  onHold: false,
  onHoldReason: null,
  counter: { currency: 'EUR', openOrders: 0, invoicedUnpaid: 0 },
  ...over,
});

const order = (over: Partial<CreditOrder> = {}): CreditOrder => ({
  id: 10,
  total: 100,
  currency: 'EUR',
  paidOnChannel: false,
  booked: 0,
  approvedUpTo: null,
  ...over,
});

const salesperson = (over: Partial<CreditSalesperson> = {}): CreditSalesperson => ({
  id: 7,
  code: 'SP-1',
  creditLimit: { amount: 500, currency: 'EUR' },
  counter: { currency: 'EUR', openOrders: 0, invoicedUnpaid: 0 },
  ...over,
});

const NONE = new Map<string, ExchangeRate>();

describe('exchange rates as exact decimals', () => {
  it('parses and formats rates scaled by 10^8 without floats', () => {
    expect(parseRate('7.8123')).toBe(781_230_000n);
    expect(parseRate('0.00000001')).toBe(1n);
    expect(parseRate('1')).toBe(100_000_000n);
    expect(formatRate(781_230_000n)).toBe('7.8123');
    expect(formatRate(100_000_000n)).toBe('1');
    for (const bad of ['0', '0.0', '-1', '1.123456789', '1e3', '', ' 1', '1.', '.5', 'abc'])
      expect(parseRate(bad)).toBeNull();
  });

  it('knows minor units per currency', () => {
    expect(minorDigits('EUR')).toBe(2);
    expect(minorDigits('JPY')).toBe(0);
    expect(minorDigits('KWD')).toBe(3);
  });

  it('converts with one rounding, half away from zero, across minor units', () => {
    const r = rates(['USD', 'CNY', '7.1234', '2026-12-01'], ['EUR', 'JPY', '162.5', '2026-12-01']);
    // 10.00 USD × 7.1234 = 71.234 CNY → 71.23
    expect(convert(1000, 'USD', 'CNY', r)).toEqual({
      amount: 7123,
      rateScaled: 712_340_000n,
      rateDate: '2026-12-01',
    });
    // 0.01 EUR × 162.5 = 1.625 JPY → 2
    expect(convert(1, 'EUR', 'JPY', r)?.amount).toBe(2);
    expect(convert(-1, 'EUR', 'JPY', r)?.amount).toBe(-2);
    // The inverse of the opposite pair: 7123 CNY minor / 7.1234 = 999.94 USD minor → 1000
    expect(convert(7123, 'CNY', 'USD', r)?.amount).toBe(1000);
    // 163 JPY / 162.5 = 1.0030… EUR → 1.00 EUR = 100 minor
    expect(convert(163, 'JPY', 'EUR', r)?.amount).toBe(100);
    expect(convert(5, 'EUR', 'EUR', NONE)).toEqual({ amount: 5, rateScaled: null, rateDate: null });
    expect(convert(5, 'EUR', 'GBP', r)).toBeNull();
  });
});

describe('creditExemption', () => {
  it('exempts orders without a customer, of retail customers, and paid on the channel', () => {
    expect(creditExemption({ customerId: null, paidOnChannel: false }, null)).toBe('no_customer');
    expect(creditExemption({ customerId: 3, paidOnChannel: false }, 'retail')).toBe('retail');
    expect(creditExemption({ customerId: 3, paidOnChannel: false }, 'RETAIL')).toBe('retail');
    expect(creditExemption({ customerId: 3, paidOnChannel: true }, 'default')).toBe('paid_on_channel');
    expect(creditExemption({ customerId: 3, paidOnChannel: false }, 'default')).toBeNull();
  });
});

describe('decideCredit', () => {
  it('books the order when it fits, and holds it credit_limit with the figures when it does not', () => {
    const c = customer({ counter: { currency: 'EUR', openOrders: 900, invoicedUnpaid: 0 } });
    const fits = decideCredit(order({ total: 100 }), c, null, NONE, '2026-12-01');
    expect(fits.problems).toEqual([]);
    expect(fits.booking).toMatchObject({ customerId: 1, amount: 100, currency: 'EUR', spAmount: null });
    expect(fits.info.customer?.available).toEqual({ amount: 100, currency: 'EUR' });

    const over = decideCredit(order({ total: 101 }), c, null, NONE, '2026-12-01');
    expect(over.booking).toBeUndefined();
    expect(over.problems).toEqual([
      expect.objectContaining({
        code: 'credit_limit',
        figures: expect.objectContaining({
          creditLimit: 1000,
          exposure: 900,
          openOrders: 900,
          invoicedUnpaid: 0,
          orderAmount: 101,
          exposureAfter: 1001,
          available: 100,
        }),
      }),
    ]);
  });

  it('counts unpaid invoices in the exposure', () => {
    const c = customer({ counter: { currency: 'EUR', openOrders: 400, invoicedUnpaid: 550 } });
    expect(decideCredit(order({ total: 51 }), c, null, NONE, 'd').problems[0]?.code).toBe('credit_limit');
    expect(decideCredit(order({ total: 50 }), c, null, NONE, 'd').problems).toEqual([]);
  });

  it('in a group, each order sees what the earlier ones took: 20 × 100 against 1000 pass 10', () => {
    const c = customer();
    let passed = 0;
    for (let i = 0; i < 20; i++) {
      const d = decideCredit(order({ id: i }), c, null, NONE, 'd');
      if (d.booking) {
        applyBooking(d.booking, c, null);
        passed++;
      } else expect(d.problems[0]?.code).toBe('credit_limit');
    }
    expect(passed).toBe(10);
    expect(c.counter.openOrders).toBe(1000);
  });

  it('an approval covers up to its amount in the order currency; more is checked again', () => {
    const c = customer({ counter: { currency: 'EUR', openOrders: 1000, invoicedUnpaid: 0 } });
    const approved = decideCredit(
      order({ total: 300, approvedUpTo: { amount: 300, currency: 'EUR' } }),
      c,
      null,
      NONE,
      'd',
    );
    expect(approved.problems).toEqual([]);
    expect(approved.booking?.amount).toBe(300);
    expect(approved.info.approved).toBe(true);
    const more = decideCredit(
      order({ total: 301, approvedUpTo: { amount: 300, currency: 'EUR' } }),
      c,
      null,
      NONE,
      'd',
    );
    expect(more.problems[0]?.code).toBe('credit_limit');
  });

  it('books only the difference to what the order booked; a smaller value gives back', () => {
    const c = customer({ counter: { currency: 'EUR', openOrders: 1000, invoicedUnpaid: 0 } });
    const grown = decideCredit(order({ total: 600, booked: 500 }), c, null, NONE, 'd');
    expect(grown.problems[0]?.code).toBe('credit_limit');
    expect(grown.problems[0]?.figures.orderAmount).toBe(600);
    const shrunk = decideCredit(order({ total: 400, booked: 500 }), c, null, NONE, 'd');
    expect(shrunk.problems).toEqual([]);
    expect(shrunk.booking?.amount).toBe(-100);
  });

  it('a customer without a limit is booked and never held for credit', () => {
    const c = customer({
      creditLimit: null,
      counter: { currency: 'EUR', openOrders: 10 ** 12, invoicedUnpaid: 0 },
    });
    const d = decideCredit(order({ total: 10 ** 9 }), c, null, NONE, 'd');
    expect(d.problems).toEqual([]);
    expect(d.booking?.amount).toBe(10 ** 9);
  });

  it('holds customer_on_hold whatever the figures, even when approved', () => {
    const c = customer({ onHold: true, onHoldReason: 'overdue invoices' });
    const d = decideCredit(order({ approvedUpTo: { amount: 100, currency: 'EUR' } }), c, null, NONE, 'd');
    expect(d.problems.map((p) => p.code)).toEqual(['customer_on_hold']);
    expect(d.problems[0]?.message).toContain('overdue invoices');
  });

  it("holds salesperson_credit_limit over the salesperson's limit, in the salesperson's currency", () => {
    const sp = salesperson({
      creditLimit: { amount: 50_000, currency: 'CNY' },
      counter: { currency: 'CNY', openOrders: 49_000, invoicedUnpaid: 0 },
    });
    const r = rates(['EUR', 'CNY', '7.5', '2026-12-01']);
    // 100.00 EUR = 750.00 CNY... here 100 minor EUR = 750 minor CNY: 49_000 + 750 fits.
    const fits = decideCredit(order({ total: 100 }), customer(), sp, r, '2026-12-01');
    expect(fits.problems).toEqual([]);
    expect(fits.booking).toMatchObject({ amount: 100, currency: 'EUR', spAmount: 750, spCurrency: 'CNY' });
    const over = decideCredit(order({ total: 200 }), customer(), sp, r, '2026-12-01');
    expect(over.problems.map((p) => p.code)).toEqual(['salesperson_credit_limit']);
    expect(over.problems[0]?.figures).toMatchObject({
      creditLimit: 50_000,
      exposure: 49_000,
      exposureAfter: 50_500,
    });
  });

  it('converts an order in another currency at the day rate; without a rate it is held, never counted at zero', () => {
    const c = customer({
      creditLimit: { amount: 100_000, currency: 'CNY' },
      counter: { currency: 'CNY', openOrders: 0, invoicedUnpaid: 0 },
    });
    const r = rates(['USD', 'CNY', '7.2', '2026-11-30']);
    const usd = decideCredit(order({ total: 1000, currency: 'USD' }), c, null, r, '2026-12-01');
    expect(usd.booking).toMatchObject({
      amount: 7200,
      currency: 'CNY',
      sourceAmount: 1000,
      sourceCurrency: 'USD',
      rateScaled: 720_000_000n,
      rateDate: '2026-11-30',
    });
    const gbp = decideCredit(order({ total: 1000, currency: 'GBP' }), c, null, r, '2026-12-01');
    expect(gbp.booking).toBeUndefined();
    expect(gbp.problems).toEqual([
      expect.objectContaining({
        code: 'no_exchange_rate',
        figures: { from: 'GBP', to: 'CNY', date: '2026-12-01' },
      }),
    ]);
  });
});

describe('decideCredit without any limit', () => {
  it('passes an order it cannot convert when no limit applies, booking nothing', () => {
    const c = customer({ creditLimit: null });
    const d = decideCredit(order({ currency: 'GBP' }), c, salesperson({ creditLimit: null }), NONE, 'd');
    expect(d.problems).toEqual([]);
    expect(d.booking).toBeUndefined();
    expect(d.info.uncounted).toBe(true);
    // With the salesperson's limit it is held: the salesperson's exposure must count it.
    const held = decideCredit(order({ currency: 'GBP' }), c, salesperson(), NONE, 'd');
    expect(held.problems.map((p) => p.code)).toEqual(['no_exchange_rate']);
  });
});

describe('shippedShare', () => {
  const line = (ordered: number, shipped: number, unitPrice = 100, discountAmount = 0) => ({
    ordered,
    shipped,
    unitPrice,
    discountAmount,
  });
  it('keeps nothing when nothing shipped, all when everything shipped, the shipped share otherwise', () => {
    expect(shippedShare(1000, [line(10, 0)])).toBe(0);
    expect(shippedShare(1000, [line(10, 10)])).toBe(1000);
    expect(shippedShare(1000, [line(10, 3)])).toBe(300);
    // Two lines of different value: 2 of 4 × 100 shipped of 4×100 + 2×300 = 200 / 1000.
    expect(shippedShare(1100, [line(4, 2, 100), line(2, 0, 300)])).toBe(220);
  });
});
