import { type Conn, dialectOf } from '../db/connection.js';
import { keyAfter, type ReportKey } from './report-cursor.js';
import { num, selectRows } from './report-sql.js';
import type { ReportDefinition } from './report-workbook.js';

/**
 * Slow movers and overstock (呆滞与积压库存): per SKU and warehouse, the stock on hand at the end of
 * the `asOf` business date (today's stock less the ledger rows after it), the units shipped in the
 * 30 and 90 days up to then, the days of cover at each rate (on hand ÷ daily sales, whole days;
 * null when nothing sold), the last shipment and the last movement of any kind (a ledger row that
 * changed on hand), and the value at the SKU's cost (null when its cost is not known).
 *
 * Flags: `not_moved` when nothing of it shipped in the last `days` days; `overstock` when its cover
 * at the 90-day rate is more than `coverDays` days (or it has stock and sold nothing in 90 days).
 * Only rows with stock on hand are listed, and of those only flagged ones unless `all` is asked.
 */

export type SlowMoverFlag = 'not_moved' | 'overstock';

export interface SlowMoverParams {
  /** The end of `asOf`, as stored. */
  asOfEnd: string;
  asOf: string;
  /** Stored-time starts of the 30- and 90-day windows and of the `days` window. */
  since30: string;
  since90: string;
  sinceDays: string;
  days: number;
  coverDays: number;
  all: boolean;
}

export interface SlowMoverRow {
  sku: string;
  name: string;
  warehouse: string;
  onHand: number;
  reserved: number;
  sold30: number;
  sold90: number;
  coverDays30: number | null;
  coverDays90: number | null;
  lastShippedAt: string | null;
  lastMovedAt: string | null;
  daysSinceShipped: number | null;
  unitCost: number | null;
  costCurrency: string | null;
  valueAtCost: number | null;
  flags: SlowMoverFlag[];
}

export const SLOW_MOVER_KEY_SHAPE: ('string' | 'number')[] = ['number', 'number'];

const iso = (v: unknown) => {
  if (v === null || v === undefined) return null;
  const s = String(v);
  return `${s.replace(' ', 'T')}${s.includes('.') ? '' : '.000'}Z`;
};

/** Whole days of cover: on hand ÷ (sold ÷ window), rounded down; null when nothing sold. */
export const coverDays = (onHand: number, sold: number, window: number) =>
  sold <= 0 ? null : Math.floor((onHand * window) / sold);

/** Stock rows read per round trip while a page is filled. */
const CHUNK = 500;

/**
 * One page, by SKU id then warehouse id. The stock rows are read in key order a chunk at a time
 * (their ledger figures computed for those rows only) and tested here, until the page is full: a
 * page costs the rows it looks at, however large the catalogue.
 */
export async function slowMoversPage(
  db: Conn,
  p: SlowMoverParams,
  after: ReportKey | null,
  limit: number,
  chunkSize = CHUNK,
): Promise<{ items: SlowMoverRow[]; next: ReportKey | null }> {
  const items: SlowMoverRow[] = [];
  const keys: ReportKey[] = [];
  let scanFrom = after;
  for (;;) {
    const chunk = await stockChunk(db, p, scanFrom, chunkSize);
    for (const { key, row } of chunk) {
      if (row.onHand <= 0 || (!p.all && row.flags.length === 0)) continue;
      // One more row to list: the page is full and there is a next one, after its last row.
      if (items.length === limit) return { items, next: keys.at(-1)! };
      items.push(row);
      keys.push(key);
    }
    if (chunk.length < chunkSize) return { items, next: null };
    scanFrom = chunk.at(-1)!.key;
  }
}

async function stockChunk(
  db: Conn,
  p: SlowMoverParams,
  after: ReportKey | null,
  size: number,
): Promise<{ key: ReportKey; row: SlowMoverRow }[]> {
  const cursor = after ? keyAfter(['l.sku_id', 'l.warehouse_id'], after) : { sql: '1 = 1', bindings: [] };
  const ledger = 'm.sku_id = l.sku_id AND m.warehouse_id = l.warehouse_id';
  // MySQL: the stock rows first, in key order, so that LIMIT stops the scan (and the ledger
  // subqueries run for those rows only).
  const straight = dialectOf(db) === 'mysql' ? 'STRAIGHT_JOIN ' : '';
  const rows = await selectRows(
    db,
    `SELECT ${straight}l.sku_id, l.warehouse_id, s.code AS sku, s.name, w.code AS warehouse, l.reserved,
       s.unit_cost, s.cost_currency,
       l.on_hand - COALESCE((SELECT SUM(m.d_on_hand) FROM stock_movements m WHERE ${ledger} AND m.created_at >= ?), 0) AS on_hand_then,
       COALESCE((SELECT SUM(-m.d_on_hand) FROM stock_movements m WHERE ${ledger} AND m.reason = 'shipment' AND m.created_at >= ? AND m.created_at < ?), 0) AS sold30,
       COALESCE((SELECT SUM(-m.d_on_hand) FROM stock_movements m WHERE ${ledger} AND m.reason = 'shipment' AND m.created_at >= ? AND m.created_at < ?), 0) AS sold90,
       (SELECT MAX(m.created_at) FROM stock_movements m WHERE ${ledger} AND m.reason = 'shipment' AND m.created_at < ?) AS last_shipped,
       (SELECT MAX(m.created_at) FROM stock_movements m WHERE ${ledger} AND m.d_on_hand <> 0 AND m.created_at < ?) AS last_moved
     FROM stock_levels l JOIN skus s ON s.id = l.sku_id JOIN warehouses w ON w.id = l.warehouse_id
     WHERE w.kind <> 'in_transit' AND ${cursor.sql}
     ORDER BY l.sku_id, l.warehouse_id LIMIT ?`,
    [p.asOfEnd, p.since30, p.asOfEnd, p.since90, p.asOfEnd, p.asOfEnd, p.asOfEnd, ...cursor.bindings, size],
  );
  const asOfTime = Date.parse(`${p.asOfEnd.replace(' ', 'T')}Z`);
  return rows.map((r) => {
    const onHand = num(r.on_hand_then);
    const sold30 = num(r.sold30);
    const sold90 = num(r.sold90);
    const lastShippedAt = iso(r.last_shipped);
    const flags: SlowMoverFlag[] = [];
    if (r.last_shipped === null || String(r.last_shipped) < p.sinceDays) flags.push('not_moved');
    if (sold90 === 0 || onHand * 90 > p.coverDays * sold90) flags.push('overstock');
    const unitCost = r.unit_cost === null || r.unit_cost === undefined ? null : num(r.unit_cost);
    const key: ReportKey = [Number(r.sku_id), Number(r.warehouse_id)];
    const row: SlowMoverRow = {
      sku: String(r.sku),
      name: String(r.name),
      warehouse: String(r.warehouse),
      onHand,
      reserved: num(r.reserved),
      sold30,
      sold90,
      coverDays30: coverDays(onHand, sold30, 30),
      coverDays90: coverDays(onHand, sold90, 90),
      lastShippedAt,
      lastMovedAt: iso(r.last_moved),
      daysSinceShipped:
        lastShippedAt === null ? null : Math.floor((asOfTime - Date.parse(lastShippedAt)) / 86_400_000),
      unitCost,
      costCurrency: unitCost === null ? null : String(r.cost_currency),
      valueAtCost: unitCost === null ? null : unitCost * onHand,
      flags,
    };
    return { key, row };
  });
}

export const SLOW_MOVER_FLAG_LABELS: Record<SlowMoverFlag, { en: string; 'zh-CN': string }> = {
  not_moved: { en: 'not moved', 'zh-CN': '呆滞' },
  overstock: { en: 'overstock', 'zh-CN': '积压' },
};

export function slowMoversDefinition(language: 'zh-CN' | 'en'): ReportDefinition<SlowMoverRow> {
  return {
    title: { en: 'Slow movers and overstock', 'zh-CN': '呆滞与积压库存' },
    sheet: { en: 'Slow movers', 'zh-CN': '呆滞库存' },
    columns: [
      { key: 'sku', header: { en: 'SKU', 'zh-CN': '货号' }, kind: 'text', value: (r) => r.sku },
      { key: 'name', header: { en: 'Name', 'zh-CN': '品名' }, kind: 'text', value: (r) => r.name, width: 26 },
      {
        key: 'warehouse',
        header: { en: 'Warehouse', 'zh-CN': '仓库' },
        kind: 'text',
        value: (r) => r.warehouse,
        width: 12,
      },
      {
        key: 'onHand',
        header: { en: 'On hand', 'zh-CN': '在库' },
        kind: 'integer',
        value: (r) => r.onHand,
        total: true,
        width: 10,
      },
      {
        key: 'reserved',
        header: { en: 'Reserved (now)', 'zh-CN': '已占用（当前）' },
        kind: 'integer',
        value: (r) => r.reserved,
        total: true,
        width: 10,
      },
      {
        key: 'sold30',
        header: { en: 'Shipped, 30 days', 'zh-CN': '近30天出库' },
        kind: 'integer',
        value: (r) => r.sold30,
        total: true,
      },
      {
        key: 'sold90',
        header: { en: 'Shipped, 90 days', 'zh-CN': '近90天出库' },
        kind: 'integer',
        value: (r) => r.sold90,
        total: true,
      },
      {
        key: 'coverDays30',
        header: { en: 'Days of cover (30-day rate)', 'zh-CN': '可售天数（30天）' },
        kind: 'integer',
        value: (r) => r.coverDays30,
      },
      {
        key: 'coverDays90',
        header: { en: 'Days of cover (90-day rate)', 'zh-CN': '可售天数（90天）' },
        kind: 'integer',
        value: (r) => r.coverDays90,
      },
      {
        key: 'lastShippedAt',
        header: { en: 'Last shipped (UTC)', 'zh-CN': '最近出库 (UTC)' },
        kind: 'date',
        value: (r) => r.lastShippedAt?.slice(0, 10) ?? '',
      },
      {
        key: 'daysSinceShipped',
        header: { en: 'Days since shipped', 'zh-CN': '未出库天数' },
        kind: 'integer',
        value: (r) => r.daysSinceShipped,
      },
      {
        key: 'lastMovedAt',
        header: { en: 'Last movement (UTC)', 'zh-CN': '最近变动 (UTC)' },
        kind: 'date',
        value: (r) => r.lastMovedAt?.slice(0, 10) ?? '',
      },
      {
        key: 'costCurrency',
        header: { en: 'Cost currency', 'zh-CN': '成本币种' },
        kind: 'text',
        value: (r) => r.costCurrency ?? '',
        width: 8,
      },
      {
        key: 'unitCost',
        header: { en: 'Unit cost', 'zh-CN': '单位成本' },
        kind: 'money',
        value: (r) => r.unitCost,
      },
      {
        key: 'valueAtCost',
        header: { en: 'Value at cost', 'zh-CN': '成本金额' },
        kind: 'money',
        value: (r) => r.valueAtCost,
        total: true,
      },
      {
        key: 'flags',
        header: { en: 'Flags', 'zh-CN': '标记' },
        kind: 'text',
        value: (r) =>
          r.flags.map((f) => SLOW_MOVER_FLAG_LABELS[f][language]).join(language === 'zh-CN' ? '、' : ', '),
      },
    ],
    currencyOf: (r) => r.costCurrency,
  };
}
