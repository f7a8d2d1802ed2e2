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
 *
 * Every step is index-backed, so a page costs the same with a large catalogue: the stock rows are
 * read by their primary key (sku, warehouse) from the cursor down, the codes looked up by id. With
 * `q` the rows are joined to their SKUs and filtered by code or name in the same single query.
 */
export async function listStockLevels(
  db: Conn,
  filter: StockListFilter,
  before: { id: number; sub: number } | null,
) {
  const none = { items: [] as StockLevelView[], next: null };
  let warehouseId: number | null = null;
  if (filter.warehouse) {
    const w = await db('warehouses').where({ code: filter.warehouse }).first('id');
    if (!w) return none;
    warehouseId = Number(w.id);
  }
  let skuId: number | null = null;
  if (filter.sku) {
    const found = await db('skus').where({ code: filter.sku }).first('id');
    if (!found) return none;
    skuId = Number(found.id);
  }
  // Stock rows below the cursor, in page order, at most one more than a page: one query. With `q`
  // the rows are joined to their SKU and kept when its code or name contains `q` (still one query
  // walking the stock rows' primary key down, stopping at the page's end).
  const want = filter.limit + 1;
  let q = db(`${STOCK_LEVELS} as sl`).select(
    'sl.sku_id',
    'sl.warehouse_id',
    'sl.on_hand',
    'sl.reserved',
    'sl.reorder_point',
  );
  if (filter.q) {
    const pattern = containsPattern(filter.q);
    q = q
      .join('skus as s', 's.id', 'sl.sku_id')
      .where((w) =>
        w
          .whereRaw("LOWER(s.code) LIKE ? ESCAPE '!'", [pattern])
          .orWhereRaw("LOWER(s.name) LIKE ? ESCAPE '!'", [pattern]),
      );
  }
  if (skuId !== null) q = q.where('sl.sku_id', skuId);
  if (warehouseId !== null) q = q.where('sl.warehouse_id', warehouseId);
  if (before) {
    const from = before;
    q = q.where((w) =>
      w
        .where('sl.sku_id', '<', from.id)
        .orWhere((same) => same.where('sl.sku_id', from.id).where('sl.warehouse_id', '<', from.sub)),
    );
  }
  const rows: Record<string, unknown>[] = await q
    .orderBy([
      { column: 'sl.sku_id', order: 'desc' },
      { column: 'sl.warehouse_id', order: 'desc' },
    ])
    .limit(want);
  const page = rows.slice(0, filter.limit);
  const skuIds = [...new Set(page.map((r) => Number(r.sku_id)))];
  const warehouseIds = [...new Set(page.map((r) => Number(r.warehouse_id)))];
  const [skus, warehouses] = await Promise.all([
    skuIds.length ? db('skus').whereIn('id', skuIds).select('id', 'code') : [],
    warehouseIds.length ? db('warehouses').whereIn('id', warehouseIds).select('id', 'code') : [],
  ]);
  const skuCode = new Map(skus.map((r) => [Number(r.id), String(r.code)]));
  const warehouseCode = new Map(warehouses.map((r) => [Number(r.id), String(r.code)]));
  const items = page.map(
    (r): StockLevelView => ({
      sku: skuCode.get(Number(r.sku_id)) ?? String(r.sku_id),
      warehouse: warehouseCode.get(Number(r.warehouse_id)) ?? String(r.warehouse_id),
      onHand: Number(r.on_hand),
      reserved: Number(r.reserved),
      available: Number(r.on_hand) - Number(r.reserved),
      reorderPoint: r.reorder_point === null ? null : Number(r.reorder_point),
    }),
  );
  const last = page[page.length - 1];
  const next =
    rows.length > filter.limit && last ? { id: Number(last.sku_id), sub: Number(last.warehouse_id) } : null;
  return { items, next };
}

export interface StockLevelView {
  sku: string;
  warehouse: string;
  onHand: number;
  reserved: number;
  available: number;
  reorderPoint: number | null;
}
