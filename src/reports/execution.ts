import { type Conn, dialectOf } from '../db/connection.js';
import type { ReportRange } from './report-range.js';
import { marks, num, selectRows } from './report-sql.js';
import type { ReportDefinition } from './report-workbook.js';

/**
 * The execution report (执行偏差): each order line of the orders placed in the range (all but
 * rejected ones), with what was ordered, reserved, backordered, shipped, cancelled and returned,
 * what is invoiced (units on invoices less units on credit notes), what is paid (those units on
 * invoices that are settled: total − paid − credited is nothing), the variance (units ordered and
 * not shipped) and the reasons the line is not carried out in full:
 *
 * - `on_hold` / `not_processed`: the order waits for a person / for processing;
 * - `backordered`: units wait for stock; `awaiting_shipment`: units are reserved, not yet shipped;
 * - `cancelled`: units cancelled and nothing shipped; `short_shipped`: part shipped, the rest cancelled;
 * - `returned`: units came back; `not_invoiced`: shipped units (less returns) not invoiced yet;
 * - `unpaid`: invoiced units whose invoice is not settled yet.
 *
 * Filtered by customer, salesperson (the customer's), contract and SKU; newest line first.
 */

export type ExecutionReason =
  | 'on_hold'
  | 'not_processed'
  | 'backordered'
  | 'awaiting_shipment'
  | 'cancelled'
  | 'short_shipped'
  | 'returned'
  | 'not_invoiced'
  | 'unpaid';

export interface ExecutionFilter {
  customer?: string | undefined;
  salesperson?: string | undefined;
  contract?: string | undefined;
  sku?: string | undefined;
}

export interface ExecutionRow {
  lineId: number;
  orderId: number;
  externalId: string;
  channel: string;
  placedAt: string;
  status: string;
  customer: { code: string | null; name: string | null } | null;
  salesperson: { code: string | null; name: string | null } | null;
  contract: string | null;
  lineNo: number;
  sku: string;
  currency: string;
  unitPrice: number;
  ordered: number;
  reserved: number;
  backordered: number;
  shipped: number;
  cancelled: number;
  returned: number;
  invoiced: number;
  invoicedAmount: number;
  paid: number;
  variance: number;
  reasons: ExecutionReason[];
}

export const EXECUTION_REASON_LABELS: Record<ExecutionReason, { en: string; 'zh-CN': string }> = {
  on_hold: { en: 'on hold', 'zh-CN': '暂停处理' },
  not_processed: { en: 'not processed', 'zh-CN': '未处理' },
  backordered: { en: 'backordered', 'zh-CN': '缺货待补' },
  awaiting_shipment: { en: 'awaiting shipment', 'zh-CN': '待发货' },
  cancelled: { en: 'cancelled', 'zh-CN': '已取消' },
  short_shipped: { en: 'short-shipped', 'zh-CN': '短发' },
  returned: { en: 'returned', 'zh-CN': '退货' },
  not_invoiced: { en: 'not invoiced', 'zh-CN': '未开票' },
  unpaid: { en: 'unpaid', 'zh-CN': '未回款' },
};

/** Why a line is not carried out in full (pure). */
export function executionReasons(l: {
  status: string;
  reserved: number;
  backordered: number;
  shipped: number;
  cancelled: number;
  returned: number;
  invoiced: number;
  paid: number;
}): ExecutionReason[] {
  const reasons: ExecutionReason[] = [];
  if (l.status === 'on_hold') reasons.push('on_hold');
  if (l.status === 'received') reasons.push('not_processed');
  if (l.backordered > 0) reasons.push('backordered');
  if (l.reserved > 0) reasons.push('awaiting_shipment');
  if (l.cancelled > 0) reasons.push(l.shipped > 0 ? 'short_shipped' : 'cancelled');
  if (l.returned > 0) reasons.push('returned');
  if (l.shipped - l.returned > l.invoiced) reasons.push('not_invoiced');
  if (l.invoiced > l.paid) reasons.push('unpaid');
  return reasons;
}

const iso = (v: unknown) => {
  const s = String(v);
  return `${s.replace(' ', 'T')}${s.includes('.') ? '' : '.000'}Z`;
};
const named = (code: unknown, name: unknown) =>
  code === null && name === null
    ? null
    : { code: code === null ? null : String(code), name: name === null ? null : String(name) };

/** One page: the lines with ids below `beforeId` (null: from the newest), newest first. */
export async function executionPage(
  db: Conn,
  params: { range: ReportRange; filter: ExecutionFilter },
  beforeId: number | null,
  limit: number,
): Promise<{ items: ExecutionRow[]; next: number | null }> {
  const { range, filter } = params;
  const where = ["o.placed_at >= ? AND o.placed_at < ? AND o.status <> 'rejected'"];
  const bindings: unknown[] = [range.start, range.end];
  if (filter.customer) {
    where.push('c.code = ?');
    bindings.push(filter.customer);
  }
  if (filter.salesperson) {
    where.push('sp.code = ?');
    bindings.push(filter.salesperson);
  }
  if (filter.contract) {
    where.push('ct.number = ?');
    bindings.push(filter.contract);
  }
  if (filter.sku) {
    where.push('l.sku_id = (SELECT s.id FROM skus s WHERE s.code = ?)');
    bindings.push(filter.sku);
  }
  if (beforeId !== null) {
    where.push('l.id < ?');
    bindings.push(beforeId);
  }
  // MySQL: the lines first, newest first by their key, so that LIMIT stops the scan; left to
  // itself it takes every order of the period and sorts all their lines for each page.
  const straight = dialectOf(db) === 'mysql' ? 'STRAIGHT_JOIN ' : '';
  const rows = await selectRows(
    db,
    `SELECT ${straight}l.id, l.order_id, l.line_no, l.sku_code, l.ordered, l.reserved, l.backordered, l.shipped,
       l.cancelled, l.returned, l.unit_price, o.external_id, o.channel, o.status, o.placed_at, o.currency,
       c.code AS customer_code, c.name AS customer_name, sp.code AS salesperson_code,
       sp.name AS salesperson_name, ct.number AS contract_number
     FROM order_lines l JOIN orders o ON o.id = l.order_id
     LEFT JOIN customers c ON c.id = o.customer_id
     LEFT JOIN salespeople sp ON sp.id = c.salesperson_id
     LEFT JOIN contracts ct ON ct.id = o.contract_id
     WHERE ${where.join(' AND ')} ORDER BY l.id DESC LIMIT ?`,
    [...bindings, limit + 1],
  );
  const page = rows.slice(0, limit);
  const billed = await invoicedUnits(
    db,
    page.map((r) => Number(r.id)),
  );
  const items = page.map((r): ExecutionRow => {
    const q = {
      status: String(r.status),
      ordered: num(r.ordered),
      reserved: num(r.reserved),
      backordered: num(r.backordered),
      shipped: num(r.shipped),
      cancelled: num(r.cancelled),
      returned: num(r.returned),
    };
    const b = billed.get(Number(r.id)) ?? { invoiced: 0, invoicedAmount: 0, paid: 0 };
    return {
      lineId: Number(r.id),
      orderId: Number(r.order_id),
      externalId: String(r.external_id),
      channel: String(r.channel),
      placedAt: iso(r.placed_at),
      customer: named(r.customer_code, r.customer_name),
      salesperson: named(r.salesperson_code, r.salesperson_name),
      contract: r.contract_number === null ? null : String(r.contract_number),
      lineNo: num(r.line_no),
      sku: String(r.sku_code),
      currency: String(r.currency),
      unitPrice: num(r.unit_price),
      ...q,
      ...b,
      variance: q.ordered - q.shipped,
      reasons: executionReasons({ ...q, ...b }),
    };
  });
  return { items, next: rows.length > limit ? Number(page.at(-1)!.id) : null };
}

/** Per order line: units and amount invoiced net of credit notes, and units on settled invoices. */
async function invoicedUnits(
  db: Conn,
  lineIds: readonly number[],
): Promise<Map<number, { invoiced: number; invoicedAmount: number; paid: number }>> {
  const out = new Map<number, { invoiced: number; invoicedAmount: number; paid: number }>();
  if (lineIds.length === 0) return out;
  const rows = await selectRows(
    db,
    `SELECT il.id, il.order_line_id, il.credits_line_id, il.quantity, il.amount, i.type, i.total, i.paid,
       COALESCE((SELECT SUM(cn.total) FROM invoices cn WHERE cn.credits_invoice_id = i.id AND cn.type = 'credit_note'), 0) AS credited
     FROM invoice_lines il JOIN invoices i ON i.id = il.invoice_id
     WHERE il.order_line_id IN (${marks(lineIds.length)})`,
    lineIds,
  );
  const creditedUnits = new Map<number, number>();
  for (const r of rows)
    if (r.type === 'credit_note' && r.credits_line_id !== null)
      creditedUnits.set(
        Number(r.credits_line_id),
        (creditedUnits.get(Number(r.credits_line_id)) ?? 0) + num(r.quantity),
      );
  for (const r of rows) {
    const lineId = Number(r.order_line_id);
    const entry = out.get(lineId) ?? { invoiced: 0, invoicedAmount: 0, paid: 0 };
    out.set(lineId, entry);
    const sign = r.type === 'credit_note' ? -1 : 1;
    entry.invoiced += sign * num(r.quantity);
    entry.invoicedAmount += sign * num(r.amount);
    if (r.type === 'invoice' && num(r.total) - num(r.paid) - num(r.credited) <= 0)
      entry.paid += num(r.quantity) - (creditedUnits.get(Number(r.id)) ?? 0);
  }
  return out;
}

const text = (v: { code: string | null; name: string | null } | null) =>
  v ? [v.code, v.name].filter(Boolean).join(' ') : '';

export function executionDefinition(language: 'zh-CN' | 'en'): ReportDefinition<ExecutionRow> {
  return {
    title: { en: 'Sales order execution', 'zh-CN': '销售订单执行偏差' },
    sheet: { en: 'Execution', 'zh-CN': '执行偏差' },
    columns: [
      {
        key: 'orderId',
        header: { en: 'Order', 'zh-CN': '订单号' },
        kind: 'integer',
        value: (r) => r.orderId,
        width: 10,
      },
      {
        key: 'externalId',
        header: { en: 'External id', 'zh-CN': '外部单号' },
        kind: 'text',
        value: (r) => r.externalId,
      },
      {
        key: 'channel',
        header: { en: 'Channel', 'zh-CN': '销售渠道' },
        kind: 'text',
        value: (r) => r.channel,
        width: 12,
      },
      {
        key: 'placedAt',
        header: { en: 'Placed (UTC)', 'zh-CN': '下单时间 (UTC)' },
        kind: 'date',
        value: (r) => r.placedAt.slice(0, 10),
      },
      {
        key: 'status',
        header: { en: 'Status', 'zh-CN': '订单状态' },
        kind: 'text',
        value: (r) => r.status,
        width: 16,
      },
      {
        key: 'customer',
        header: { en: 'Customer', 'zh-CN': '客户' },
        kind: 'text',
        value: (r) => text(r.customer),
        width: 24,
      },
      {
        key: 'salesperson',
        header: { en: 'Salesperson', 'zh-CN': '业务员' },
        kind: 'text',
        value: (r) => text(r.salesperson),
      },
      {
        key: 'contract',
        header: { en: 'Contract', 'zh-CN': '合同号' },
        kind: 'text',
        value: (r) => r.contract ?? '',
      },
      {
        key: 'lineNo',
        header: { en: 'Line', 'zh-CN': '行号' },
        kind: 'integer',
        value: (r) => r.lineNo,
        width: 6,
      },
      { key: 'sku', header: { en: 'SKU', 'zh-CN': '货号' }, kind: 'text', value: (r) => r.sku },
      {
        key: 'currency',
        header: { en: 'Currency', 'zh-CN': '币种' },
        kind: 'text',
        value: (r) => r.currency,
        width: 8,
      },
      {
        key: 'unitPrice',
        header: { en: 'Unit price', 'zh-CN': '单价' },
        kind: 'money',
        value: (r) => r.unitPrice,
      },
      {
        key: 'ordered',
        header: { en: 'Ordered', 'zh-CN': '订购' },
        kind: 'integer',
        value: (r) => r.ordered,
        total: true,
        width: 10,
      },
      {
        key: 'reserved',
        header: { en: 'Reserved', 'zh-CN': '已占用' },
        kind: 'integer',
        value: (r) => r.reserved,
        total: true,
        width: 10,
      },
      {
        key: 'backordered',
        header: { en: 'Backordered', 'zh-CN': '缺货待补' },
        kind: 'integer',
        value: (r) => r.backordered,
        total: true,
        width: 10,
      },
      {
        key: 'shipped',
        header: { en: 'Shipped', 'zh-CN': '已发货' },
        kind: 'integer',
        value: (r) => r.shipped,
        total: true,
        width: 10,
      },
      {
        key: 'cancelled',
        header: { en: 'Cancelled', 'zh-CN': '已取消' },
        kind: 'integer',
        value: (r) => r.cancelled,
        total: true,
        width: 10,
      },
      {
        key: 'returned',
        header: { en: 'Returned', 'zh-CN': '已退货' },
        kind: 'integer',
        value: (r) => r.returned,
        total: true,
        width: 10,
      },
      {
        key: 'invoiced',
        header: { en: 'Invoiced', 'zh-CN': '已开票' },
        kind: 'integer',
        value: (r) => r.invoiced,
        total: true,
        width: 10,
      },
      {
        key: 'invoicedAmount',
        header: { en: 'Invoiced amount', 'zh-CN': '开票金额' },
        kind: 'money',
        value: (r) => r.invoicedAmount,
        total: true,
      },
      {
        key: 'paid',
        header: { en: 'Paid', 'zh-CN': '已回款' },
        kind: 'integer',
        value: (r) => r.paid,
        total: true,
        width: 10,
      },
      {
        key: 'variance',
        header: { en: 'Variance (not shipped)', 'zh-CN': '偏差（未发货）' },
        kind: 'integer',
        value: (r) => r.variance,
        total: true,
      },
      {
        key: 'reasons',
        header: { en: 'Reasons', 'zh-CN': '原因' },
        kind: 'text',
        value: (r) =>
          r.reasons.map((x) => EXECUTION_REASON_LABELS[x][language]).join(language === 'zh-CN' ? '、' : ', '),
        width: 30,
      },
    ],
    currencyOf: (r) => r.currency,
  };
}
