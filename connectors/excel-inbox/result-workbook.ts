import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { bilingual } from './bilingual.js';
import { formatMinor, minorDigits } from './money.js';
import { addResultSheet, addSummarySheet, type ResultColumn } from './result-sheets.js';
import type { OrderOutcome, ParsedOrderFile, ParsedRow, RowStatus } from './types.js';

export { RESULT_SHEET, SUMMARY_SHEET } from './result-sheets.js';

/** The name of the result workbook sent back for `fileName`: `orders.xlsx` -> `orders.result.xlsx`. */
export function resultFileName(fileName: string): string {
  const ext = path.extname(fileName);
  return `${ext ? fileName.slice(0, -ext.length) : fileName}.result.xlsx`;
}

/** What became of one source row once intake has run. */
export interface RowResult {
  status: RowStatus;
  reason?: string;
  /** The stockbridge order id, when the row's order was accepted. */
  orderId?: number;
}

/**
 * A row's final status: its own when the parser rejected it, else its order's intake outcome;
 * `pending` (with a reason) when `outcomes` has nothing for the order.
 */
export function rowResult(row: ParsedRow, outcomes: ReadonlyMap<string, OrderOutcome>): RowResult {
  if (row.status !== 'pending') return { status: row.status, reason: row.reason };
  const outcome = row.externalId === undefined ? undefined : outcomes.get(row.externalId);
  // Without an outcome the order's fate is unknown: saying `rejected` could make the customer send
  // an order twice, so the row stays pending.
  if (!outcome)
    return {
      status: 'pending',
      reason: bilingual('no intake result recorded for this order', '系统没有该订单的导入结果记录'),
    };
  if (!outcome.accepted)
    return {
      status: 'rejected',
      reason: outcome.reason ?? bilingual('rejected by stockbridge', '被系统拒绝'),
    };
  return { status: 'accepted', reason: outcome.reason, orderId: outcome.orderId };
}

/** A row's status as the customer reads it. */
export const ROW_STATUS_TEXT: Record<RowStatus, string> = {
  accepted: bilingual('accepted', '已导入'),
  rejected: bilingual('rejected', '已拒绝'),
  pending: bilingual('pending', '待确认'),
};

const numFmt = (currency: string) => {
  const digits = minorDigits(currency);
  return digits === 0 ? '0' : `0.${'0'.repeat(digits)}`;
};

/** A source row with what became of it: one row of the `Result` sheet. */
interface ResultLine {
  row: ParsedRow;
  result: RowResult;
}

const ORDER_COLUMNS: readonly ResultColumn<ResultLine>[] = [
  { header: bilingual('Row', '行号'), width: 10, value: ({ row }) => row.row },
  { header: bilingual('Order number', '订单号'), width: 20, value: ({ row }) => row.orderNo },
  { header: bilingual('Customer', '客户编码'), width: 18, value: ({ row }) => row.customerCode },
  { header: bilingual('SKU', '货号'), width: 22, value: ({ row }) => row.sku },
  { header: bilingual('Quantity', '数量'), width: 14, value: ({ row }) => row.quantity ?? row.rawQuantity },
  {
    header: bilingual('Unit price', '单价'),
    width: 16,
    // The amount shown is read from the decimal text of the integer minor units.
    value: ({ row }) =>
      row.unitPrice === null ? row.rawUnitPrice : Number(formatMinor(row.unitPrice, row.currency)),
    numFmt: ({ row }) => (row.unitPrice === null ? undefined : numFmt(row.currency)),
  },
  { header: bilingual('Currency', '币种'), width: 14, value: ({ row }) => row.currency },
  { header: bilingual('Status', '状态'), width: 18, value: ({ result }) => ROW_STATUS_TEXT[result.status] },
  { header: bilingual('Reason', '原因'), width: 90, value: ({ result }) => result.reason ?? '' },
  {
    header: bilingual('Stockbridge order id', '系统订单号'),
    width: 24,
    value: ({ result }) => result.orderId ?? null,
  },
];

/** Column headers of the `Result` sheet, in order. */
export const RESULT_COLUMNS: readonly string[] = ORDER_COLUMNS.map((c) => c.header);

function writeResultSheet(
  workbook: ExcelJS.stream.xlsx.WorkbookWriter,
  parsed: ParsedOrderFile,
  outcomes: ReadonlyMap<string, OrderOutcome>,
) {
  const lines = parsed.rows.map((row) => ({ row, result: rowResult(row, outcomes) }));
  addResultSheet(workbook, ORDER_COLUMNS, lines).commit();
}

function writeSummarySheet(
  workbook: ExcelJS.stream.xlsx.WorkbookWriter,
  parsed: ParsedOrderFile,
  outcomes: ReadonlyMap<string, OrderOutcome>,
) {
  let accepted = 0;
  let rejected = parsed.rejectedOrders.length;
  let pending = 0;
  for (const order of parsed.orders) {
    const outcome = outcomes.get(order.externalId);
    if (!outcome) pending++;
    else if (outcome.accepted) accepted++;
    else rejected++;
  }
  const statuses = parsed.rows.map((r) => rowResult(r, outcomes).status);
  const count = (s: RowStatus) => statuses.filter((x) => x === s).length;
  addSummarySheet(workbook, [
    [bilingual('File', '文件'), parsed.fileName],
    [bilingual('Rows', '行数'), parsed.rows.length],
    [bilingual('Rows accepted', '已导入行数'), count('accepted')],
    [bilingual('Rows rejected', '已拒绝行数'), count('rejected')],
    [bilingual('Orders', '订单数'), parsed.orders.length + parsed.rejectedOrders.length],
    [bilingual('Orders accepted', '已导入订单数'), accepted],
    [bilingual('Orders rejected', '已拒绝订单数'), rejected],
    [bilingual('Orders without result', '无结果订单数'), pending],
    [bilingual('Error', '错误'), parsed.error ?? ''],
  ]).commit();
}

/**
 * Writes the workbook sent back to the customer: a `Result` sheet with every source row, its status
 * (accepted, rejected; pending when `outcomes` has nothing for its order) and reason, and a `Summary`
 * sheet, headers, statuses and labels in English and Chinese. Streamed, and written to a temporary
 * file renamed into place, so `outPath` never holds half a workbook.
 */
export async function writeResultWorkbook(
  parsed: ParsedOrderFile,
  outcomes: ReadonlyMap<string, OrderOutcome>,
  outPath: string,
): Promise<void> {
  const tmpPath = path.join(path.dirname(outPath), `.${path.basename(outPath)}.${randomUUID()}.tmp`);
  const out = createWriteStream(tmpPath);
  // A stream that fails (no such directory, disk full) never finishes, so the commit would wait forever.
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => {});
  try {
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true });
    writeResultSheet(workbook, parsed, outcomes);
    writeSummarySheet(workbook, parsed, outcomes);
    await Promise.race([workbook.commit(), failed]);
    await rename(tmpPath, outPath);
  } catch (err) {
    out.destroy();
    await rm(tmpPath, { force: true });
    throw err;
  }
}
