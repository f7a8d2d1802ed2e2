import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { parseStatement } from '../../src/billing/payment-import.js';
import type { PostedInvoice } from '../../src/billing/posting.js';
import { orderShares } from '../../src/billing/settlement.js';
import {
  allocate,
  invoicePaymentStatus,
  oldestFirst,
  paymentRequestHash,
} from '../../src/domain/payments.js';

describe('allocate', () => {
  it.each([
    [1000, [500, 300], [500, 300], 200],
    [600, [500, 300], [500, 100], 0],
    [100, [0, 300], [100], 0],
    [0, [500], [], 0],
  ])('%i over %j', (amount, open, applied, remainder) => {
    const r = allocate(
      amount,
      open.map((o, i) => ({ id: i + 1, open: o })),
    );
    expect(r.allocations.map((a) => a.amount)).toEqual(applied);
    expect(r.remainder).toBe(remainder);
  });
});

describe('oldestFirst', () => {
  it('orders by due date, then issue date, then id', () => {
    const list = [
      { id: 3, dueDate: '2026-02-01', issueDate: '2026-01-01' },
      { id: 2, dueDate: '2026-01-01', issueDate: '2026-01-02' },
      { id: 1, dueDate: '2026-01-01', issueDate: '2026-01-02' },
      { id: 4, dueDate: '2026-01-01', issueDate: '2025-12-01' },
    ];
    expect(oldestFirst(list).map((i) => i.id)).toEqual([4, 1, 2, 3]);
  });
});

describe('invoicePaymentStatus', () => {
  const base = { total: 1000, paid: 0, credited: 0, dueDate: '2026-12-10' };
  it.each([
    [{}, '2026-12-01', 'open'],
    [{ paid: 100 }, '2026-12-01', 'partly_paid'],
    [{ credited: 100 }, '2026-12-01', 'partly_paid'],
    [{ paid: 600, credited: 400 }, '2026-12-20', 'paid'],
    [{ paid: 100 }, '2026-12-11', 'overdue'],
    [{}, '2026-12-10', 'open'],
  ])('%j on %s is %s', (change, today, status) => {
    expect(invoicePaymentStatus({ ...base, ...change }, today)).toBe(status);
  });
});

describe('paymentRequestHash', () => {
  const p = {
    customer: 'AB1',
    amount: 100,
    currency: 'EUR',
    receivedOn: '2026-12-01',
    reference: 'X',
    method: 'cash' as const,
  };
  it('ignores the case of the customer code and nothing else', () => {
    expect(paymentRequestHash({ ...p, customer: 'ab1' })).toBe(paymentRequestHash(p));
    expect(paymentRequestHash({ ...p, amount: 101 })).not.toBe(paymentRequestHash(p));
    expect(paymentRequestHash({ ...p, invoices: ['INV-2026-000001'] })).not.toBe(paymentRequestHash(p));
  });
});

describe('parseStatement', () => {
  it('reads English and Chinese headers in any order and refuses bad rows by number', () => {
    const rows = parseStatement(
      [
        '客户编码;金额;币种;日期;流水号',
        'C1;12.5;eur;2026/1/5;R1',
        'C1;1,234.00;EUR;2026-01-05;R2',
        ';1;EUR;2026-01-05;R3',
        '',
        'C1;1;JPY;20260105;R4',
      ].join('\n'),
    );
    expect(rows).toEqual([
      {
        row: 2,
        input: {
          customer: 'C1',
          amount: 1250,
          currency: 'EUR',
          receivedOn: '2026-01-05',
          reference: 'R1',
          method: 'bank_transfer',
        },
      },
      { row: 3, refused: expect.objectContaining({ row: 3, code: 'invalid_amount' }) },
      { row: 4, refused: expect.objectContaining({ row: 4, code: 'missing_customer' }) },
      expect.objectContaining({ row: 6, input: expect.objectContaining({ amount: 1, currency: 'JPY' }) }),
    ]);
  });

  it('refuses a file without the required columns', () => {
    expect(() => parseStatement('date,amount\n2026-01-01,1\n')).toThrow(/currency, reference, customer/);
  });

  it('reads GB18030 text once decoded', () => {
    const text = iconv.decode(
      iconv.encode(
        '日期,金额,币种,流水号,客户,方式,摘要\n2026-01-01,1.00,CNY,甲-1,C2,支票,货款\n',
        'gb18030',
      ),
      'gb18030',
    );
    expect(parseStatement(text)[0]).toMatchObject({
      input: { reference: '甲-1', method: 'cheque', note: '货款' },
    });
  });
});

describe('orderShares', () => {
  const posted = (
    lines: { orderId: number | null; amount: number }[],
    total: number,
    orderId: number | null,
  ) =>
    ({
      id: 1,
      number: 'INV-2026-000001',
      draft: { orderId, currency: 'EUR', totals: { total }, lines },
    }) as unknown as PostedInvoice;
  it('gives one order the whole total, and shares a periodic invoice by line amounts adding up exactly', () => {
    expect(orderShares(posted([{ orderId: 5, amount: 900 }], 1000, 5))).toEqual([
      { orderId: 5, amount: 1000, currency: 'EUR' },
    ]);
    const shares = orderShares(
      posted(
        [
          { orderId: 7, amount: 100 },
          { orderId: 6, amount: 100 },
          { orderId: 7, amount: 100 },
        ],
        1001,
        null,
      ),
    );
    expect(shares).toEqual([
      { orderId: 6, amount: 334, currency: 'EUR' },
      { orderId: 7, amount: 667, currency: 'EUR' },
    ]);
    expect(orderShares(posted([], 0, null))).toEqual([]);
  });
});
