import { type Conn, dbTime, dialectOf, lockClause, rawRows, type Tx } from '../db/connection.js';
import { placeholders, type WriteBatch } from '../db/write-batch.js';
import { byPriority, type WarehouseStock } from '../domain/allocation.js';

export const STOCK_LEVELS = 'stock_levels';

/** Why stock moved; stored in the ledger. */
export type MovementReason =
  | 'receipt'
  | 'adjustment'
  | 'reservation'
  | 'release'
  | 'shipment'
  | 'transfer'
  | 'backorder_fill'
  | 'return';

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

/** Raised for a stock change to a row the transaction does not hold locked (callers lock or create rows first). */
export class StockGuardError extends Error {
  override name = 'StockGuardError';
  constructor(readonly delta: StockDelta) {
    super(
      `stock change would break 0 <= reserved <= on_hand for sku ${delta.skuId} in warehouse ${delta.warehouseId}`,
    );
  }
}

type Priorities = Map<number, { priority: number; code: string; inTransit: boolean }>;

/** `warehouses.kind` of the in-transit locations (stock between two companies of the group: never sold). */
export const IN_TRANSIT = 'in_transit';

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
  const rows = await db('warehouses').select('id', 'priority', 'code', 'kind');
  const map: Priorities = new Map(
    rows.map((r) => [
      Number(r.id),
      { priority: Number(r.priority), code: String(r.code), inTransit: r.kind === IN_TRANSIT },
    ]),
  );
  priorityCache = { at: Date.now(), map };
  return map;
}

/**
 * Stock rows (`sku_id, warehouse_id, on_hand, reserved`) grouped by SKU, in allocation order.
 * `sellable`: without the rows of in-transit locations (what orders may be allocated from).
 */
async function stockPool(
  db: Conn,
  rows: readonly Record<string, unknown>[],
  sellable = false,
): Promise<Map<number, WarehouseStock[]>> {
  const pool = new Map<number, WarehouseStock[]>();
  if (rows.length === 0) return pool;
  const warehouses = await warehousePriorities(
    db,
    rows.map((r) => Number(r.warehouse_id)),
  );
  for (const r of rows) {
    const skuId = Number(r.sku_id);
    const w = warehouses.get(Number(r.warehouse_id));
    if (sellable && w?.inTransit) continue;
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

/**
 * Locks the stock rows of these SKUs (all warehouses), always in (sku, warehouse) order so that
 * two transactions never wait on each other crosswise, and returns them grouped by SKU in
 * allocation order — without the rows of in-transit locations, which are locked too but never
 * allocated to orders (their stock belongs to no order until it is received).
 */
export async function lockStock(tx: Tx, skuIds: readonly number[]): Promise<LockedStock> {
  return readStock(tx, skuIds, true);
}

/**
 * The sellable stock rows of these SKUs as `lockStock` returns them, read with a lock (`lock`) or
 * without one (a quote: what processing would see now, holding nothing).
 */
export async function readStock(db: Conn, skuIds: readonly number[], lock: boolean): Promise<LockedStock> {
  if (skuIds.length === 0) return new Map();
  const statement = stockStatement(db, skuIds, lock);
  const [rows = []] = await rawRows(db, statement.sql, statement.bindings);
  return statement.pool(rows);
}

/**
 * `lockStock`'s statement on its own, to be sent with other statements in one round trip (after
 * every lock that comes before stock rows in the lock order), and what to make of its rows.
 */
export function stockStatement(
  db: Conn,
  skuIds: readonly number[],
  lock = true,
): { sql: string; bindings: number[]; pool(rows: readonly Record<string, unknown>[]): Promise<LockedStock> } {
  const ids = [...new Set(skuIds)].sort((a, b) => a - b);
  return {
    sql:
      `SELECT sku_id, warehouse_id, on_hand, reserved FROM stock_levels WHERE sku_id IN (${ids.map(() => '?').join(', ')}) ` +
      `ORDER BY sku_id, warehouse_id${lock ? lockClause(db) : ''}`,
    bindings: ids,
    pool: (rows) => stockPool(db, rows, true),
  };
}

/** The stock rows a transaction holds locked, grouped by SKU in allocation order. */
export type LockedStock = Map<number, WarehouseStock[]>;

/**
 * Creates (at zero) and locks the stock rows of these (sku, warehouse) pairs, in (sku, warehouse)
 * order, and returns them. One statement creates and locks each row (`INSERT … ON DUPLICATE KEY
 * UPDATE` takes the row's exclusive lock whether it inserts or finds it), so two writers never
 * both hold a shared lock and wait to upgrade it: concurrent receipts of one SKU queue up instead
 * of deadlocking. Locks only the pairs named, not the SKU's other warehouses.
 */
export async function createAndLockStock(
  tx: Tx,
  pairs: readonly { skuId: number; warehouseId: number }[],
  now = dbTime(),
): Promise<LockedStock> {
  const unique = new Map(pairs.map((p) => [`${p.skuId}:${p.warehouseId}`, p]));
  const sorted = [...unique.values()].sort((a, b) => a.skuId - b.skuId || a.warehouseId - b.warehouseId);
  if (sorted.length === 0) return new Map();
  const upsert =
    dialectOf(tx) === 'mysql'
      ? 'ON DUPLICATE KEY UPDATE sku_id = sku_id'
      : 'ON CONFLICT (sku_id, warehouse_id) DO NOTHING';
  // The rows are inserted (or found and locked) in the order of VALUES: (sku, warehouse) ascending.
  await tx.raw(
    `INSERT INTO stock_levels (sku_id, warehouse_id, on_hand, reserved, updated_at) VALUES ${sorted.map(() => '(?, ?, 0, 0, ?)').join(', ')} ${upsert}`,
    sorted.flatMap((p) => [p.skuId, p.warehouseId, now]),
  );
  const where = sorted.map(() => '(sku_id = ? AND warehouse_id = ?)').join(' OR ');
  const [locked = []] = await rawRows(
    tx,
    `SELECT sku_id, warehouse_id, on_hand, reserved FROM stock_levels WHERE ${where} ORDER BY sku_id, warehouse_id${lockClause(tx)}`,
    sorted.flatMap((p) => [p.skuId, p.warehouseId]),
  );
  return stockPool(tx, locked);
}

/**
 * Adds stock changes to the batch with one ledger row each, for rows this transaction holds
 * locked (`locked`, from `lockStock` or `createAndLockStock`): a change to a row it does not hold
 * is a programming error, refused before anything is written. The database guards the rule
 * itself: the `stock_levels_no_oversell` CHECK constraint (0 <= reserved <= on_hand, on_hand >= 0)
 * fails any statement that would break it, for every writer, and the whole transaction rolls back.
 * Zero deltas are skipped.
 */
export function applyStockDeltas(
  batch: WriteBatch,
  locked: LockedStock,
  deltas: readonly StockDelta[],
  reason: MovementReason,
  ref: LedgerRef,
  now = dbTime(),
): void {
  const real = deltas.filter((d) => d.dOnHand !== 0 || d.dReserved !== 0);
  if (real.length === 0) return;
  for (const d of real) {
    if (!locked.get(d.skuId)?.some((w) => w.warehouseId === d.warehouseId)) throw new StockGuardError(d);
  }
  const sorted = [...real].sort((a, b) => a.skuId - b.skuId || a.warehouseId - b.warehouseId);
  for (const d of sorted) {
    batch.addSql(
      'UPDATE stock_levels SET on_hand = on_hand + ?, reserved = reserved + ?, updated_at = ? WHERE sku_id = ? AND warehouse_id = ?',
      [d.dOnHand, d.dReserved, now, d.skuId, d.warehouseId],
    );
  }
  const values: unknown[] = [];
  for (const d of sorted)
    values.push(d.skuId, d.warehouseId, d.dOnHand, d.dReserved, reason, ref.type, String(ref.id), now);
  batch.addSql(
    `INSERT INTO stock_movements (sku_id, warehouse_id, d_on_hand, d_reserved, reason, ref_type, ref_id, created_at) VALUES ${placeholders(sorted.length, 8)}`,
    values,
  );
}

/** Adds up deltas of the same (sku, warehouse). */
export function mergeDeltas(deltas: readonly StockDelta[]): StockDelta[] {
  const merged = new Map<string, StockDelta>();
  for (const d of deltas) {
    const key = `${d.skuId}:${d.warehouseId}`;
    const m = merged.get(key) ?? { ...d, dOnHand: 0, dReserved: 0 };
    m.dOnHand += d.dOnHand;
    m.dReserved += d.dReserved;
    merged.set(key, m);
  }
  return [...merged.values()];
}
