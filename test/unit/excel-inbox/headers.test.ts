import { describe, expect, it } from 'vitest';
import { matchHeaders } from '../../../connectors/excel-inbox/headers.js';

describe('matchHeaders', () => {
  it.each([
    [['order', 'customer', 'sku', 'qty']],
    [['Order Number', 'Customer Code', 'Item', 'Quantity']],
    [['ORDER_NO', 'customer_code', 'Item Code', 'QTY']],
    [['Order No.', ' Customer ', 'SKU', 'Qty']],
    [['PO', 'customer', 'item', 'quantity']],
    [['PO Number', 'customer', 'item-code', 'qty']],
    [['po #', 'customer', 'sku', 'qty']],
  ])('maps %j', (header) => {
    expect(matchHeaders(header)).toEqual({
      ok: true,
      columns: { orderNo: 0, customerCode: 1, sku: 2, quantity: 3 },
    });
  });

  it('finds the optional price and currency columns and ignores columns it does not know', () => {
    expect(matchHeaders(['Notes', 'Currency', 'qty', 'Price', 'sku', '', 'customer', 'order'])).toEqual({
      ok: true,
      columns: { currency: 1, quantity: 2, unitPrice: 3, sku: 4, customerCode: 6, orderNo: 7 },
    });
    expect(matchHeaders(['order', 'customer', 'sku', 'qty', 'Unit Price']).ok).toBe(true);
  });

  it('names every missing column with the headers it accepts, and what the header row has', () => {
    const r = matchHeaders(['Order', 'Item', 'Notes']);
    expect(r).toEqual({
      ok: false,
      message:
        'missing required columns: customer code ("customer", "customer code", "客户", "客户编码", "客户代码"); quantity ("qty", "quantity", "数量"). ' +
        'The first non-empty row is read as the header; it has "Order", "Item", "Notes" / ' +
        '缺少必填列：客户编码（“客户”、“客户编码”、“客户代码”）；数量（“数量”）。' +
        '第一个非空行视为表头，表头内容为：“Order”、“Item”、“Notes”',
    });
  });

  it('refuses two columns for one field', () => {
    const r = matchHeaders(['order', 'PO', 'customer', 'sku', 'qty']);
    expect(r).toEqual({
      ok: false,
      message: '"order" and "PO" both name the order number column / “order”和“PO”都是订单号列，只能有一列',
    });
  });
});
