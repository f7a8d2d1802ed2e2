import type ExcelJS from 'exceljs';

/**
 * The sheets every result workbook has, the order sheets' (`result-workbook.ts`) and the catalogue
 * sheets' alike: `Result`, one row per source row under bilingual headers (`Status / 状态`), and
 * `Summary`, bilingual labels with their values.
 */

export const RESULT_SHEET = 'Result';
export const SUMMARY_SHEET = 'Summary';

/** A column of a `Result` sheet: its header (`English / 中文`), its width, and its cell for a row. */
export interface ResultColumn<R> {
  header: string;
  width: number;
  value: (row: R) => string | number | null;
  /** The cell's Excel number format, when it needs one. */
  numFmt?: (row: R) => string | undefined;
}

/**
 * Adds the `Result` sheet: the columns' widths, their headers in bold in a frozen first row, then
 * one row per item. Rows are committed as they are written, so a streaming workbook keeps none of
 * them in memory; the caller commits the sheet of a streaming workbook.
 */
export function addResultSheet<R>(
  workbook: ExcelJS.Workbook,
  columns: readonly ResultColumn<R>[],
  rows: Iterable<R>,
): ExcelJS.Worksheet {
  const sheet = workbook.addWorksheet(RESULT_SHEET, { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = columns.map((c) => ({ width: c.width }));
  const header = sheet.addRow(columns.map((c) => c.header));
  header.font = { bold: true };
  header.commit();
  for (const r of rows) {
    const line = sheet.addRow(columns.map((c) => c.value(r)));
    columns.forEach((c, i) => {
      const numFmt = c.numFmt?.(r);
      if (numFmt) line.getCell(i + 1).numFmt = numFmt;
    });
    line.commit();
  }
  return sheet;
}

/**
 * Adds the `Summary` sheet: per row a label (`English / 中文`) in bold and its value. The caller
 * commits the sheet of a streaming workbook.
 */
export function addSummarySheet(
  workbook: ExcelJS.Workbook,
  entries: readonly (readonly [string, string | number])[],
): ExcelJS.Worksheet {
  const sheet = workbook.addWorksheet(SUMMARY_SHEET);
  sheet.columns = [{ width: 34 }, { width: 60 }];
  for (const entry of entries) {
    const row = sheet.addRow([...entry]);
    row.getCell(1).font = { bold: true };
    row.commit();
  }
  return sheet;
}
