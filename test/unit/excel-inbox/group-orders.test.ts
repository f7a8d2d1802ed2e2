import { beforeEach, describe, expect, it } from 'vitest';
import { checkRow, type RawRow } from '../../../connectors/excel-inbox/check-row.js';
import { groupOrders, MAX_LINES_PER_ORDER } from '../../../connectors/excel-inbox/group-orders.js';

/** Sheet row of the next `row(...)`: 2, 3, ... in each test. */
let nextRow = 2;
function row(orderNo: string, customerCode: string, sku = 'A-1', quantity = '1', more: Partial<RawRow> = {}) {
  return checkRow(
    { row: nextRow++, orderNo, customerCode, sku, quantity, unitPrice: '', currency: '', ...more },
    'EUR',
  );
}

const group = (...rows: ReturnType<typeof row>[]) => groupOrders(rows);

const statusOf = (g: ReturnType<typeof group>) => g.rows.map((r) => [r.row, r.status, r.reason ?? null]);

describe('groupOrders', () => {
  beforeEach(() => {
    nextRow = 2;
  });

  it('groups by customer and order number in order of first appearance, one line per row', () => {
    const g = group(row('2', 'B'), row('1', 'A'), row('2', 'B', 'X'), row('1', 'B'), row('2', 'B', 'A-1'));
    expect(g.orders.map((o) => [o.externalId, o.rows, o.lines.map((l) => l.sku)])).toEqual([
      ['B:2', [2, 4, 6], ['A-1', 'X', 'A-1']],
      ['A:1', [3], ['A-1']],
      ['B:1', [5], ['A-1']],
    ]);
    expect(g.rows.every((r) => r.status === 'pending')).toBe(true);
    expect(g.rejectedOrders).toEqual([]);
  });

  it('rejects every row of an order with one invalid row, and only that order', () => {
    const g = group(row('1', 'A'), row('1', 'A', 'A-2', 'abc'), row('2', 'A'), row('1', 'A', '', '2.5'));
    expect(statusOf(g)).toEqual([
      [2, 'rejected', 'another row of order 1 is invalid (rows 3, 5) / 订单 1 的其他行有误（第 3、5 行）'],
      [3, 'rejected', 'quantity "abc" is not a number / 数量“abc”不是数字'],
      [4, 'pending', null],
      [5, 'rejected', 'SKU is missing / 缺少货号; quantity 2.5 is not a whole number / 数量 2.5 不是整数'],
    ]);
    expect(g.orders.map((o) => o.externalId)).toEqual(['A:2']);
    expect(g.rejectedOrders).toEqual([
      {
        externalId: 'A:1',
        customerCode: 'A',
        orderNo: '1',
        rows: [2, 3, 5],
        badRows: [3, 5],
        reason:
          'row 3 / 第 3 行: quantity "abc" is not a number / 数量“abc”不是数字; ' +
          'row 5 / 第 5 行: SKU is missing / 缺少货号, quantity 2.5 is not a whole number / 数量 2.5 不是整数',
      },
    ]);
  });

  it('counts a row without a customer against every order with its order number', () => {
    const g = group(row('1', 'A'), row('1', 'B'), row('1', ''), row('2', 'A'));
    expect(statusOf(g)).toEqual([
      [2, 'rejected', 'another row of order 1 is invalid (row 4) / 订单 1 的其他行有误（第 4 行）'],
      [3, 'rejected', 'another row of order 1 is invalid (row 4) / 订单 1 的其他行有误（第 4 行）'],
      [
        4,
        'rejected',
        'customer code is missing / 缺少客户编码 (so order 1 is rejected too / 因此订单 1 也被拒绝)',
      ],
      [5, 'pending', null],
    ]);
    expect(g.rejectedOrders.map((o) => [o.externalId, o.rows, o.badRows])).toEqual([
      ['A:1', [2, 4], [4]],
      ['B:1', [3, 4], [4]],
    ]);
  });

  it('counts a row without an order number against every order of its customer', () => {
    const g = group(row('1', 'A'), row('2', 'A'), row('', 'A'), row('3', 'B'));
    expect(statusOf(g)).toEqual([
      [2, 'rejected', 'another row of order 1 is invalid (row 4) / 订单 1 的其他行有误（第 4 行）'],
      [3, 'rejected', 'another row of order 2 is invalid (row 4) / 订单 2 的其他行有误（第 4 行）'],
      [
        4,
        'rejected',
        'order number is missing / 缺少订单号 (so orders 1, 2 are rejected too / 因此订单 1、2 也被拒绝)',
      ],
      [5, 'pending', null],
    ]);
  });

  it('counts a line without order number and customer against every order, but not a line without a SKU either', () => {
    const lost = group(row('1', 'A'), row('', '', 'A-1'));
    expect(lost.orders).toEqual([]);
    expect(lost.rows[1]?.reason).toBe(
      'order number is missing / 缺少订单号; customer code is missing / 缺少客户编码 ' +
        '(so order 1 is rejected too / 因此订单 1 也被拒绝)',
    );

    const totals = group(row('1', 'A'), row('', '', '', '', { unitPrice: '99.00' }));
    expect(totals.orders.map((o) => o.externalId)).toEqual(['A:1']);
    expect(statusOf(totals)[1]).toEqual([
      5,
      'rejected',
      'order number is missing / 缺少订单号; customer code is missing / 缺少客户编码; ' +
        'SKU is missing / 缺少货号; quantity is missing / 缺少数量',
    ]);
  });

  it('keeps a row whose order number matches no order on its own', () => {
    const g = group(row('1', 'A'), row('9', ''));
    expect(g.orders.map((o) => o.externalId)).toEqual(['A:1']);
    expect(g.rows[1]).toMatchObject({
      status: 'rejected',
      reason: 'customer code is missing / 缺少客户编码',
    });
    expect(g.rows[1]?.externalId).toBeUndefined();
  });

  it('refuses an order whose rows name different currencies', () => {
    const g = group(
      row('1', 'A', 'A-1', '1', { currency: 'usd' }),
      row('1', 'A', 'A-2', '1', { currency: '' }),
      row('2', 'A', 'A-1', '1', { currency: 'JPY', unitPrice: '1500' }),
      row('2', 'A', 'A-2', '1', { currency: 'jpy', unitPrice: '20' }),
    );
    expect(statusOf(g).slice(0, 2)).toEqual([
      [2, 'rejected', 'another row of order 1 is invalid (row 3) / 订单 1 的其他行有误（第 3 行）'],
      [
        3,
        'rejected',
        'currency EUR differs from USD on row 2 of the same order / 币种 EUR 与同一订单第 2 行的 USD 不一致',
      ],
    ]);
    expect(g.orders).toEqual([
      {
        externalId: 'A:2',
        customerCode: 'A',
        orderNo: '2',
        currency: 'JPY',
        lines: [
          { sku: 'A-1', quantity: 1, unitPrice: 1500 },
          { sku: 'A-2', quantity: 1, unitPrice: 20 },
        ],
        rows: [4, 5],
      },
    ]);
  });

  it('rejects a customer code with a colon, which would make external ids ambiguous', () => {
    const g = group(row('1:2', 'A'), row('2', 'A:1'));
    expect(g.orders.map((o) => o.externalId)).toEqual(['A:1:2']);
    expect(g.rows[1]?.reason).toBe(`customer code "A:1" must not contain ':' / 客户编码“A:1”不能包含冒号“:”`);
  });

  it(`rejects an order of more than ${MAX_LINES_PER_ORDER} lines whole`, () => {
    const rows = Array.from({ length: MAX_LINES_PER_ORDER + 1 }, (_, i) => row('1', 'A', `S-${i}`));
    const g = group(...rows, row('2', 'A'));
    expect(g.orders.map((o) => o.externalId)).toEqual(['A:2']);
    const tooLong =
      'order 1 has 1001 lines; at most 1000 are taken in one order / 订单 1 有 1001 行，每个订单最多 1000 行';
    expect(g.rows[0]?.reason).toBe(tooLong);
    expect(g.rejectedOrders[0]?.reason).toBe(tooLong);
  });

  it('lists five bad rows in a reason and counts the rest', () => {
    const rows = [row('1', 'A'), ...Array.from({ length: 7 }, () => row('1', 'A', 'A-1', 'x'))];
    const g = group(...rows);
    expect(g.rows[0]?.reason).toBe(
      'another row of order 1 is invalid (rows 3, 4, 5, 6, 7 and 2 more) / 订单 1 的其他行有误（第 3、4、5、6、7 行等 7 行）',
    );
    const notANumber = 'quantity "x" is not a number / 数量“x”不是数字';
    expect(g.rejectedOrders[0]?.reason).toBe(
      `row 3 / 第 3 行: ${notANumber}; row 4 / 第 4 行: ${notANumber}; ` +
        `row 5 / 第 5 行: ${notANumber}; and 4 more invalid rows / 另有 4 行有误`,
    );
  });
});
