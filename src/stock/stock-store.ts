import { type Conn, dbTime, forUpdate, type Tx } from '../db/connection.js';
import type { WriteBatch } from '../db/write-batch.js';
import { byPriority, type WarehouseStock } from '../domain/allocation.js';

export const STOCK_LEVELS = 'stock_levels';
export const STOCK_MOVEMENTS = 'stock_movements';

/** Why stock moved; stored in the ledger. */
export type MovementReason =
  | 'receipt'
  | 'adjustment'
  | 'reservation'
  | 'release'
  | 'shipment'
  | 'backorder_fill';

export interface StockDelta {
  skuId: number;
  warehouseId: number;
  dOnHand: number;
  dReserved: number;
}

export interface LedgerRef {
  type: string;
  id: string | number;
}

/** Raised when a guarded stock update finds the row would break `0 <= reserved <= on_hand`. */
export class StockGuardError extends Error {
  override name = 'StockGuardError';
  constructor(readonly delta: StockDelta) {
    super(
      `stock change would break 0 <= reserved <= on_hand for sku ${delta.skuId} in warehouse ${delta.warehouseId}`,
    );
  }
}

type Priorities = Map<number, { priority: number; code: string }>;

/**
 * Warehouse priorities, cached per process for a short time: they are read on every reservation
 * and change rarely. A stock row of a warehouse the cache does not know yet forces a reload;
 * this process's own changes clear the cache at once.
 */
const PRIORITY_TTL_MS = 5000;
let priorityCache: { at: number; map: Priorities } | null = null;

export function forgetWarehousePriorities(): void {
  priorityCache = null;
}

export async function warehousePriorities(
  db: Conn,
  mustInclude: readonly number[] = [],
): Promise<Priorities> {
  const fresh = priorityCache && Date.now() - priorityCache.at < PRIORITY_TTL_MS;
  if (fresh && mustInclude.every((id) => priorityCache!.map.has(id))) return priorityCache!.map;
  const rows = await db('warehouses').select('id', 'priority', 'code');
  const map: Priorities = new Map(
    rows.map((r) => [Number(r.id), { priority: Number(r.priority), code: String(r.code) }]),
  );
  priorityCache = { at: Date.now(), map };
  return map;
}

/**
 * Locks the stock rows of these SKUs (all warehouses), always in (sku, warehouse) order so that
 * two transactions never wait on each other crosswise, and returns them grouped by SKU in
 * allocation order.
 */
export async function lockStock(tx: Tx, skuIds: readonly number[]): Promise<Map<number, WarehouseStock[]>> {
  const pool = new Map<number, WarehouseStock[]>();
  if (skuIds.length === 0) return pool;
  const ids = [...new Set(skuIds)].sort((a, b) => a - b);
  const rows = await forUpdate(
    tx(STOCK_LEVELS)
      .select('sku_id', 'warehouse_id', 'on_hand', 'reserved')
      .whereIn('sku_id', ids)
      .orderBy([{ column: 'sku_id' }, { column: 'warehouse_id' }]),
    tx,
  );
  const warehouses = await warehousePriorities(
    tx,
    rows.map((r) => Number(r.warehouse_id)),
  );
  for (const r of rows) {
    const skuId = Number(r.sku_id);
    const w = warehouses.get(Number(r.warehouse_id));
    const list = pool.get(skuId) ?? [];
    list.push({
      warehouseId: Number(r.warehouse_id),
      priority: w?.priority ?? Number.MAX_SAFE_INTEGER,
      code: w?.code ?? '',
      onHand: Number(r.on_hand),
      reserved: Number(r.reserved),
    });
    pool.set(skuId, list);
  }
  for (const [k, v] of pool) pool.set(k, byPriority(v));
  return pool;
}

/** Makes sure a stock row exists for each (sku, warehouse) pair, at zero. */
export async function ensureStockRows(
  tx: Tx,
  pairs: readonly { skuId: number; warehouseId: number }[],
  now = dbTime(),
): Promise<void> {
  if (pairs.length === 0) return;
  await tx(STOCK_LEVELS)
    .insert(
      pairs.map((p) => ({
        sku_id: p.skuId,
        warehouse_id: p.warehouseId,
        on_hand: 0,
        reserved: 0,
        updated_at: now,
      })),
    )
    .onConflict(['sku_id', 'warehouse_id'])
    .ignore();
}

/**
 * Adds stock changes to the batch, each with a guard in the UPDATE itself (so that even a caller
 * that forgot to lock cannot oversell: the batch fails if a row would break the rule), and one
 * ledger row per change. Zero deltas are skipped.
 */
export function applyStockDeltas(
  tx: Tx,
  batch: WriteBatch,
  deltas: readonly StockDelta[],
  reason: MovementReason,
  ref: LedgerRef,
  now = dbTime(),
): void {
  const real = deltas.filter((d) => d.dOnHand !== 0 || d.dReserved !== 0);
  if (real.length === 0) return;
  const sorted = [...real].sort((a, b) => a.skuId - b.skuId || a.warehouseId - b.warehouseId);
  for (const d of sorted) {
    batch.add(
      tx(STOCK_LEVELS)
        .where({ sku_id: d.skuId, warehouse_id: d.warehouseId })
        .andWhereRaw('on_hand + ? >= 0 AND reserved + ? >= 0 AND reserved + ? <= on_hand + ?', [
          d.dOnHand,
          d.dReserved,
          d.dReserved,
          d.dOnHand,
        ])
        .update({
          on_hand: tx.raw('on_hand + ?', [d.dOnHand]),
          reserved: tx.raw('reserved + ?', [d.dReserved]),
          updated_at: now,
        }),
      { affected: 1, error: () => new StockGuardError(d) },
    );
  }
  batch.add(
    tx(STOCK_MOVEMENTS).insert(
      sorted.map((d) => ({
        sku_id: d.skuId,
        warehouse_id: d.warehouseId,
        d_on_hand: d.dOnHand,
        d_reserved: d.dReserved,
        reason,
        ref_type: ref.type,
        ref_id: String(ref.id),
        created_at: now,
      })),
    ),
  );
}
