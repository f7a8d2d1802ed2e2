import type { Conn } from '../db/connection.js';
import { isoTime } from '../db/connection.js';
import { notFound } from '../errors/domain-errors.js';
import { STOCK_LEVELS } from './stock-store.js';

/** One row of a SKU's ledger (`stock_movements`), with what caused it. */
export interface MovementView {
  id: number;
  at: string | null;
  warehouse: string;
  dOnHand: number;
  dReserved: number;
  reason: string;
  refType: string;
  refId: string;
  /** The document's own reference (a receipt's, an adjustment's, a transfer's), when it has one. */
  reference: string | null;
}

export interface LedgerFilter {
  sku: string;
  /** One warehouse's rows only. */
  warehouse?: string | undefined;
  limit: number;
  /** Rows below this id (the next page); null: the newest. */
  beforeId: number | null;
}

/** Stock documents the ledger names by id, whose own reference a person knows them by. */
const DOCUMENT_REFS = ['receipt', 'adjustment', 'transfer'];

/**
 * A SKU's ledger, newest first, a page at a time (keyset on the movement id). Each warehouse's rows
 * are read through the (sku, warehouse) index, newest first, and merged: no scan of the SKU's
 * whole history, however long it is.
 */
export async function listMovements(
  db: Conn,
  filter: LedgerFilter,
): Promise<{ sku: string; items: MovementView[]; nextId: number | null }> {
  const sku = await db('skus').where({ code: filter.sku }).first('id', 'code');
  if (!sku) throw notFound(`SKU ${filter.sku}`);
  let places = db(`${STOCK_LEVELS} as sl`)
    .join('warehouses as w', 'w.id', 'sl.warehouse_id')
    .where('sl.sku_id', sku.id)
    .select('w.id', 'w.code');
  if (filter.warehouse) places = places.where('w.code', filter.warehouse);
  const warehouses = await places;
  const codeOf = new Map(warehouses.map((w) => [Number(w.id), String(w.code)]));
  const pages = await Promise.all(
    warehouses.map((w) => {
      let q = db('stock_movements')
        .where({ sku_id: sku.id, warehouse_id: w.id })
        .select(
          'id',
          'warehouse_id',
          'd_on_hand',
          'd_reserved',
          'reason',
          'ref_type',
          'ref_id',
          'created_at',
        );
      if (filter.beforeId !== null) q = q.where('id', '<', filter.beforeId);
      return q.orderBy('id', 'desc').limit(filter.limit + 1);
    }),
  );
  const rows = pages.flat().sort((a, b) => Number(b.id) - Number(a.id));
  const page = rows.slice(0, filter.limit);
  const docIds = page.filter((r) => DOCUMENT_REFS.includes(String(r.ref_type))).map((r) => Number(r.ref_id));
  const groupIds = page.filter((r) => r.ref_type === 'intra_group_transfer').map((r) => Number(r.ref_id));
  const [docs, transfers] = await Promise.all([
    docIds.length
      ? db('stock_documents')
          .whereIn('id', [...new Set(docIds)])
          .select('id', 'reference')
      : [],
    groupIds.length
      ? db('transfers')
          .whereIn('id', [...new Set(groupIds)])
          .select('id', 'ref')
      : [],
  ]);
  const docRef = new Map(docs.map((d) => [String(d.id), String(d.reference)]));
  const groupRef = new Map(transfers.map((t) => [String(t.id), String(t.ref)]));
  const items = page.map((r) => {
    const refId = String(r.ref_id);
    const refType = String(r.ref_type);
    return {
      id: Number(r.id),
      at: isoTime(r.created_at),
      warehouse: codeOf.get(Number(r.warehouse_id)) ?? String(r.warehouse_id),
      dOnHand: Number(r.d_on_hand),
      dReserved: Number(r.d_reserved),
      reason: String(r.reason),
      refType,
      refId,
      reference: DOCUMENT_REFS.includes(refType)
        ? (docRef.get(refId) ?? null)
        : refType === 'intra_group_transfer'
          ? (groupRef.get(refId) ?? null)
          : null,
    };
  });
  const last = page[page.length - 1];
  return {
    sku: String(sku.code),
    items,
    nextId: rows.length > filter.limit && last ? Number(last.id) : null,
  };
}
