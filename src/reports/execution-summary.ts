import type { Conn } from '../db/connection.js';
import {
  EXECUTION_REASON_LABELS,
  type ExecutionFilter,
  type ExecutionReason,
  executionPage,
} from './execution.js';
import type { ReportRange } from './report-range.js';
import type { ReportDefinition } from './report-workbook.js';

/**
 * The execution report added up (README "Reports"): the lines of a period per customer,
 * salesperson, contract or SKU and currency, with the number of lines per reason.
 */

/** What the execution summary groups lines by. */
export type ExecutionBy = 'customer' | 'salesperson' | 'contract' | 'sku';

export const EXECUTION_REASONS = Object.keys(EXECUTION_REASON_LABELS) as ExecutionReason[];

/** The lines of one customer, salesperson, contract or SKU (and currency), added up. */
export interface ExecutionSummaryRow {
  /** The customer's, salesperson's or SKU code, or the contract number; null: none (no customer, ...). */
  code: string | null;
  name: string | null;
  currency: string;
  lines: number;
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
  /** Lines per reason. */
  reasons: Record<ExecutionReason, number>;
}

const FIGURE_KEYS = [
  'ordered',
  'reserved',
  'backordered',
  'shipped',
  'cancelled',
  'returned',
  'invoiced',
  'invoicedAmount',
  'paid',
  'variance',
] as const;

/**
 * Every line of the range and filter added up per customer, salesperson, contract or SKU and
 * currency, in code order (none first). Reads the lines page by page; holds only the groups.
 */
export async function executionSummary(
  db: Conn,
  params: { range: ReportRange; filter: ExecutionFilter; by: ExecutionBy },
): Promise<ExecutionSummaryRow[]> {
  const groups = new Map<string, ExecutionSummaryRow>();
  let before: number | null = null;
  for (;;) {
    const { items, next } = await executionPage(db, params, before, 1000);
    for (const line of items) {
      const who =
        params.by === 'customer'
          ? line.customer
          : params.by === 'salesperson'
            ? line.salesperson
            : params.by === 'contract'
              ? line.contract === null
                ? null
                : { code: line.contract, name: null }
              : { code: line.sku, name: null };
      const code = who?.code ?? null;
      const key = JSON.stringify([code === null ? null : code.toLowerCase(), line.currency]);
      let g = groups.get(key);
      if (!g) {
        g = {
          code,
          name: who?.name ?? null,
          currency: line.currency,
          lines: 0,
          ...Object.fromEntries(FIGURE_KEYS.map((k) => [k, 0])),
          reasons: Object.fromEntries(EXECUTION_REASONS.map((r) => [r, 0])),
        } as ExecutionSummaryRow;
        groups.set(key, g);
      }
      g.lines++;
      for (const k of FIGURE_KEYS) g[k] += line[k];
      for (const r of line.reasons) g.reasons[r]++;
    }
    if (next === null) break;
    before = next;
  }
  const sortKey = (g: ExecutionSummaryRow) => [g.code === null ? '' : `~${g.code.toLowerCase()}`, g.currency];
  return [...groups.values()].sort((a, b) => {
    const [ka, ca] = sortKey(a);
    const [kb, cb] = sortKey(b);
    return ka! < kb! ? -1 : ka! > kb! ? 1 : ca! < cb! ? -1 : ca! > cb! ? 1 : 0;
  });
}

/** The summary's sort key of a row, for its cursor. */
export const summaryKey = (g: ExecutionSummaryRow) => [
  g.code === null ? '' : `~${g.code.toLowerCase()}`,
  g.currency,
];

/** The rows of a summary after `after` (a key from `summaryKey`), `limit` of them. */
export function summaryPage(
  rows: readonly ExecutionSummaryRow[],
  after: readonly (string | number)[] | null,
  limit: number,
): { items: ExecutionSummaryRow[]; next: string[] | null } {
  const start = after
    ? rows.findIndex((r) => {
        const [k, c] = summaryKey(r);
        return k! > String(after[0]) || (k === String(after[0]) && c! > String(after[1]));
      })
    : 0;
  if (start < 0) return { items: [], next: null };
  const items = rows.slice(start, start + limit);
  const more = start + limit < rows.length;
  return { items, next: more ? summaryKey(items.at(-1)!) : null };
}

const BY_LABEL: Record<ExecutionBy, { en: string; 'zh-CN': string }> = {
  customer: { en: 'Customer', 'zh-CN': '客户' },
  salesperson: { en: 'Salesperson', 'zh-CN': '业务员' },
  contract: { en: 'Contract', 'zh-CN': '合同号' },
  sku: { en: 'SKU', 'zh-CN': '货号' },
};

export function executionSummaryDefinition(by: ExecutionBy): ReportDefinition<ExecutionSummaryRow> {
  const int = (
    key: string,
    header: { en: string; 'zh-CN': string },
    value: (r: ExecutionSummaryRow) => number,
  ): ReportDefinition<ExecutionSummaryRow>['columns'][number] => ({
    key,
    header,
    kind: 'integer',
    value,
    total: true,
    width: 10,
  });
  return {
    title: {
      en: `Sales order execution by ${by}`,
      'zh-CN': `销售订单执行偏差（按${BY_LABEL[by]['zh-CN']}）`,
    },
    sheet: { en: 'Execution', 'zh-CN': '执行偏差' },
    columns: [
      { key: 'code', header: BY_LABEL[by], kind: 'text', value: (r) => r.code ?? '' },
      {
        key: 'name',
        header: { en: 'Name', 'zh-CN': '名称' },
        kind: 'text',
        value: (r) => r.name ?? '',
        width: 24,
      },
      {
        key: 'currency',
        header: { en: 'Currency', 'zh-CN': '币种' },
        kind: 'text',
        value: (r) => r.currency,
        width: 8,
      },
      int('lines', { en: 'Lines', 'zh-CN': '行数' }, (r) => r.lines),
      int('ordered', { en: 'Ordered', 'zh-CN': '订购' }, (r) => r.ordered),
      int('reserved', { en: 'Reserved', 'zh-CN': '已占用' }, (r) => r.reserved),
      int('backordered', { en: 'Backordered', 'zh-CN': '缺货待补' }, (r) => r.backordered),
      int('shipped', { en: 'Shipped', 'zh-CN': '已发货' }, (r) => r.shipped),
      int('cancelled', { en: 'Cancelled', 'zh-CN': '已取消' }, (r) => r.cancelled),
      int('returned', { en: 'Returned', 'zh-CN': '已退货' }, (r) => r.returned),
      int('invoiced', { en: 'Invoiced', 'zh-CN': '已开票' }, (r) => r.invoiced),
      {
        key: 'invoicedAmount',
        header: { en: 'Invoiced amount', 'zh-CN': '开票金额' },
        kind: 'money',
        value: (r) => r.invoicedAmount,
        total: true,
      },
      int('paid', { en: 'Paid', 'zh-CN': '已回款' }, (r) => r.paid),
      int('variance', { en: 'Variance (not shipped)', 'zh-CN': '偏差（未发货）' }, (r) => r.variance),
      ...EXECUTION_REASONS.map((reason) =>
        int(
          `reasons.${reason}`,
          {
            en: `Lines ${EXECUTION_REASON_LABELS[reason].en}`,
            'zh-CN': `${EXECUTION_REASON_LABELS[reason]['zh-CN']}行数`,
          },
          (r) => r.reasons[reason],
        ),
      ),
    ],
    currencyOf: (r) => r.currency,
  };
}
