import { describe, expect, it } from 'vitest';
import { checkRow, type RawRow } from '../../../connectors/excel-inbox/check-row.js';
import { groupOrders } from '../../../connectors/excel-inbox/group-orders.js';
import { matchHeaders } from '../../../connectors/excel-inbox/headers.js';
import { toOrderInput } from '../../../connectors/excel-inbox/to-order-input.js';

let nextRow = 2;
const row = (orderNo: string, contract: string, more: Partial<RawRow> = {}) =>
  checkRow(
    {
      row: nextRow++,
      orderNo,
      customerCode: 'A',
      sku: 'A-1',
      quantity: '1',
      unitPrice: '',
      currency: '',
      contract,
      ...more,
    },
    'EUR',
  );

describe('the contract column of an order sheet', () => {
  it('is found by its English and Chinese names', () => {
    for (const name of ['Contract', 'Contract No.', '合同号', '合同编号'])
      expect(matchHeaders(['Order No', 'Customer', 'SKU', 'Qty', name])).toEqual({
        ok: true,
        columns: { orderNo: 0, customerCode: 1, sku: 2, quantity: 3, contract: 4 },
      });
  });

  it('names the order its contract from one row or the same on each; two contracts reject the order', () => {
    nextRow = 2;
    const g = groupOrders([row('1', 'HT-1'), row('1', ''), row('2', ''), row('3', 'HT-1'), row('3', 'HT-2')]);
    expect(g.orders.map((o) => [o.externalId, o.contract])).toEqual([
      ['A:1', 'HT-1'],
      ['A:2', undefined],
    ]);
    expect(toOrderInput(g.orders[0]!).contract).toBe('HT-1');
    expect(toOrderInput(g.orders[1]!)).not.toHaveProperty('contract');
    expect(g.rejectedOrders[0]).toMatchObject({ externalId: 'A:3', badRows: [6] });
    expect(g.rows[4]!.reason).toBe(
      'contract HT-2 differs from contract HT-1 on row 5 of the same order / 合同号 HT-2 与同一订单第 5 行的合同号 HT-1 不一致',
    );
  });

  it('refuses a contract number longer than 64 characters', () => {
    expect(row('1', 'X'.repeat(65)).problems).toEqual([
      'contract number is longer than 64 characters / 合同号超过 64 个字符',
    ]);
  });
});
