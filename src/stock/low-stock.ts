import { type Conn, dbTime, dialectOf, forUpdate, isoTime, type Tx } from '../db/connection.js';
import { WriteBatch } from '../db/write-batch.js';
import { lowStockDecision } from '../domain/low-stock.js';
import { addToOutbox } from '../outbox/outbox.js';

interface Watched {
  skuId: number;
  /** 0 for the SKU across all warehouses. */
  warehouseId: number;
  available: number;
  reorderPoint: number;
}

/**
 * Looks at these SKUs' available stock against their reorder points (the SKU's own, across all
 * warehouses, and any set per warehouse) and raises one `low_stock` alert for each that has just
 * crossed below; one that has risen back re-arms. The alert is stored and handed to the outbox for
 * delivery. Runs in the caller's transaction (the relay's); safe to run twice or side by side: the
 * state rows are locked.
 */
export async function evaluateLowStock(tx: Tx, skuIds: readonly number[]): Promise<number> {
  const ids = [...new Set(skuIds)].sort((a, b) => a - b);
  if (ids.length === 0) return 0;
  const now = dbTime();
  // Which (SKU, warehouse) pairs are watched: settings, not figures.
  const [skus, perWarehouse] = await Promise.all([
    tx('skus').whereIn('id', ids).whereNotNull('reorder_point').select('id', 'reorder_point'),
    tx('stock_levels').whereIn('sku_id', ids).whereNotNull('reorder_point').select('sku_id', 'warehouse_id'),
  ]);
  const pairs = [
    ...skus.map((s) => ({ skuId: Number(s.id), warehouseId: 0 })),
    ...perWarehouse.map((l) => ({ skuId: Number(l.sku_id), warehouseId: Number(l.warehouse_id) })),
  ].sort((a, b) => a.skuId - b.skuId || a.warehouseId - b.warehouseId);
  if (pairs.length === 0) return 0;
  // Lock first: create-or-lock every state row in one statement, in (sku, warehouse) order; then
  // read the states and the figures, which no other evaluation can change until this commits.
  await tx.raw(
    `INSERT INTO low_stock_state (sku_id, warehouse_id, alerted, updated_at) VALUES ${pairs.map(() => '(?, ?, ?, ?)').join(', ')} ` +
      (dialectOf(tx) === 'mysql'
        ? 'ON DUPLICATE KEY UPDATE sku_id = sku_id'
        : 'ON CONFLICT (sku_id, warehouse_id) DO NOTHING'),
    pairs.flatMap((p) => [p.skuId, p.warehouseId, false, now]),
  );
  const [states, levels] = await Promise.all([
    forUpdate(tx('low_stock_state').whereIn('sku_id', ids), tx).select('sku_id', 'warehouse_id', 'alerted'),
    tx('stock_levels')
      .whereIn('sku_id', ids)
      // Stock in transit between two companies of the group is not available to sell.
      .whereNotIn('warehouse_id', tx('warehouses').where('kind', 'in_transit').select('id'))
      .select('sku_id', 'warehouse_id', 'on_hand', 'reserved', 'reorder_point'),
  ]);
  const watched: Watched[] = [];
  for (const s of skus) {
    const mine = levels.filter((l) => Number(l.sku_id) === Number(s.id));
    const available = mine.reduce((n, l) => n + Number(l.on_hand) - Number(l.reserved), 0);
    watched.push({ skuId: Number(s.id), warehouseId: 0, available, reorderPoint: Number(s.reorder_point) });
  }
  for (const l of levels) {
    if (l.reorder_point === null) continue;
    watched.push({
      skuId: Number(l.sku_id),
      warehouseId: Number(l.warehouse_id),
      available: Number(l.on_hand) - Number(l.reserved),
      reorderPoint: Number(l.reorder_point),
    });
  }
  watched.sort((a, b) => a.skuId - b.skuId || a.warehouseId - b.warehouseId);
  const alertedOf = new Map(states.map((s) => [`${s.sku_id}:${s.warehouse_id}`, Boolean(s.alerted)]));
  const batch = new WriteBatch(tx);
  let raised = 0;
  for (const w of watched) {
    const before = alertedOf.get(`${w.skuId}:${w.warehouseId}`) ?? false;
    const d = lowStockDecision(before, w.available, w.reorderPoint);
    if (d.alerted !== before) {
      batch.add(
        tx('low_stock_state')
          .where({ sku_id: w.skuId, warehouse_id: w.warehouseId })
          .update({ alerted: d.alerted, updated_at: now }),
      );
    }
    if (!d.raise) continue;
    raised++;
    const [alertId] = await tx('stock_alerts').insert({
      kind: 'low_stock',
      sku_id: w.skuId,
      warehouse_id: w.warehouseId === 0 ? null : w.warehouseId,
      available: w.available,
      reorder_point: w.reorderPoint,
      created_at: now,
    });
    addToOutbox(
      batch,
      [{ topic: 'alert.raised', payload: { alertId: Number(alertId), kind: 'low_stock', skuId: w.skuId } }],
      now,
    );
  }
  await batch.flush();
  return raised;
}

export async function listAlerts(
  db: Conn,
  filter: { sku?: string | undefined; limit: number; beforeId: number | null },
) {
  let q = db('stock_alerts as a')
    .join('skus as s', 's.id', 'a.sku_id')
    .leftJoin('warehouses as w', 'w.id', 'a.warehouse_id')
    .select('a.*', 's.code as sku', 'w.code as warehouse');
  if (filter.sku) q = q.where('s.code', filter.sku);
  if (filter.beforeId !== null) q = q.where('a.id', '<', filter.beforeId);
  const rows = await q.orderBy('a.id', 'desc').limit(filter.limit + 1);
  const page = rows.slice(0, filter.limit);
  return {
    items: page.map((r) => ({
      id: Number(r.id),
      kind: r.kind,
      sku: r.sku,
      warehouse: r.warehouse ?? null,
      available: Number(r.available),
      reorderPoint: Number(r.reorder_point),
      at: isoTime(r.created_at),
    })),
    nextId: rows.length > filter.limit ? Number(page[page.length - 1]!.id) : null,
  };
}

/** SKUs whose available stock (all warehouses) is below their reorder point. */
export async function lowSkus(db: Conn) {
  const rows = await db('skus as s')
    .leftJoin('stock_levels as sl', (j) =>
      j
        .on('sl.sku_id', 's.id')
        .andOn(db.raw("sl.warehouse_id NOT IN (SELECT id FROM warehouses WHERE kind = 'in_transit')")),
    )
    .whereNotNull('s.reorder_point')
    .groupBy('s.id', 's.code', 's.reorder_point')
    .select('s.code', 's.reorder_point')
    .sum({ on_hand: 'sl.on_hand', reserved: 'sl.reserved' });
  return (rows as Record<string, unknown>[])
    .map((r) => {
      const onHand = Number(r.on_hand ?? 0);
      const reserved = Number(r.reserved ?? 0);
      return {
        sku: String(r.code),
        onHand,
        reserved,
        available: onHand - reserved,
        reorderPoint: Number(r.reorder_point),
      };
    })
    .filter((r) => r.available < r.reorderPoint)
    .sort((a, b) => (a.sku < b.sku ? -1 : 1));
}

export interface LowStockRow {
  skuId: number;
  sku: string;
  /** Null: the SKU across all warehouses (its own reorder point). */
  warehouse: string | null;
  warehouseId: number;
  available: number;
  reorderPoint: number;
}

/**
 * The (SKU, warehouse) pairs below their reorder point now, as the low-stock watch last saw them
 * (`low_stock_state.alerted`), a page at a time in (SKU, warehouse) order after `after`. Index-backed
 * (`low_stock_state (alerted, sku_id, warehouse_id)`); the figures shown are read for the page's
 * rows only.
 */
export async function listLowStock(
  db: Conn,
  page: { limit: number; after: { id: number; sub: number } | null },
): Promise<{ items: LowStockRow[]; next: { id: number; sub: number } | null }> {
  let q = db('low_stock_state').where('alerted', true);
  const after = page.after;
  if (after)
    q = q.where((w) =>
      w
        .where('sku_id', '>', after.id)
        .orWhere((x) => x.where('sku_id', after.id).where('warehouse_id', '>', after.sub)),
    );
  const states = (await q
    .orderBy([
      { column: 'sku_id', order: 'asc' },
      { column: 'warehouse_id', order: 'asc' },
    ])
    .limit(page.limit + 1)
    .select('sku_id', 'warehouse_id')) as { sku_id: number | string; warehouse_id: number | string }[];
  const shown = states
    .slice(0, page.limit)
    .map((s) => ({ skuId: Number(s.sku_id), warehouseId: Number(s.warehouse_id) }));
  if (shown.length === 0) return { items: [], next: null };
  const skuIds = [...new Set(shown.map((s) => s.skuId))];
  const [skus, levels] = await Promise.all([
    db('skus').whereIn('id', skuIds).select('id', 'code', 'reorder_point'),
    db('stock_levels as sl')
      .join('warehouses as w', 'w.id', 'sl.warehouse_id')
      .whereIn('sl.sku_id', skuIds)
      .whereNot('w.kind', 'in_transit')
      .select('sl.sku_id', 'sl.warehouse_id', 'w.code', 'sl.on_hand', 'sl.reserved', 'sl.reorder_point'),
  ]);
  const skuOf = new Map(skus.map((s) => [Number(s.id), s]));
  const items: LowStockRow[] = [];
  for (const s of shown) {
    const sku = skuOf.get(s.skuId);
    if (!sku) continue;
    const mine = levels.filter((l) => Number(l.sku_id) === s.skuId);
    if (s.warehouseId === 0) {
      if (sku.reorder_point === null) continue;
      items.push({
        skuId: s.skuId,
        sku: String(sku.code),
        warehouse: null,
        warehouseId: 0,
        available: mine.reduce((n, l) => n + Number(l.on_hand) - Number(l.reserved), 0),
        reorderPoint: Number(sku.reorder_point),
      });
    } else {
      const l = mine.find((x) => Number(x.warehouse_id) === s.warehouseId);
      if (!l || l.reorder_point === null) continue;
      items.push({
        skuId: s.skuId,
        sku: String(sku.code),
        warehouse: String(l.code),
        warehouseId: s.warehouseId,
        available: Number(l.on_hand) - Number(l.reserved),
        reorderPoint: Number(l.reorder_point),
      });
    }
  }
  const last = shown[shown.length - 1]!;
  return { items, next: states.length > page.limit ? { id: last.skuId, sub: last.warehouseId } : null };
}

/** How many (SKU, warehouse) pairs are below their reorder point now, counting at most `cap + 1`. */
export async function countLowStock(db: Conn, cap: number): Promise<number> {
  const inner = db('low_stock_state')
    .where('alerted', true)
    .select(db.raw('1 as one'))
    .limit(cap + 1)
    .as('capped');
  const [row] = (await db.from(inner).count({ n: '*' })) as { n: number | string }[];
  return Number(row?.n ?? 0);
}
