import ExcelJS from 'exceljs';
import {
  addResultSheet,
  addSummarySheet,
  type ResultColumn,
} from '../../connectors/excel-inbox/result-sheets.js';
import type {
  CatalogueImport,
  CatalogueRowResult,
  CatalogueRowStatus,
  SkuImportRow,
  StockImportRow,
} from './catalogue-import.js';

/**
 * The workbook sent back for a catalogue sheet, built as the order sheets' result is (`result-sheets.ts`):
 * a `Result` sheet with every data row, its status and reason, and a `Summary` sheet. Headers and
 * statuses are in English and Chinese.
 */

/** A status as the customer reads it. */
export const STATUS_TEXT: Record<CatalogueRowStatus, string> = {
  created: 'created / 已创建',
  updated: 'updated / 已更新',
  unchanged: 'unchanged / 无变化',
  recorded: 'recorded / 已入账',
  rejected: 'rejected / 已拒绝',
};

export const ROW: ResultColumn<CatalogueRowResult> = { header: 'Row / 行号', width: 10, value: (r) => r.row };
export const STATUS: ResultColumn<CatalogueRowResult> = {
  header: 'Status / 状态',
  width: 18,
  value: (r) => STATUS_TEXT[r.status],
};
export const REASON: ResultColumn<CatalogueRowResult> = {
  header: 'Reason / 原因',
  width: 80,
  value: (r) => r.reason ?? '',
};

export const SKU_RESULT_COLUMNS: readonly ResultColumn<SkuImportRow>[] = [
  ROW,
  { header: 'SKU / 货号', width: 22, value: (r) => r.sku },
  { header: 'Name / 名称', width: 30, value: (r) => r.name },
  { header: 'Unit price / 单价', width: 14, value: (r) => r.unitPrice },
  { header: 'Currency / 币种', width: 12, value: (r) => r.currency },
  { header: 'Reorder point / 补货点', width: 16, value: (r) => r.reorderPoint },
  STATUS,
  REASON,
];

export const STOCK_RESULT_COLUMNS: readonly ResultColumn<StockImportRow>[] = [
  ROW,
  { header: 'SKU / 货号', width: 22, value: (r) => r.sku },
  { header: 'Warehouse / 仓库', width: 16, value: (r) => r.warehouse },
  { header: 'Quantity / 数量', width: 12, value: (r) => r.quantity },
  STATUS,
  REASON,
  { header: 'Receipt id / 入库单号', width: 16, value: (r) => r.documentId ?? null },
];

/** Rows by status, every status listed. */
export function countStatuses(rows: readonly CatalogueRowResult[]): Record<CatalogueRowStatus, number> {
  const counts = { created: 0, updated: 0, unchanged: 0, recorded: 0, rejected: 0 };
  for (const r of rows) counts[r.status]++;
  return counts;
}

export async function catalogueResultWorkbook<R extends CatalogueRowResult>(
  result: CatalogueImport<R>,
  columns: readonly ResultColumn<R>[],
): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  addResultSheet(workbook, columns, result.rows);
  const counts = countStatuses(result.rows);
  addSummarySheet(workbook, [
    ['File / 文件', result.fileName],
    ['Rows / 行数', result.rows.length],
    ...(Object.keys(counts) as CatalogueRowStatus[]).map((s): [string, number] => [
      `Rows ${STATUS_TEXT[s]}`,
      counts[s],
    ]),
    ['Error / 错误', result.error ?? ''],
  ]);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
