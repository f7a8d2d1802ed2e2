import type { Conn } from '../db/connection.js';
import { keyAfter, type ReportKey } from './report-cursor.js';
import { monthsOf, type ReportRange } from './report-range.js';
import { BOOKED_STATUSES, marks, namesOf, num, selectRows } from './report-sql.js';
import type { ReportDefinition } from './report-workbook.js';

/**
 * Sales analysis: per business month and per SKU, customer, salesperson or channel, and per
 * currency, the order lines of orders placed in the range that count as sold (processed, not
 * cancelled or rejected): `orders`, `lines`, `quantity` ordered, `shipped`, `returned`, `gross`
 * (Σ quantity × unit price), line `discounts`, `net` (gross − discounts) and line `tax`. Shipping
 * and order-level discounts belong to no line and are left out (the settlement report has them).
 * A salesperson's sales are those of the customers they look after now.
 */

export type SalesBy = 'sku' | 'customer' | 'salesperson' | 'channel';

export interface SalesRow {
  month: string;
  sku: { code: string | null; name: string | null } | null;
  customer: { code: string | null; name: string | null } | null;
  salesperson: { code: string | null; name: string | null } | null;
  channel: string | null;
  currency: string;
  orders: number;
  lines: number;
  quantity: number;
  shipped: number;
  returned: number;
  gross: number;
  discounts: number;
  net: number;
  tax: number;
}

export const SALES_KEY_SHAPE: Record<SalesBy, ('string' | 'number')[]> = {
  sku: ['string', 'number', 'string'],
  customer: ['string', 'number', 'string'],
  salesperson: ['string', 'number', 'string'],
  channel: ['string', 'string', 'string'],
};

const KEY_EXPR: Record<SalesBy, string> = {
  sku: 'COALESCE(l.sku_id, 0)',
  customer: 'COALESCE(o.customer_id, 0)',
  salesperson: 'COALESCE(c.salesperson_id, 0)',
  channel: 'o.channel',
};

/** The most months one request covers. */
export const MAX_SALES_MONTHS = 36;

/** One page of the analysis, by month, then key (SKU, customer or salesperson id, or channel), then currency. */
export async function salesPage(
  db: Conn,
  params: { by: SalesBy; range: ReportRange },
  after: ReportKey | null,
  limit: number,
): Promise<{ items: SalesRow[]; next: ReportKey | null }> {
  const { by, range } = params;
  const months = monthsOf(range);
  const monthCase = `CASE ${months.map(() => 'WHEN o.placed_at < ? THEN ?').join(' ')} END`;
  const monthBindings = months.flatMap((m) => [m.end, m.month]);
  const cursor = after ? keyAfter(['g.m', 'g.k', 'g.cur'], after) : { sql: '1 = 1', bindings: [] };
  const rows = await selectRows(
    db,
    `SELECT g.* FROM (
       SELECT ${monthCase} AS m, ${KEY_EXPR[by]} AS k, o.currency AS cur,
         COUNT(DISTINCT o.id) AS orders, COUNT(*) AS line_count, SUM(l.ordered) AS quantity,
         SUM(l.shipped) AS shipped, SUM(l.returned) AS returned, SUM(l.ordered * l.unit_price) AS gross,
         SUM(l.discount_amount) AS discounts, SUM(l.tax_amount) AS tax
       FROM orders o JOIN order_lines l ON l.order_id = o.id
       ${by === 'salesperson' ? 'LEFT JOIN customers c ON c.id = o.customer_id' : ''}
       WHERE o.placed_at >= ? AND o.placed_at < ? AND o.status IN (${marks(BOOKED_STATUSES.length)})
       GROUP BY m, k, cur
     ) g WHERE ${cursor.sql} ORDER BY g.m, g.k, g.cur LIMIT ?`,
    [...monthBindings, range.start, range.end, ...BOOKED_STATUSES, ...cursor.bindings, limit + 1],
  );
  const page = rows.slice(0, limit);
  const ids = page.map((r) => Number(r.k));
  const names =
    by === 'sku'
      ? await namesOf(db, 'skus', ids)
      : by === 'customer'
        ? await namesOf(db, 'customers', ids)
        : by === 'salesperson'
          ? await namesOf(db, 'salespeople', ids)
          : new Map();
  const keyOf = (r: Record<string, unknown>): ReportKey => [
    String(r.m),
    by === 'channel' ? String(r.k) : Number(r.k),
    String(r.cur),
  ];
  const items = page.map((r): SalesRow => {
    const named = by === 'channel' ? null : (names.get(Number(r.k)) ?? null);
    const gross = num(r.gross);
    const discounts = num(r.discounts);
    return {
      month: String(r.m),
      sku: by === 'sku' ? named : null,
      customer: by === 'customer' ? named : null,
      salesperson: by === 'salesperson' ? named : null,
      channel: by === 'channel' ? String(r.k) : null,
      currency: String(r.cur),
      orders: num(r.orders),
      lines: num(r.line_count),
      quantity: num(r.quantity),
      shipped: num(r.shipped),
      returned: num(r.returned),
      gross,
      discounts,
      net: gross - discounts,
      tax: num(r.tax),
    };
  });
  return { items, next: rows.length > limit ? keyOf(page.at(-1)!) : null };
}

const LEAD: Record<SalesBy, ReportDefinition<SalesRow>['columns']> = {
  sku: [
    { key: 'skuCode', header: { en: 'SKU', 'zh-CN': '货号' }, kind: 'text', value: (r) => r.sku?.code ?? '' },
    {
      key: 'skuName',
      header: { en: 'Name', 'zh-CN': '品名' },
      kind: 'text',
      value: (r) => r.sku?.name ?? '',
      width: 28,
    },
  ],
  customer: [
    {
      key: 'customerCode',
      header: { en: 'Customer code', 'zh-CN': '客户编码' },
      kind: 'text',
      value: (r) => r.customer?.code ?? '',
    },
    {
      key: 'customerName',
      header: { en: 'Customer', 'zh-CN': '客户名称' },
      kind: 'text',
      value: (r) => r.customer?.name ?? '',
      width: 28,
    },
  ],
  salesperson: [
    {
      key: 'salespersonCode',
      header: { en: 'Salesperson code', 'zh-CN': '业务员编码' },
      kind: 'text',
      value: (r) => r.salesperson?.code ?? '',
    },
    {
      key: 'salespersonName',
      header: { en: 'Salesperson', 'zh-CN': '业务员' },
      kind: 'text',
      value: (r) => r.salesperson?.name ?? '',
      width: 22,
    },
  ],
  channel: [
    {
      key: 'channel',
      header: { en: 'Channel', 'zh-CN': '销售渠道' },
      kind: 'text',
      value: (r) => r.channel ?? '',
    },
  ],
};

export function salesDefinition(by: SalesBy): ReportDefinition<SalesRow> {
  return {
    title: { en: 'Sales analysis', 'zh-CN': '销售分析' },
    sheet: { en: 'Sales', 'zh-CN': '销售分析' },
    columns: [
      {
        key: 'month',
        header: { en: 'Month', 'zh-CN': '月份' },
        kind: 'text',
        value: (r) => r.month,
        width: 10,
      },
      ...LEAD[by],
      {
        key: 'currency',
        header: { en: 'Currency', 'zh-CN': '币种' },
        kind: 'text',
        value: (r) => r.currency,
        width: 8,
      },
      { key: 'orders', header: { en: 'Orders', 'zh-CN': '订单数' }, kind: 'integer', value: (r) => r.orders },
      {
        key: 'lines',
        header: { en: 'Lines', 'zh-CN': '行数' },
        kind: 'integer',
        value: (r) => r.lines,
        total: true,
      },
      {
        key: 'quantity',
        header: { en: 'Quantity', 'zh-CN': '订购数量' },
        kind: 'integer',
        value: (r) => r.quantity,
        total: true,
      },
      {
        key: 'shipped',
        header: { en: 'Shipped', 'zh-CN': '已发货' },
        kind: 'integer',
        value: (r) => r.shipped,
        total: true,
      },
      {
        key: 'returned',
        header: { en: 'Returned', 'zh-CN': '已退货' },
        kind: 'integer',
        value: (r) => r.returned,
        total: true,
      },
      {
        key: 'gross',
        header: { en: 'Gross', 'zh-CN': '总额' },
        kind: 'money',
        value: (r) => r.gross,
        total: true,
      },
      {
        key: 'discounts',
        header: { en: 'Discounts', 'zh-CN': '折扣' },
        kind: 'money',
        value: (r) => r.discounts,
        total: true,
      },
      { key: 'net', header: { en: 'Net', 'zh-CN': '净额' }, kind: 'money', value: (r) => r.net, total: true },
      { key: 'tax', header: { en: 'Tax', 'zh-CN': '税额' }, kind: 'money', value: (r) => r.tax, total: true },
    ],
    currencyOf: (r) => r.currency,
  };
}
