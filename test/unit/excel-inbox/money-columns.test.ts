import { describe, expect, it } from 'vitest';
import { parseOrderFile } from '../../../connectors/excel-inbox/parse.js';
import { toOrderInput } from '../../../connectors/excel-inbox/to-order-input.js';
import { orderTotal } from '../../../src/domain/order-input.js';
import { useTempDir, writeXlsx } from './support.js';

const csv = (text: string) => ({ fileName: 'orders.csv', data: Buffer.from(text) });

describe('order files: per-line discount and order shipping (README "Order money and tax")', () => {
  const tmp = useTempDir();

  it('reads a discount per line and the shipping of the order, in major units of its currency', async () => {
    const parsed = await parseOrderFile(
      csv(
        'Order No,Customer,SKU,Qty,Price,Discount,Shipping\n' +
          'P-1,ACME,A-1,2,12.50,1.00,8.00\n' +
          'P-1,ACME,B-2,1,3.00,,8.00\n' +
          'P-2,ACME,A-1,1,12.50,,\n',
      ),
    );
    expect(parsed.error).toBeUndefined();
    expect(parsed.orders.map((o) => [o.externalId, o.lines, o.shipping])).toEqual([
      [
        'ACME:P-1',
        [
          { sku: 'A-1', quantity: 2, unitPrice: 1250, discount: 100 },
          { sku: 'B-2', quantity: 1, unitPrice: 300 },
        ],
        800,
      ],
      ['ACME:P-2', [{ sku: 'A-1', quantity: 1, unitPrice: 1250 }], undefined],
    ]);
    const input = toOrderInput(parsed.orders[0]!);
    expect(input).toMatchObject({ shipping: 800 });
    // 25.00 - 1.00 + 3.00 + 8.00 shipping
    expect(orderTotal(input.lines, input)).toBe(3500);
  });

  it('takes Chinese headers (折扣, 运费) from an .xlsx, and JPY amounts without decimals', async () => {
    const file = await writeXlsx(tmp.path, 'orders.xlsx', {
      订单: [
        ['订单号', '客户编码', '货号', '数量', '单价', '折扣', '运费', '币种'],
        ['J-1', 'ACME', 'A-1', 3, 1500, 200, 500, 'JPY'],
      ],
    });
    const parsed = await parseOrderFile({ fileName: 'orders.xlsx', path: file });
    expect(parsed.orders[0]).toMatchObject({
      currency: 'JPY',
      lines: [{ sku: 'A-1', quantity: 3, unitPrice: 1500, discount: 200 }],
      shipping: 500,
    });
  });

  it('rejects the order whose discount is not an amount or is above its line, or whose rows disagree on shipping', async () => {
    const parsed = await parseOrderFile(
      csv(
        'Order No,Customer,SKU,Qty,Price,Discount,Shipping\n' +
          'Q-1,ACME,A-1,1,10.00,10.01,\n' +
          'Q-2,ACME,A-1,1,10.00,-1,\n' +
          'Q-3,ACME,A-1,1,10.00,,5.00\n' +
          'Q-3,ACME,B-2,1,10.00,,6.00\n' +
          'Q-4,ACME,A-1,1,10.00,0.005,\n',
      ),
    );
    expect(parsed.orders).toEqual([]);
    expect(parsed.rows.map((r) => [r.row, r.status, r.reason])).toEqual([
      [
        2,
        'rejected',
        "discount 10.01 is more than the line's quantity × unit price / 折扣 10.01 超过该行数量 × 单价",
      ],
      [3, 'rejected', 'discount -1 is negative / 折扣 -1 不能为负数'],
      [4, 'rejected', 'another row of order Q-3 is invalid (row 5) / 订单 Q-3 的其他行有误（第 5 行）'],
      [
        5,
        'rejected',
        'shipping differs from the shipping on row 4 of the same order / 运费与同一订单第 4 行的运费不一致',
      ],
      [
        6,
        'rejected',
        'discount 0.005 has too many decimals: EUR allows at most 2 decimals / 折扣 0.005 小数位过多：EUR 最多 2 位小数',
      ],
    ]);
  });
});
