import { describe, expect, it } from 'vitest';
import { parseOrderFile } from '../../../connectors/excel-inbox/parse.js';

const csv = (text: string) => ({ fileName: 'orders.csv', data: Buffer.from(text) });

describe('parseOrderFile: a sheet its sender’s customer sent (senderCustomer)', () => {
  it('takes a sheet without a customer column as the sender’s', async () => {
    const parsed = await parseOrderFile(csv('Order No,SKU,Qty\nPO-1,A-1,2\nPO-1,B-2,1\n'), {
      senderCustomer: 'ACME',
    });
    expect(parsed.error).toBeUndefined();
    expect(parsed.orders.map((o) => [o.externalId, o.customerCode, o.lines.length])).toEqual([
      ['ACME:PO-1', 'ACME', 2],
    ]);
  });

  it('still needs the customer column without a sender', async () => {
    const parsed = await parseOrderFile(csv('Order No,SKU,Qty\nPO-1,A-1,2\n'));
    expect(parsed.error).toContain('missing required column: customer code');
  });

  it('rejects the rows of another customer, keeps the sender’s (any case) and fills empty cells', async () => {
    const parsed = await parseOrderFile(
      csv('Order No,Customer,SKU,Qty\nPO-1,acme,A-1,2\nPO-2,BETA,A-1,1\nPO-3,,B-2,4\n'),
      { senderCustomer: 'ACME' },
    );
    expect(parsed.orders.map((o) => o.externalId)).toEqual(['ACME:PO-1', 'ACME:PO-3']);
    expect(parsed.rejectedOrders.map((o) => o.externalId)).toEqual(['BETA:PO-2']);
    const beta = parsed.rows.find((r) => r.orderNo === 'PO-2')!;
    expect(beta.status).toBe('rejected');
    expect(beta.reason).toContain("customer BETA is not the sender's customer ACME");
    expect(beta.reason).toContain('客户 BETA 不是发件人所属的客户 ACME');
  });

  it('the same sheet sent twice with the customer spelt in another case is the same order (the sender’s code)', async () => {
    const once = await parseOrderFile(csv('Order No,Customer,SKU,Qty\n1001,ACME,A-1,2\n'), {
      senderCustomer: 'Acme',
    });
    const again = await parseOrderFile(csv('Order No,Customer,SKU,Qty\n1001,acme,A-1,2\n'), {
      senderCustomer: 'Acme',
    });
    expect(once.orders.map((o) => [o.externalId, o.customerCode])).toEqual([['Acme:1001', 'Acme']]);
    expect(again.orders.map((o) => [o.externalId, o.customerCode])).toEqual([['Acme:1001', 'Acme']]);
  });
});
