import { readSheetRows } from '../../connectors/excel-inbox/parse.js';
import type { OrderFileInput } from '../../connectors/excel-inbox/types.js';
import type { Db } from '../db/connection.js';
import { DomainError } from '../errors/domain-errors.js';
import { readSkuSheet, readStockSheet, type SkuSheetRow, type StockSheetRow } from './catalogue-sheet.js';
import { recordReceipt, type SkuUpsertOutcome, upsertSkus } from './stock-service.js';

/** What became of one row: stored (`created`, `updated`, `recorded`), nothing to do (`unchanged`), or `rejected`. */
export type CatalogueRowStatus = SkuUpsertOutcome | 'recorded' | 'rejected';

export interface CatalogueRowResult {
  row: number;
  status: CatalogueRowStatus;
  reason?: string;
}

export interface SkuImportRow extends CatalogueRowResult {
  sku: string;
  name: string;
  unitPrice: string;
  currency: string;
  reorderPoint: string;
}

export interface StockImportRow extends CatalogueRowResult {
  sku: string;
  warehouse: string;
  quantity: string;
  /** The receipt the opening stock was recorded as (also when it had been recorded before). */
  documentId?: number;
}

export interface CatalogueImport<R extends CatalogueRowResult> {
  fileName: string;
  /** A problem with the whole file (unreadable, empty, missing columns, too many rows): no row was stored. */
  error?: string;
  rows: R[];
}

/** Rows of the SKU sheet stored in one transaction; a chunk that fails is stored again row by row. */
const SKU_CHUNK = 500;

/**
 * Imports a sheet of SKUs (code, name, unit price, currency, reorder point): each valid row is created
 * or updated, and a row that already says what is stored is `unchanged`, so the same sheet twice
 * changes nothing the second time. A row that is invalid, or that the database refuses, is
 * `rejected` with its reason; the others are stored all the same.
 */
export async function importSkuSheet(
  db: Db,
  input: OrderFileInput,
  options: { defaultCurrency?: string | undefined } = {},
): Promise<CatalogueImport<SkuImportRow>> {
  const read = await readSheetRows(input, (rows, kind) => readSkuSheet(rows, options.defaultCurrency, kind));
  if ('error' in read) return { fileName: input.fileName, error: read.error, rows: [] };
  const results = new Map<number, CatalogueRowResult>();
  const valid = read.value.filter((r) => r.sku);
  for (let i = 0; i < valid.length; i += SKU_CHUNK) {
    const chunk = valid.slice(i, i + SKU_CHUNK);
    for (const [row, result] of await storeSkus(db, chunk)) results.set(row, result);
  }
  return { fileName: input.fileName, rows: read.value.map((r) => skuResult(r, results.get(r.row))) };
}

async function storeSkus(db: Db, rows: readonly SkuSheetRow[]): Promise<Map<number, CatalogueRowResult>> {
  const out = new Map<number, CatalogueRowResult>();
  try {
    const outcomes = await upsertSkus(
      db,
      rows.map((r) => r.sku!),
    );
    for (const [i, r] of rows.entries()) out.set(r.row, { row: r.row, status: outcomes[i]! });
  } catch (err) {
    if (rows.length === 1) {
      out.set(rows[0]!.row, { row: rows[0]!.row, status: 'rejected', reason: refusal(err) });
      return out;
    }
    // One row the database refuses must not take the others with it.
    for (const r of rows) for (const [row, result] of await storeSkus(db, [r])) out.set(row, result);
  }
  return out;
}

function skuResult(r: SkuSheetRow, stored: CatalogueRowResult | undefined): SkuImportRow {
  const base = {
    row: r.row,
    sku: r.code,
    name: r.name,
    unitPrice: r.rawUnitPrice,
    currency: r.currency,
    reorderPoint: r.rawReorderPoint,
  };
  if (r.problems.length > 0) return { ...base, status: 'rejected', reason: r.problems.join('; ') };
  return { ...base, ...(stored ?? { status: 'rejected', reason: 'not stored / 未保存' }), row: r.row };
}

/** The reference opening stock is recorded under: one receipt per SKU and warehouse, ever. */
export const openingReference = (sku: string) => `opening-stock:${sku}`;

/**
 * Imports a sheet of opening stock (SKU, warehouse, quantity). Each row is a receipt of its own
 * through the stock service (locks first, one ledger row, backorders filled), under the reference
 * `opening-stock:<sku>` in its warehouse: the same sheet again finds each receipt recorded and says
 * `unchanged`; a different quantity for a SKU whose opening stock was recorded is refused (stock
 * that has been counted changes by adjustment). A row that fails does not stop the others.
 */
export async function importOpeningStockSheet(
  db: Db,
  input: OrderFileInput,
  options: { defaultWarehouse?: string | undefined } = {},
): Promise<CatalogueImport<StockImportRow>> {
  const read = await readSheetRows(input, (rows, kind) =>
    readStockSheet(rows, options.defaultWarehouse, kind),
  );
  if ('error' in read) return { fileName: input.fileName, error: read.error, rows: [] };
  const rows: StockImportRow[] = [];
  for (const r of read.value) rows.push(await recordOpeningStock(db, r));
  return { fileName: input.fileName, rows };
}

async function recordOpeningStock(db: Db, r: StockSheetRow): Promise<StockImportRow> {
  const base = { row: r.row, sku: r.sku, warehouse: r.warehouse, quantity: r.rawQuantity };
  if (r.quantity === undefined) return { ...base, status: 'rejected', reason: r.problems.join('; ') };
  if (r.quantity === 0)
    return { ...base, status: 'unchanged', reason: 'quantity 0: nothing to record / 数量为 0，无需入账' };
  try {
    const receipt = await recordReceipt(db, {
      warehouse: r.warehouse,
      reference: openingReference(r.sku),
      lines: [{ sku: r.sku, quantity: r.quantity }],
    });
    return receipt.duplicate
      ? {
          ...base,
          status: 'unchanged',
          reason: 'this opening stock was recorded before / 该期初库存已入账',
          documentId: receipt.documentId,
        }
      : { ...base, status: 'recorded', documentId: receipt.documentId };
  } catch (err) {
    return { ...base, status: 'rejected', reason: refusal(err) };
  }
}

/** Why the stock service refused a row, as the customer reads it. Anything else is not ours to explain: rethrown. */
function refusal(err: unknown): string {
  if (!(err instanceof DomainError)) throw err;
  if (err.code === 'duplicate_reference')
    return (
      'opening stock of this SKU in this warehouse was recorded before with another quantity: ' +
      'change it with a stock adjustment / 该仓库此货号的期初库存已按其他数量入账，请用库存调整修改'
    );
  if (err.code === 'unknown_reference') return `${err.message}: create it first / 货号或仓库不存在，请先创建`;
  return err.message;
}
