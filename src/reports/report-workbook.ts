import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import { formatMinor } from '../../connectors/excel-inbox/money.js';
import { minorDigits } from '../../connectors/shared/money.js';

/**
 * Reports as Excel workbooks, written with exceljs's streaming writer: a title row, the column
 * headers in the chosen language (frozen, with a filter), one row per report row as it is read
 * page by page (no report is held in memory), and totals per currency at the end. Money is stored
 * in integer minor units and shown in major units with the currency's decimals.
 */

export type Language = 'zh-CN' | 'en';
export const REPORT_LANGUAGES = ['zh-CN', 'en'] as const;

export type Bilingual = Record<Language, string>;

export interface ReportColumn<R> {
  key: string;
  header: Bilingual;
  /** `money`: minor units of the row's currency (`ReportDefinition.currencyOf`). */
  kind: 'text' | 'integer' | 'money' | 'date';
  value(row: R): string | number | null;
  /** Summed into the totals rows (integer and money columns). */
  total?: boolean;
  width?: number;
}

export interface ReportDefinition<R> {
  title: Bilingual;
  /** The sheet's name (at most 31 characters). */
  sheet: Bilingual;
  columns: readonly ReportColumn<R>[];
  /** The currency a row's money columns are in; null: none. Totals are per currency. */
  currencyOf(row: R): string | null;
}

export const TOTAL_LABEL: Bilingual = { en: 'Total', 'zh-CN': '合计' };

/** The column headers of a report in one language (what the JSON answers carry as `columns`). */
export const columnHeaders = <R>(def: ReportDefinition<R>, language: Language) =>
  def.columns.map((c) => ({ key: c.key, header: c.header[language], kind: c.kind }));

export const moneyFormat = (currency: string) => {
  const d = minorDigits(currency);
  return d === 0 ? '#,##0' : `#,##0.${'0'.repeat(d)}`;
};

/** Major units as a number for a cell; the cell's format shows the currency's decimals. */
export const major = (minor: number, currency: string) => Number(formatMinor(minor, currency));

/**
 * Writes a report into `stream`: `subtitle` (the period, the parameters) beside the title, then
 * every row `rows` yields, then the totals. Resolves once the workbook is complete.
 */
export async function writeReportWorkbook<R>(
  stream: Writable,
  def: ReportDefinition<R>,
  rows: AsyncIterable<R>,
  options: { language: Language; subtitle: string },
): Promise<{ rows: number }> {
  const { language } = options;
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream, useStyles: true });
  const sheet = workbook.addWorksheet(def.sheet[language].slice(0, 31), {
    views: [{ state: 'frozen', ySplit: 2, xSplit: 0 }],
  });
  sheet.columns = def.columns.map((c) => ({
    key: c.key,
    width: c.width ?? (c.kind === 'text' ? 18 : c.kind === 'date' ? 12 : 14),
  }));
  const title = sheet.addRow([`${def.title[language]}  ${options.subtitle}`]);
  title.font = { bold: true, size: 13 };
  title.commit();
  const header = sheet.addRow(def.columns.map((c) => c.header[language]));
  header.font = { bold: true };
  header.alignment = { wrapText: true, vertical: 'middle' };
  header.commit();
  sheet.autoFilter = { from: { row: 2, column: 1 }, to: { row: 2, column: def.columns.length } };

  // Sums per currency, exactly (BigInt), in the order currencies first appear.
  const totals = new Map<string, bigint[]>();
  let count = 0;
  for await (const r of rows) {
    const currency = def.currencyOf(r);
    const sums = totals.get(currency ?? '') ?? def.columns.map(() => 0n);
    totals.set(currency ?? '', sums);
    const values = def.columns.map((c, i) => {
      const v = c.value(r);
      if (c.total && typeof v === 'number') sums[i] = sums[i]! + BigInt(v);
      if (c.kind === 'money' && typeof v === 'number' && currency) return major(v, currency);
      return v;
    });
    const row = sheet.addRow(values);
    def.columns.forEach((c, i) => {
      if (c.kind === 'money' && currency) row.getCell(i + 1).numFmt = moneyFormat(currency);
      else if (c.kind === 'integer') row.getCell(i + 1).numFmt = '#,##0';
    });
    row.commit();
    count++;
  }
  sheet.addRow([]).commit();
  const currencyColumn = def.columns.findIndex((c) => c.key === 'currency');
  for (const [currency, sums] of totals) {
    const values: (string | number | null)[] = def.columns.map((c, i) => {
      if (!c.total) return null;
      const n = Number(sums[i]);
      // Money without a currency (a slow mover without a cost) has no total.
      if (c.kind === 'money') return currency ? major(n, currency) : null;
      return n;
    });
    values[0] = TOTAL_LABEL[language];
    if (currencyColumn > 0 && currency) values[currencyColumn] = currency;
    const row = sheet.addRow(values);
    row.font = { bold: true };
    def.columns.forEach((c, i) => {
      if (c.total && c.kind === 'money' && currency) row.getCell(i + 1).numFmt = moneyFormat(currency);
      else if (c.total && c.kind === 'integer') row.getCell(i + 1).numFmt = '#,##0';
    });
    row.commit();
  }
  sheet.commit();
  await workbook.commit();
  return { rows: count };
}

/** Every row of a paged report, page after page, for the workbook (`limit` rows a round trip). */
export async function* allPages<R, C>(
  page: (cursor: C | null, limit: number) => Promise<{ items: R[]; next: C | null }>,
  limit = 500,
): AsyncGenerator<R> {
  let cursor: C | null = null;
  for (;;) {
    const { items, next } = await page(cursor, limit);
    yield* items;
    if (next === null) return;
    cursor = next;
  }
}
