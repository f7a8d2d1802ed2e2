import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { formatMinor, minorDigits } from './money.js';
import type { OrderOutcome, ParsedOrderFile, ParsedRow, RowStatus } from './types.js';

export const RESULT_SHEET = 'Result';
export const SUMMARY_SHEET = 'Summary';

/** Column headers of the `Result` sheet, in order. */
export const RESULT_COLUMNS = [
  'Row',
  'Order number',
  'Customer',
  'SKU',
  'Quantity',
  'Unit price',
  'Currency',
  'Status',
  'Reason',
  'Stockbridge order id',
] as const;

const WIDTHS = [8, 18, 16, 22, 10, 12, 10, 10, 70, 20];

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
  if (!outcome) return { status: 'pending', reason: 'no intake result recorded for this order' };
  if (!outcome.accepted) return { status: 'rejected', reason: outcome.reason ?? 'rejected by stockbridge' };
  return { status: 'accepted', reason: outcome.reason, orderId: outcome.orderId };
}

const numFmt = (currency: string) => {
  const digits = minorDigits(currency);
  return digits === 0 ? '0' : `0.${'0'.repeat(digits)}`;
};

function writeResultSheet(
  workbook: ExcelJS.stream.xlsx.WorkbookWriter,
  parsed: ParsedOrderFile,
  outcomes: ReadonlyMap<string, OrderOutcome>,
) {
  const sheet = workbook.addWorksheet(RESULT_SHEET, { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = WIDTHS.map((width) => ({ width }));
  const header = sheet.addRow([...RESULT_COLUMNS]);
  header.font = { bold: true };
  header.commit();
  for (const r of parsed.rows) {
    const result = rowResult(r, outcomes);
    const line = sheet.addRow([
      r.row,
      r.orderNo,
      r.customerCode,
      r.sku,
      r.quantity ?? r.rawQuantity,
      // The amount shown is read from the decimal text of the integer minor units.
      r.unitPrice === null ? r.rawUnitPrice : Number(formatMinor(r.unitPrice, r.currency)),
      r.currency,
      result.status,
      result.reason ?? '',
      result.orderId ?? null,
    ]);
    if (r.unitPrice !== null) line.getCell(6).numFmt = numFmt(r.currency);
    line.commit();
  }
  sheet.commit();
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

  const sheet = workbook.addWorksheet(SUMMARY_SHEET);
  sheet.columns = [{ width: 22 }, { width: 60 }];
  const entries: [string, string | number][] = [
    ['File', parsed.fileName],
    ['Rows', parsed.rows.length],
    ['Rows accepted', count('accepted')],
    ['Rows rejected', count('rejected')],
    ['Orders', parsed.orders.length + parsed.rejectedOrders.length],
    ['Orders accepted', accepted],
    ['Orders rejected', rejected],
    ['Orders without result', pending],
    ['Error', parsed.error ?? ''],
  ];
  for (const entry of entries) {
    const row = sheet.addRow(entry);
    row.getCell(1).font = { bold: true };
    row.commit();
  }
  sheet.commit();
}

/**
 * Writes the workbook sent back to the customer: a `Result` sheet with every source row, its status
 * (accepted, rejected; pending when `outcomes` has nothing for its order) and reason, and a `Summary`
 * sheet. Streamed, and written to a temporary file renamed into place, so `outPath` never holds half a
 * workbook.
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
