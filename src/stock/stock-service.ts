import { createHash } from 'node:crypto';
import { type Conn, type Db, dbTime, forUpdate, type Tx } from '../db/connection.js';
import { isDuplicateKeyError, withTransaction } from '../db/retry.js';
import { WriteBatch } from '../db/write-batch.js';
import { codeKey } from '../domain/codes.js';
import { LIMITS } from '../domain/order-input.js';
import { conflict, notFound, unprocessable } from '../errors/domain-errors.js';
import { fillBackorders } from '../orders/backorders.js';
import { addToOutbox } from '../outbox/outbox.js';
import { companyIdOf } from './companies.js';
import {
  applyStockDeltas,
  createAndLockStock,
  forgetWarehousePriorities,
  IN_TRANSIT,
  STOCK_LEVELS,
  type StockDelta,
} from './stock-store.js';

export interface WarehouseInput {
  name: string;
  priority: number;
  /** Code of the company that owns the warehouse; null: none; omitted: unchanged. */
  company?: string | null | undefined;
}

export async function upsertWarehouse(
  db: Db,
  code: string,
  input: WarehouseInput,
): Promise<{ created: boolean; code: string }> {
  const now = dbTime();
  return withTransaction(db, async (tx) => {
    const owner =
      input.company === undefined
        ? {}
        : { company_id: input.company === null ? null : await companyIdOf(tx, input.company) };
    const existing = await tx('warehouses').where({ code }).first('id', 'code');
    if (existing) {
      await tx('warehouses')
        .where({ id: existing.id })
        .update({ name: input.name, priority: input.priority, ...owner, updated_at: now });
      forgetWarehousePriorities();
      // A code keeps the spelling it was created with (`main` updates `MAIN`).
      return { created: false, code: String(existing.code) };
    }
    await tx('warehouses').insert({
      code,
      name: input.name,
      priority: input.priority,
      ...owner,
      created_at: now,
      updated_at: now,
    });
    forgetWarehousePriorities();
    return { created: true, code };
  });
}

export interface SkuInput {
  name: string;
  unitPrice: number;
  currency: string;
  /** Below this many available units (all warehouses) a low-stock alert is raised; null: none. Omitted: unchanged. */
  reorderPoint?: number | null | undefined;
  /** The tax class its tax rate is found by (README "Order money and tax"). Omitted: unchanged (new SKUs: `standard`). */
  taxClass?: string | undefined;
  /** What one unit costs us (README "Reports": value at cost); null: not known. Omitted: unchanged. */
  unitCost?: { amount: number; currency: string } | null | undefined;
}

export async function upsertSku(
  db: Db,
  code: string,
  input: SkuInput,
): Promise<{ created: boolean; code: string }> {
  const now = dbTime();
  return withTransaction(db, async (tx) => {
    const row = skuRow(input, now);
    const existing = await tx('skus').where({ code }).first('id', 'code');
    if (existing) {
      await tx('skus').where({ id: existing.id }).update(row);
      return { created: false, code: String(existing.code) };
    }
    await tx('skus').insert({ code, ...row, created_at: now });
    return { created: true, code };
  });
}

export type SkuUpsertOutcome = 'created' | 'updated' | 'unchanged';

/**
 * Creates or updates many SKUs in one transaction: all of them or (on any error) none. Locks first:
 * the existing rows of these codes, in code order, then compares and writes only what differs, so
 * the same list sent again changes nothing and says `unchanged` for each. A code must appear once.
 */
export async function upsertSkus(
  db: Db,
  items: readonly (SkuInput & { code: string })[],
): Promise<SkuUpsertOutcome[]> {
  if (items.length === 0) return [];
  const codes = [...new Set(items.map((i) => i.code))].sort();
  if (new Set(codes.map(codeKey)).size !== items.length)
    throw new RangeError('upsertSkus: a code appears more than once');
  const attempt = () => withTransaction(db, (tx) => upsertSkusLocked(tx, items, codes));
  try {
    return await attempt();
  } catch (err) {
    // Another writer created one of the new codes between our locking read and our insert: the row
    // exists now, so the second attempt finds and locks it.
    if (!isDuplicateKeyError(err)) throw err;
    return attempt();
  }
}

async function upsertSkusLocked(
  tx: Tx,
  items: readonly (SkuInput & { code: string })[],
  codes: readonly string[],
): Promise<SkuUpsertOutcome[]> {
  const now = dbTime();
  const existing = new Map<string, Record<string, unknown>>();
  for (const part of chunks(codes, 500)) {
    const rows = await forUpdate(
      tx('skus')
        .whereIn('code', part)
        .orderBy('code')
        .select(
          'code',
          'name',
          'unit_price',
          'currency',
          'reorder_point',
          'tax_class',
          'unit_cost',
          'cost_currency',
        ),
      tx,
    );
    for (const r of rows) existing.set(codeKey(String(r.code)), r);
  }
  const inserts: Record<string, unknown>[] = [];
  const outcomes = items.map((item): SkuUpsertOutcome => {
    const row = skuRow(item, now);
    const old = existing.get(codeKey(item.code));
    if (!old) {
      inserts.push({ code: item.code, ...row, reorder_point: item.reorderPoint ?? null, created_at: now });
      return 'created';
    }
    return sameSku(old, item) ? 'unchanged' : 'updated';
  });
  for (const part of chunks(inserts, 200)) await tx('skus').insert(part);
  for (const [i, item] of items.entries()) {
    if (outcomes[i] === 'updated') await tx('skus').where({ code: item.code }).update(skuRow(item, now));
  }
  return outcomes;
}

function skuRow(input: SkuInput, now: string): Record<string, unknown> {
  const row: Record<string, unknown> = {
    name: input.name,
    unit_price: input.unitPrice,
    currency: input.currency,
    updated_at: now,
  };
  if (input.reorderPoint !== undefined) row.reorder_point = input.reorderPoint;
  if (input.taxClass !== undefined) row.tax_class = input.taxClass;
  if (input.unitCost !== undefined) {
    row.unit_cost = input.unitCost?.amount ?? null;
    row.cost_currency = input.unitCost?.currency ?? null;
  }
  return row;
}

/** Whether a stored SKU row already says what `input` says (an omitted reorder point is no change). */
function sameSku(row: Record<string, unknown>, input: SkuInput): boolean {
  const storedReorder = row.reorder_point === null ? null : Number(row.reorder_point);
  return (
    row.name === input.name &&
    Number(row.unit_price) === input.unitPrice &&
    row.currency === input.currency &&
    (input.reorderPoint === undefined || storedReorder === input.reorderPoint) &&
    (input.taxClass === undefined || codeKey(String(row.tax_class)) === codeKey(input.taxClass)) &&
    (input.unitCost === undefined ||
      (input.unitCost === null
        ? row.unit_cost === null
        : row.unit_cost !== null &&
          Number(row.unit_cost) === input.unitCost.amount &&
          row.cost_currency === input.unitCost.currency))
  );
}

/** Codes are compared without regard to case (as the database's collation compares them). */

function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

export async function resolveCodes(db: Conn, warehouse: string, skus: readonly string[]) {
  const w = await db('warehouses').where({ code: warehouse }).first('id');
  const rows = skus.length
    ? await db('skus')
        .whereIn('code', [...new Set(skus)])
        .select('id', 'code')
    : [];
  // Codes compare without regard to letter case (the database found `A1` for `a1`).
  const byKey = new Map(rows.map((r) => [codeKey(String(r.code)), Number(r.id)]));
  const skuIds = new Map<string, number>();
  for (const s of skus) {
    const id = byKey.get(codeKey(s));
    if (id !== undefined) skuIds.set(s, id);
  }
  const problems: string[] = [];
  if (!w) problems.push(`unknown warehouse ${warehouse}`);
  for (const s of new Set(skus)) if (!skuIds.has(s)) problems.push(`unknown SKU ${s}`);
  if (problems.length) throw unprocessable('unknown_reference', problems.join('; '), { problems });
  return { warehouseId: Number(w.id), skuIds };
}

const hashOf = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

/**
 * The digests a document's content may have been stored under: the current one (codes in one
 * letter case, lines sorted, so the same lines in another order or spelling are the same document)
 * and the one documents recorded before it carry (lines as sent).
 */
function documentHashes(
  head: Record<string, string | null>,
  lines: readonly { sku: string; delta: number }[],
  legacy: unknown,
): string[] {
  const sorted = lines
    .map((l) => [codeKey(l.sku), l.delta] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x - y));
  const canonical = Object.fromEntries(
    Object.entries(head).map(([k, v]) => [k, k === 'reason' ? v : v && codeKey(v)]),
  );
  return [hashOf({ v: 2, ...canonical, lines: sorted }), hashOf(legacy)];
}

/** Refuses stock changes that would take on hand past what a stock row holds (409). */
function refuseOverLimit(over: { sku: string; onHand: number; delta: number }[]): void {
  if (over.length === 0) return;
  throw conflict('stock_limit', `on hand in one warehouse cannot exceed ${LIMITS.maxOnHand}`, {
    max: LIMITS.maxOnHand,
    lines: over,
  });
}

export interface StockDocumentResult {
  documentId: number;
  /** True when the same reference had already been recorded with the same lines: nothing changed. */
  duplicate: boolean;
  /** Orders whose backorders were filled by this stock. */
  filledOrders: number[];
}

async function recordDocument(
  db: Db,
  kind: 'receipt' | 'adjustment',
  warehouse: string,
  reference: string,
  reason: string | null,
  lines: readonly { sku: string; delta: number }[],
): Promise<StockDocumentResult> {
  const hashes = documentHashes({ warehouse, reason }, lines, { warehouse, lines, reason });
  const hash = hashes[0]!;
  let stored: StockDocumentResult & { grown: number[] };
  try {
    stored = await withTransaction(db, async (tx) => {
      const now = dbTime();
      const { warehouseId, skuIds } = await resolveCodes(
        tx,
        warehouse,
        lines.map((l) => l.sku),
      );
      const [documentId] = await tx('stock_documents').insert({
        kind,
        warehouse_id: warehouseId,
        reference,
        payload_hash: hash,
        reason,
        created_at: now,
      });
      const bySku = new Map<number, number>();
      for (const l of lines) {
        const id = skuIds.get(l.sku)!;
        bySku.set(id, (bySku.get(id) ?? 0) + l.delta);
      }
      const ids = [...bySku.keys()];
      const pool = await createAndLockStock(
        tx,
        ids.map((skuId) => ({ skuId, warehouseId })),
        now,
      );
      const refused: unknown[] = [];
      const over: { sku: string; onHand: number; delta: number }[] = [];
      for (const [skuId, delta] of bySku) {
        const row = pool.get(skuId)?.find((w) => w.warehouseId === warehouseId);
        const onHand = row?.onHand ?? 0;
        const reserved = row?.reserved ?? 0;
        if (onHand + delta > LIMITS.maxOnHand)
          over.push({ sku: lines.find((l) => skuIds.get(l.sku) === skuId)!.sku, onHand, delta });
        if (onHand + delta < reserved) {
          const sku = lines.find((l) => skuIds.get(l.sku) === skuId)!.sku;
          refused.push({
            sku,
            onHand,
            reserved,
            delta,
            message:
              onHand + delta < 0
                ? 'on hand would fall below zero'
                : 'on hand would fall below what is reserved',
          });
        }
      }
      if (refused.length)
        throw conflict(
          'insufficient_stock',
          'the adjustment would take stock below zero or below what is reserved',
          { lines: refused },
        );
      refuseOverLimit(over);
      const deltas: StockDelta[] = [...bySku].map(([skuId, delta]) => ({
        skuId,
        warehouseId,
        dOnHand: delta,
        dReserved: 0,
      }));
      const batch = new WriteBatch(tx);
      applyStockDeltas(batch, pool, deltas, kind, { type: kind, id: Number(documentId) }, now);
      addToOutbox(batch, [{ topic: 'stock.changed', payload: { skuIds: ids } }], now);
      await batch.flush();
      const grown = [...bySku].filter(([, d]) => d > 0).map(([id]) => id);
      return { documentId: Number(documentId), duplicate: false, filledOrders: [], grown };
    });
  } catch (err) {
    return answerDuplicate(db, err, kind, warehouse, reference, hashes);
  }
  // The stock is committed; waiting backorders take it now, each batch locking its orders first.
  const filledOrders = await fillBackorders(db, stored.grown, `${kind}:${reference}`);
  return { documentId: stored.documentId, duplicate: false, filledOrders };
}

/**
 * After a failed document insert: a duplicate key means the same reference was recorded before —
 * the same lines again are a harmless repeat (200, nothing changed), other lines are 409.
 */
async function answerDuplicate(
  db: Db,
  err: unknown,
  kind: string,
  warehouse: string,
  reference: string,
  hashes: readonly string[],
): Promise<StockDocumentResult> {
  if (!isDuplicateKeyError(err)) throw err;
  const w = await db('warehouses').where({ code: warehouse }).first('id');
  const doc = w && (await db('stock_documents').where({ kind, warehouse_id: w.id, reference }).first());
  if (!doc) throw err;
  if (!hashes.includes(doc.payload_hash)) {
    throw conflict('duplicate_reference', `${kind} ${reference} was already recorded with different lines`, {
      reference,
    });
  }
  return { documentId: Number(doc.id), duplicate: true, filledOrders: [] };
}

/**
 * Moves stock between warehouses: on hand falls in `from` (never below what is reserved there:
 * 409) and rises in `to`, one ledger row each, under one reference (a repeat with the same lines is
 * harmless). The channels fed by either warehouse hear of it through the outbox.
 */
export async function recordTransfer(
  db: Db,
  input: { from: string; to: string; reference: string; lines: { sku: string; quantity: number }[] },
): Promise<StockDocumentResult> {
  if (input.from === input.to)
    throw unprocessable('same_warehouse', 'a transfer needs two different warehouses', {
      warehouse: input.from,
    });
  const hashes = documentHashes(
    { from: input.from, to: input.to },
    input.lines.map((l) => ({ sku: l.sku, delta: l.quantity })),
    { from: input.from, to: input.to, lines: input.lines },
  );
  const hash = hashes[0]!;
  try {
    return await withTransaction(db, async (tx) => {
      const now = dbTime();
      const skus = input.lines.map((l) => l.sku);
      const [{ warehouseId: fromId, skuIds }, { warehouseId: toId }] = await Promise.all([
        resolveCodes(tx, input.from, skus),
        resolveCodes(tx, input.to, []),
      ]);
      await refuseAcrossCompanies(tx, input.from, input.to, fromId, toId);
      const [documentId] = await tx('stock_documents').insert({
        kind: 'transfer',
        warehouse_id: fromId,
        reference: input.reference,
        payload_hash: hash,
        reason: `to ${input.to}`,
        created_at: now,
      });
      const bySku = new Map<number, number>();
      for (const l of input.lines) {
        const id = skuIds.get(l.sku)!;
        bySku.set(id, (bySku.get(id) ?? 0) + l.quantity);
      }
      const ids = [...bySku.keys()];
      const pool = await createAndLockStock(
        tx,
        ids.flatMap((skuId) => [
          { skuId, warehouseId: fromId },
          { skuId, warehouseId: toId },
        ]),
        now,
      );
      const refused: unknown[] = [];
      const over: { sku: string; onHand: number; delta: number }[] = [];
      for (const [skuId, quantity] of bySku) {
        const row = pool.get(skuId)?.find((w) => w.warehouseId === fromId);
        const free = (row?.onHand ?? 0) - (row?.reserved ?? 0);
        const sku = input.lines.find((l) => skuIds.get(l.sku) === skuId)!.sku;
        if (free < quantity) {
          refused.push({ sku, onHand: row?.onHand ?? 0, reserved: row?.reserved ?? 0, quantity });
        }
        const target = pool.get(skuId)?.find((w) => w.warehouseId === toId)?.onHand ?? 0;
        if (target + quantity > LIMITS.maxOnHand) over.push({ sku, onHand: target, delta: quantity });
      }
      if (refused.length)
        throw conflict(
          'insufficient_stock',
          `${input.from} does not have that much free (not reserved) stock`,
          {
            lines: refused,
          },
        );
      refuseOverLimit(over);
      const deltas: StockDelta[] = [...bySku].flatMap(([skuId, quantity]) => [
        { skuId, warehouseId: fromId, dOnHand: -quantity, dReserved: 0 },
        { skuId, warehouseId: toId, dOnHand: quantity, dReserved: 0 },
      ]);
      const batch = new WriteBatch(tx);
      applyStockDeltas(batch, pool, deltas, 'transfer', { type: 'transfer', id: Number(documentId) }, now);
      addToOutbox(batch, [{ topic: 'stock.changed', payload: { skuIds: ids } }], now);
      await batch.flush();
      return { documentId: Number(documentId), duplicate: false, filledOrders: [] };
    });
  } catch (err) {
    return answerDuplicate(db, err, 'transfer', input.from, input.reference, hashes);
  }
}

/**
 * A stock transfer stays within one company: between warehouses of two companies it is an
 * intra-group sale (`POST /api/transfers`, 409 naming it); in-transit locations take no stock
 * transfer either way.
 */
async function refuseAcrossCompanies(tx: Tx, from: string, to: string, fromId: number, toId: number) {
  const rows = await tx('warehouses as w')
    .leftJoin('companies as co', 'co.id', 'w.company_id')
    .whereIn('w.id', [fromId, toId])
    .select('w.id', 'w.kind', 'w.company_id', 'co.code as company');
  const of = (id: number) => rows.find((r) => Number(r.id) === id)!;
  const a = of(fromId);
  const b = of(toId);
  if (a.kind === IN_TRANSIT || b.kind === IN_TRANSIT)
    throw unprocessable('in_transit_location', 'stock in transit moves only by receiving its transfer', {
      from,
      to,
    });
  if (a.company_id !== null && b.company_id !== null && Number(a.company_id) !== Number(b.company_id))
    throw conflict(
      'intra_group_transfer',
      `${from} (company ${a.company}) and ${to} (company ${b.company}) belong to two companies: a transfer between them is an intra-group sale, use POST /api/transfers`,
      { from, to, fromCompany: a.company, toCompany: b.company, route: 'POST /api/transfers' },
    );
}

export function recordReceipt(
  db: Db,
  input: { warehouse: string; reference: string; lines: { sku: string; quantity: number }[] },
) {
  return recordDocument(
    db,
    'receipt',
    input.warehouse,
    input.reference,
    null,
    input.lines.map((l) => ({ sku: l.sku, delta: l.quantity })),
  );
}

export function recordAdjustment(
  db: Db,
  input: {
    warehouse: string;
    reason: string;
    reference?: string | undefined;
    lines: { sku: string; delta: number }[];
  },
) {
  // Without a reference every adjustment is its own document.
  const reference = input.reference ?? `adj-${Date.now()}-${Math.random().toString(36).slice(2, 10)}`;
  return recordDocument(db, 'adjustment', input.warehouse, reference, input.reason, input.lines);
}

export interface StockView {
  sku: string;
  /** Over the warehouses that sell (in-transit locations not included). */
  onHand: number;
  reserved: number;
  available: number;
  warehouses: { warehouse: string; onHand: number; reserved: number; available: number }[];
  /** Stock on its way between two companies of the group, per receiving company: never sold. */
  inTransit: { location: string; company: string | null; onHand: number }[];
}

export async function getStock(db: Conn, sku: string): Promise<StockView> {
  const s = await db('skus').where({ code: sku }).first('id', 'code');
  if (!s) throw notFound(`SKU ${sku}`);
  const rows = await db(`${STOCK_LEVELS} as sl`)
    .join('warehouses as w', 'w.id', 'sl.warehouse_id')
    .leftJoin('companies as co', 'co.id', 'w.company_id')
    .where('sl.sku_id', s.id)
    .orderBy([{ column: 'w.priority' }, { column: 'w.code' }])
    .select('w.code', 'w.kind', 'co.code as company', 'sl.on_hand', 'sl.reserved');
  const warehouses = rows
    .filter((r) => r.kind !== IN_TRANSIT)
    .map((r) => ({
      warehouse: String(r.code),
      onHand: Number(r.on_hand),
      reserved: Number(r.reserved),
      available: Number(r.on_hand) - Number(r.reserved),
    }));
  const inTransit = rows
    .filter((r) => r.kind === IN_TRANSIT)
    .map((r) => ({ location: String(r.code), company: r.company ?? null, onHand: Number(r.on_hand) }));
  const onHand = warehouses.reduce((n, w) => n + w.onHand, 0);
  const reserved = warehouses.reduce((n, w) => n + w.reserved, 0);
  return { sku: String(s.code), onHand, reserved, available: onHand - reserved, warehouses, inTransit };
}

/** Sets (or clears, with null) the reorder point of one SKU in one warehouse. */
export async function setWarehouseReorderPoint(
  db: Db,
  sku: string,
  warehouse: string,
  reorderPoint: number | null,
): Promise<void> {
  await withTransaction(db, async (tx) => {
    const { warehouseId, skuIds } = await resolveCodes(tx, warehouse, [sku]);
    const skuId = skuIds.get(sku)!;
    await createAndLockStock(tx, [{ skuId, warehouseId }]);
    await tx(STOCK_LEVELS)
      .where({ sku_id: skuId, warehouse_id: warehouseId })
      .update({ reorder_point: reorderPoint });
  });
}
