import type { Conn } from '../db/connection.js';
import { notFound } from '../errors/domain-errors.js';
import { STOCK_LEVELS } from './stock-store.js';

export interface SkuView {
  code: string;
  name: string;
  unitPrice: number;
  currency: string;
  /** Below this many available units (all warehouses) a low-stock alert is raised; null: none. */
  reorderPoint: number | null;
}

const toSku = (r: Record<string, unknown>): SkuView => ({
  code: String(r.code),
  name: String(r.name),
  unitPrice: Number(r.unit_price),
  currency: String(r.currency),
  reorderPoint: r.reorder_point === null || r.reorder_point === undefined ? null : Number(r.reorder_point),
});

/** One SKU, with its tax class (README "Order money and tax") and what it costs us (README "Reports"). */
export async function skuDetail(
  db: Conn,
  code: string,
): Promise<SkuView & { taxClass: string; unitCost: { amount: number; currency: string } | null }> {
  const row = await db('skus').where({ code }).first();
  if (!row) throw notFound(`SKU ${code}`);
  const unitCost =
    row.unit_cost === null || row.unit_cost === undefined
      ? null
      : { amount: Number(row.unit_cost), currency: String(row.cost_currency) };
  return { ...toSku(row), taxClass: String(row.tax_class), unitCost };
}

export interface WarehouseView {
  code: string;
  name: string;
  priority: number;
  company: string | null;
  /** `in_transit`: stock between two companies of the group, never sold (README "Intra-group transfers"). */
  kind: string;
}

/** Every warehouse, by priority (a short list: the catalogue's SKUs are many, its warehouses few). */
export async function listWarehouses(db: Conn): Promise<WarehouseView[]> {
  const rows = await db('warehouses as w')
    .leftJoin('companies as co', 'co.id', 'w.company_id')
    .orderBy([{ column: 'w.priority' }, { column: 'w.code' }])
    .select('w.code', 'w.name', 'w.priority', 'w.kind', 'co.code as company');
  return rows.map((r) => ({
    code: String(r.code),
    name: String(r.name),
    priority: Number(r.priority),
    company: r.company ?? null,
    kind: String(r.kind),
  }));
}

/** `text` as a LIKE pattern that matches it anywhere, its own `%`, `_` and `!` taken literally. */
const containsPattern = (text: string) => `%${text.toLowerCase().replace(/[!%_]/g, (ch) => `!${ch}`)}%`;

export interface SkuListFilter {
  /** Part of the code or the name, in any case. */
  q?: string | undefined;
  limit: number;
}

/** Newest first, by id: a stable order, so that pages neither skip nor repeat while SKUs are added. */
export async function listSkus(db: Conn, filter: SkuListFilter, beforeId: number | null) {
  let q = db('skus').select('id', 'code', 'name', 'unit_price', 'currency', 'reorder_point');
  if (filter.q) {
    const pattern = containsPattern(filter.q);
    q = q.where((w) =>
      w
        .whereRaw("LOWER(code) LIKE ? ESCAPE '!'", [pattern])
        .orWhereRaw("LOWER(name) LIKE ? ESCAPE '!'", [pattern]),
    );
  }
  if (beforeId !== null) q = q.where('id', '<', beforeId);
  const rows = await q.orderBy('id', 'desc').limit(filter.limit + 1);
  const page = rows.slice(0, filter.limit);
  const last = page[page.length - 1];
  return { items: page.map(toSku), nextId: rows.length > filter.limit && last ? Number(last.id) : null };
}

export interface StockListFilter {
  sku?: string | undefined;
  warehouse?: string | undefined;
  /** Part of the SKU's code or name, in any case (the console's search). */
  q?: string | undefined;
  limit: number;
}

/**
 * One item per SKU and warehouse that has a stock row, newest SKU first, then by warehouse id
 * (both descending): a stable order for paging by the pair.
 */
export async function listStockLevels(
  db: Conn,
  filter: StockListFilter,
  before: { id: number; sub: number } | null,
) {
  let q = db(`${STOCK_LEVELS} as sl`)
    .join('skus as s', 's.id', 'sl.sku_id')
    .join('warehouses as w', 'w.id', 'sl.warehouse_id')
    .select(
      'sl.sku_id',
      'sl.warehouse_id',
      's.code as sku',
      'w.code as warehouse',
      'sl.on_hand',
      'sl.reserved',
      'sl.reorder_point',
    );
  if (filter.sku) q = q.where('s.code', filter.sku);
  if (filter.warehouse) q = q.where('w.code', filter.warehouse);
  if (filter.q) {
    const pattern = containsPattern(filter.q);
    q = q.where((w) =>
      w
        .whereRaw("LOWER(s.code) LIKE ? ESCAPE '!'", [pattern])
        .orWhereRaw("LOWER(s.name) LIKE ? ESCAPE '!'", [pattern]),
    );
  }
  if (before) {
    q = q.where((w) =>
      w
        .where('sl.sku_id', '<', before.id)
        .orWhere((same) => same.where('sl.sku_id', before.id).where('sl.warehouse_id', '<', before.sub)),
    );
  }
  const rows = await q
    .orderBy([
      { column: 'sl.sku_id', order: 'desc' },
      { column: 'sl.warehouse_id', order: 'desc' },
    ])
    .limit(filter.limit + 1);
  const page = rows.slice(0, filter.limit);
  const items = page.map((r) => ({
    sku: String(r.sku),
    warehouse: String(r.warehouse),
    onHand: Number(r.on_hand),
    reserved: Number(r.reserved),
    available: Number(r.on_hand) - Number(r.reserved),
    reorderPoint: r.reorder_point === null ? null : Number(r.reorder_point),
  }));
  const last = page[page.length - 1];
  const next =
    rows.length > filter.limit && last ? { id: Number(last.sku_id), sub: Number(last.warehouse_id) } : null;
  return { items, next };
}
