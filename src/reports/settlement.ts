import type { Conn } from '../db/connection.js';
import { keyAfter, keyAtOrBefore, type ReportKey } from './report-cursor.js';
import type { ReportRange } from './report-range.js';
import { BOOKED_STATUSES, marks, namesOf, num, selectRows } from './report-sql.js';
import type { ReportDefinition } from './report-workbook.js';

/**
 * The settlement report (结算统计报表): per customer or per channel, and per currency, over a range
 * of business dates.
 *
 * - Order figures are those of the orders **placed** in the range that count as sold (processed,
 *   not cancelled or rejected): `orders`, `quantity` (units ordered), `gross` (Σ quantity × unit
 *   price), `discounts` (line discounts and order discounts), `tax`, `shipping`, and `net`, the
 *   orders' total (gross − discounts + shipping, plus tax where prices exclude it).
 * - Money figures are those of the invoices **issued** in the range: `invoiced` (their totals),
 *   `credited` (the credit notes issued against them so far), `paid` (what payments have been
 *   applied to them so far) and `outstanding` (invoiced − credited − paid).
 *
 * By channel, an invoice counts under its order's channel; a monthly invoice that covers several
 * orders counts under the channel of the first of them.
 */

export type SettlementBy = 'customer' | 'channel';

export interface SettlementRow {
  customer: { code: string | null; name: string | null } | null;
  channel: string | null;
  currency: string;
  orders: number;
  quantity: number;
  gross: number;
  discounts: number;
  tax: number;
  shipping: number;
  net: number;
  invoices: number;
  invoiced: number;
  credited: number;
  paid: number;
  outstanding: number;
}

export const SETTLEMENT_KEY_SHAPE: Record<SettlementBy, ('string' | 'number')[]> = {
  customer: ['number', 'string'],
  channel: ['string', 'string'],
};

const INVOICE_ORDER =
  'LEFT JOIN orders io ON io.id = COALESCE(i.order_id, (SELECT MIN(il.order_id) FROM invoice_lines il WHERE il.invoice_id = i.id))';

function keys(by: SettlementBy) {
  return by === 'customer'
    ? {
        orders: ['COALESCE(o.customer_id, 0)', 'o.currency'],
        invoices: ['COALESCE(i.customer_id, 0)', 'i.currency'],
        join: '',
      }
    : {
        orders: ['o.channel', 'o.currency'],
        invoices: ["COALESCE(io.channel, '')", 'i.currency'],
        join: INVOICE_ORDER,
      };
}

/** One page of the report, in key order (customer id, or channel; then currency). */
export async function settlementPage(
  db: Conn,
  params: { by: SettlementBy; range: ReportRange },
  after: ReportKey | null,
  limit: number,
): Promise<{ items: SettlementRow[]; next: ReportKey | null }> {
  const { by, range } = params;
  const k = keys(by);
  const orderFilter = `o.placed_at >= ? AND o.placed_at < ? AND o.status IN (${marks(BOOKED_STATUSES.length)})`;
  const orderBindings = [range.start, range.end, ...BOOKED_STATUSES];
  const invoiceFilter = "i.type = 'invoice' AND i.issue_date >= ? AND i.issue_date <= ?";
  const invoiceBindings = [range.from, range.to];
  const cursor = after ? keyAfter(['u.k1', 'u.k2'], after) : { sql: '1 = 1', bindings: [] };

  const keyRows = await selectRows(
    db,
    `SELECT u.k1, u.k2 FROM (
       SELECT ${k.orders[0]} AS k1, ${k.orders[1]} AS k2 FROM orders o WHERE ${orderFilter} GROUP BY ${k.orders.join(', ')}
       UNION
       SELECT ${k.invoices[0]} AS k1, ${k.invoices[1]} AS k2 FROM invoices i ${k.join} WHERE ${invoiceFilter} GROUP BY ${k.invoices.join(', ')}
     ) u WHERE ${cursor.sql} ORDER BY u.k1, u.k2 LIMIT ?`,
    [...orderBindings, ...invoiceBindings, ...cursor.bindings, limit + 1],
  );
  const page = keyRows.slice(0, limit);
  if (page.length === 0) return { items: [], next: null };
  const keyOf = (r: Record<string, unknown>): ReportKey =>
    by === 'customer' ? [Number(r.k1), String(r.k2)] : [String(r.k1), String(r.k2)];
  const last = keyOf(page.at(-1)!);

  const inRange = (exprs: string[]) => {
    const lo = after ? keyAfter(exprs, after) : { sql: '1 = 1', bindings: [] };
    const hi = keyAtOrBefore(exprs, last);
    return { sql: `${lo.sql} AND ${hi.sql}`, bindings: [...lo.bindings, ...hi.bindings] };
  };
  const ro = inRange(k.orders);
  const ri = inRange(k.invoices);
  const [orderRows, lineRows, invoiceRows] = await Promise.all([
    selectRows(
      db,
      `SELECT ${k.orders[0]} AS k1, ${k.orders[1]} AS k2, COUNT(*) AS orders, SUM(o.total_amount) AS net,
         SUM(o.shipping_amount) AS shipping, SUM(o.discount_amount) AS order_discount, SUM(o.tax_amount) AS tax
       FROM orders o WHERE ${orderFilter} AND ${ro.sql} GROUP BY ${k.orders.join(', ')}`,
      [...orderBindings, ...ro.bindings],
    ),
    selectRows(
      db,
      `SELECT ${k.orders[0]} AS k1, ${k.orders[1]} AS k2, SUM(l.ordered) AS quantity,
         SUM(l.ordered * l.unit_price) AS gross, SUM(l.discount_amount) AS line_discount
       FROM orders o JOIN order_lines l ON l.order_id = o.id
       WHERE ${orderFilter} AND ${ro.sql} GROUP BY ${k.orders.join(', ')}`,
      [...orderBindings, ...ro.bindings],
    ),
    selectRows(
      db,
      `SELECT ${k.invoices[0]} AS k1, ${k.invoices[1]} AS k2, COUNT(*) AS invoices, SUM(i.total) AS invoiced,
         SUM(i.paid) AS paid,
         SUM(COALESCE((SELECT SUM(cn.total) FROM invoices cn WHERE cn.credits_invoice_id = i.id AND cn.type = 'credit_note'), 0)) AS credited
       FROM invoices i ${k.join} WHERE ${invoiceFilter} AND ${ri.sql} GROUP BY ${k.invoices.join(', ')}`,
      [...invoiceBindings, ...ri.bindings],
    ),
  ]);
  const id = (r: Record<string, unknown>) => JSON.stringify(keyOf(r));
  const byKey = (rows: Record<string, unknown>[]) => new Map(rows.map((r) => [id(r), r]));
  const o = byKey(orderRows);
  const l = byKey(lineRows);
  const inv = byKey(invoiceRows);
  const customers =
    by === 'customer'
      ? await namesOf(
          db,
          'customers',
          page.map((r) => Number(r.k1)),
        )
      : new Map();

  const items = page.map((r): SettlementRow => {
    const key = id(r);
    const or = o.get(key) ?? {};
    const lr = l.get(key) ?? {};
    const ir = inv.get(key) ?? {};
    const invoiced = num(ir.invoiced);
    const credited = num(ir.credited);
    const paid = num(ir.paid);
    const customerId = by === 'customer' ? Number(r.k1) : 0;
    return {
      customer: by === 'customer' ? (customers.get(customerId) ?? null) : null,
      channel: by === 'channel' ? String(r.k1) : null,
      currency: String(r.k2),
      orders: num(or.orders),
      quantity: num(lr.quantity),
      gross: num(lr.gross),
      discounts: num(lr.line_discount) + num(or.order_discount),
      tax: num(or.tax),
      shipping: num(or.shipping),
      net: num(or.net),
      invoices: num(ir.invoices),
      invoiced,
      credited,
      paid,
      outstanding: invoiced - credited - paid,
    };
  });
  return { items, next: keyRows.length > limit ? last : null };
}

const FIGURES: ReportDefinition<SettlementRow>['columns'] = [
  {
    key: 'currency',
    header: { en: 'Currency', 'zh-CN': '币种' },
    kind: 'text',
    value: (r) => r.currency,
    width: 8,
  },
  {
    key: 'orders',
    header: { en: 'Orders', 'zh-CN': '订单数' },
    kind: 'integer',
    value: (r) => r.orders,
    total: true,
  },
  {
    key: 'quantity',
    header: { en: 'Quantity', 'zh-CN': '数量' },
    kind: 'integer',
    value: (r) => r.quantity,
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
  { key: 'tax', header: { en: 'Tax', 'zh-CN': '税额' }, kind: 'money', value: (r) => r.tax, total: true },
  {
    key: 'shipping',
    header: { en: 'Shipping', 'zh-CN': '运费' },
    kind: 'money',
    value: (r) => r.shipping,
    total: true,
  },
  {
    key: 'net',
    header: { en: 'Net (order total)', 'zh-CN': '净额（订单合计）' },
    kind: 'money',
    value: (r) => r.net,
    total: true,
  },
  {
    key: 'invoices',
    header: { en: 'Invoices', 'zh-CN': '发票数' },
    kind: 'integer',
    value: (r) => r.invoices,
    total: true,
  },
  {
    key: 'invoiced',
    header: { en: 'Invoiced', 'zh-CN': '已开票' },
    kind: 'money',
    value: (r) => r.invoiced,
    total: true,
  },
  {
    key: 'credited',
    header: { en: 'Credited', 'zh-CN': '已红冲' },
    kind: 'money',
    value: (r) => r.credited,
    total: true,
  },
  {
    key: 'paid',
    header: { en: 'Paid', 'zh-CN': '已回款' },
    kind: 'money',
    value: (r) => r.paid,
    total: true,
  },
  {
    key: 'outstanding',
    header: { en: 'Outstanding', 'zh-CN': '未结金额' },
    kind: 'money',
    value: (r) => r.outstanding,
    total: true,
  },
];

export function settlementDefinition(by: SettlementBy): ReportDefinition<SettlementRow> {
  const lead: ReportDefinition<SettlementRow>['columns'] =
    by === 'customer'
      ? [
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
        ]
      : [
          {
            key: 'channel',
            header: { en: 'Channel', 'zh-CN': '销售渠道' },
            kind: 'text',
            value: (r) => r.channel ?? '',
          },
        ];
  return {
    title: { en: 'Settlement report', 'zh-CN': '结算统计报表' },
    sheet: { en: 'Settlement', 'zh-CN': '结算统计' },
    columns: [...lead, ...FIGURES],
    currencyOf: (r) => r.currency,
  };
}
