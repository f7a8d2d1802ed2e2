import { describe, expect, it } from 'vitest';
import { parseOrderFile } from '../../../connectors/excel-inbox/parse.js';
import { toOrderInput } from '../../../connectors/excel-inbox/to-order-input.js';
import { orderInputSchema } from '../../../src/domain/order-input.js';

const csv = (text: string) => ({ fileName: 'orders.csv', data: Buffer.from(text) });

describe('order files: the promotion code column (README "Promotions")', () => {
  it('gives each order the codes its rows name, once each, in the API order body', async () => {
    const parsed = await parseOrderFile(
      csv(
        'Order No,Customer,SKU,Qty,Price,Promo Code\n' +
          'P-1,ACME,A-1,2,12.50,XMAS10\n' +
          'P-1,ACME,B-2,1,3.00,XMAS10\n' +
          'P-1,ACME,C-3,1,3.00,BIG-ORDER\n' +
          'P-2,ACME,A-1,1,12.50,\n',
      ),
    );
    expect(parsed.error).toBeUndefined();
    expect(parsed.orders.map((o) => [o.externalId, o.promotionCodes])).toEqual([
      ['ACME:P-1', ['XMAS10', 'BIG-ORDER']],
      ['ACME:P-2', undefined],
    ]);
    const input = toOrderInput(parsed.orders[0]!);
    expect(orderInputSchema.parse(input).promotionCodes).toEqual(['XMAS10', 'BIG-ORDER']);
    expect(toOrderInput(parsed.orders[1]!)).not.toHaveProperty('promotionCodes');
  });

  it('takes the Chinese header 促销码, and refuses a code too long with a reason in both languages', async () => {
    const parsed = await parseOrderFile(
      csv(`订单号,客户编码,货号,数量,促销码\nP-1,ACME,A-1,1,双十一\nP-2,ACME,A-1,1,${'X'.repeat(65)}\n`),
    );
    expect(parsed.orders.map((o) => o.promotionCodes)).toEqual([['双十一']]);
    expect(parsed.rows.find((r) => r.row === 3)?.reason).toBe(
      'promotion code is longer than 64 characters / 促销码超过 64 个字符',
    );
  });
});
