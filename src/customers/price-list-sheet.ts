import { PassThrough, type Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import { parseQuantity } from '../../connectors/excel-inbox/check-row.js';
import { formatMinor, parseMajorAmount } from '../../connectors/excel-inbox/money.js';
import { readSheetRows, type SheetRecord } from '../../connectors/excel-inbox/parse.js';
import type { OrderFileInput } from '../../connectors/excel-inbox/types.js';
import type { Db } from '../db/connection.js';
import { ValidationError } from '../errors/domain-errors.js';
import { type ColumnSpec, type SheetKind, sheetCells } from '../stock/catalogue-sheet.js';
import { type ItemsSaved, type PriceItemInput, priceListItems, putPriceListItems } from './price-lists.js';

/**
 * A price list as an Excel sheet, both ways: the export is a sheet the import takes back unchanged.
 * Headers, messages and reasons in English and Chinese. Prices are in major units of the list's
 * currency (12.50), percentages as numbers (90 = 90 %), dates as `YYYY-MM-DD` in the business time
 * zone. The import is all or nothing: a sheet with any bad row changes nothing, and every bad row
 * is reported.
 */

export const PRICE_LIST_COLUMNS = [
  {
    field: 'sku',
    label: 'SKU / 货号',
    required: true,
    aliases: ['sku', 'sku code', 'item code', '货号', '商品编码'],
  },
  {
    field: 'minQuantity',
    label: 'Min quantity / 起订数量',
    required: false,
    aliases: [
      'min quantity',
      'minimum quantity',
      'quantity break',
      'from quantity',
      '起订数量',
      '最小数量',
      '数量起点',
    ],
  },
  {
    field: 'price',
    label: 'Price / 价格',
    required: false,
    aliases: ['price', 'unit price', '价格', '单价'],
  },
  {
    field: 'percent',
    label: 'Percent / 百分比',
    required: false,
    aliases: ['percent', 'percentage', '%', '百分比'],
  },
  {
    field: 'basedOn',
    label: 'Based on list / 基于价目表',
    required: false,
    aliases: ['based on', 'based on list', 'base list', '基于价目表', '基准价目表'],
  },
  {
    field: 'validFrom',
    label: 'Valid from / 生效日期',
    required: false,
    aliases: ['valid from', 'from', '生效日期', '开始日期'],
  },
  {
    field: 'validTo',
    label: 'Valid to / 失效日期',
    required: false,
    aliases: ['valid to', 'to', 'until', '失效日期', '截止日期'],
  },
] as const satisfies readonly ColumnSpec<string>[];

/** What the import recognises: the aliases, and the export's own bilingual headers. */
const COLUMNS_READ = PRICE_LIST_COLUMNS.map((c) => ({ ...c, aliases: [...c.aliases, c.label] }));

const CODE = /^[A-Za-z0-9._-]{1,64}$/;
const PERCENT = /^\d{1,4}(?:\.\d{1,2})?$/;

/** A `YYYY-MM-DD` that is a real calendar date, or null. */
export function calendarDate(text: string): string | null {
  // A date cell reads back as its ISO time at UTC midnight.
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T00:00:00(?:\.000)?Z)?$/.exec(text);
  if (!m) return null;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3])
    ? `${m[1]}-${m[2]}-${m[3]}`
    : null;
}

export interface PriceSheetRow {
  row: number;
  item?: PriceItemInput;
  problems: string[];
}

async function readPriceSheet(rows: AsyncIterable<SheetRecord>, currency: string, kind: SheetKind) {
  const sheet = await sheetCells(rows, COLUMNS_READ, kind, ['minQuantity', 'price', 'percent']);
  return sheet.map(({ row, cells, problems }): PriceSheetRow => {
    if (!CODE.test(cells.sku))
      problems.push(
        cells.sku === ''
          ? 'SKU is missing / 缺少货号'
          : `SKU "${cells.sku}" may hold only letters, digits and . _ - / 货号只能包含字母、数字和 . _ -`,
      );
    let minQuantity = 1;
    if (cells.minQuantity !== '') {
      const q = parseQuantity(cells.minQuantity);
      if (q.ok) minQuantity = q.value;
      else problems.push(`min quantity: ${q.message} / 起订数量无效`);
    }
    let price: number | undefined;
    let percent: number | undefined;
    if (cells.price !== '' && (cells.percent !== '' || cells.basedOn !== ''))
      problems.push('give either a price or a percent of another list, not both / 价格与百分比只能填一个');
    else if (cells.price !== '') {
      const p = parseMajorAmount(cells.price, currency);
      if (p.ok) price = p.value;
      else problems.push(`${p.message} / 价格无效`);
    } else if (cells.percent === '' || cells.basedOn === '')
      problems.push(
        'give a price, or a percent and the list it is based on / 请填写价格，或百分比及基于的价目表',
      );
    else {
      if (PERCENT.test(cells.percent)) percent = Number(cells.percent);
      else problems.push(`percent "${cells.percent}" is not a number such as 90 or 92.5 / 百分比无效`);
      if (!CODE.test(cells.basedOn))
        problems.push(`based on list "${cells.basedOn}" is not a code / 价目表代码无效`);
    }
    const dates: Record<'validFrom' | 'validTo', string | null> = { validFrom: null, validTo: null };
    for (const field of ['validFrom', 'validTo'] as const) {
      if (cells[field] === '') continue;
      dates[field] = calendarDate(cells[field]);
      if (dates[field] === null)
        problems.push(
          `${field} "${cells[field]}" is not a date such as 2026-12-31 / 日期格式应为 2026-12-31`,
        );
    }
    if (problems.length > 0) return { row, problems };
    return {
      row,
      problems,
      item: {
        sku: cells.sku,
        minQuantity,
        ...dates,
        ...(price !== undefined ? { price } : { percent: percent!, basedOn: cells.basedOn }),
      },
    };
  });
}

export interface PriceSheetImport {
  fileName: string;
  rows: number;
  saved: ItemsSaved;
}

/** Why the import changed nothing: the file as a whole, or each bad row. */
function rejected(message: string, rows: { row: number; reason: string }[]) {
  return new ValidationError('invalid_sheet', message, { rows });
}

/**
 * Imports a sheet as the list's items (the same as `PUT /api/price-lists/{code}/items` with the
 * sheet's rows). 422 naming every bad row, or the problem with the file; 409 for a tie or a cycle.
 */
export async function importPriceListSheet(
  db: Db,
  code: string,
  input: OrderFileInput,
): Promise<PriceSheetImport> {
  const { list } = await priceListItems(db, code);
  const read = await readSheetRows(input, (rows, kind) => readPriceSheet(rows, list.currency, kind));
  if ('error' in read) throw rejected(`${read.error}; nothing was changed / 未做任何更改`, []);
  const bad = read.value.filter((r) => r.problems.length > 0);
  if (bad.length > 0)
    throw rejected(
      `${bad.length} row(s) are not valid; nothing was changed / ${bad.length} 行无效，未做任何更改`,
      bad.map((r) => ({ row: r.row, reason: r.problems.join('; ') })),
    );
  const rows = read.value;
  try {
    const saved = await putPriceListItems(
      db,
      code,
      rows.map((r) => r.item!),
    );
    return { fileName: input.fileName, rows: rows.length, saved };
  } catch (err) {
    // Item problems name the item's index: told as the sheet's row numbers.
    if (err instanceof ValidationError && err.code === 'invalid_items' && Array.isArray(err.details)) {
      const byRow = (err.details as { path: string; message: string }[]).map((d) => {
        const index = Number(/^items\.(\d+)\./.exec(d.path)?.[1] ?? -1);
        return {
          row: rows[index]?.row ?? 0,
          reason: `${d.message} / ${d.path.endsWith('sku') ? '货号不存在' : '无效'}`,
        };
      });
      throw rejected(
        `${byRow.length} row(s) are not valid; nothing was changed / ${byRow.length} 行无效，未做任何更改`,
        byRow,
      );
    }
    throw err;
  }
}

/** The list as a sheet the import takes back, written with exceljs's streaming writer. */
export async function exportPriceListSheet(
  db: Db,
  code: string,
): Promise<{ fileName: string; stream: Readable }> {
  const { list, items } = await priceListItems(db, code);
  const stream = new PassThrough();
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream, useStyles: true });
  const sheet = workbook.addWorksheet(list.code.slice(0, 31), { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = PRICE_LIST_COLUMNS.map((c) => ({ width: c.field === 'sku' ? 22 : 16 }));
  const header = sheet.addRow(PRICE_LIST_COLUMNS.map((c) => c.label));
  header.font = { bold: true };
  header.commit();
  for (const item of items)
    sheet
      .addRow([
        item.sku,
        item.minQuantity,
        item.price === null ? null : formatMinor(item.price, list.currency),
        item.percent === null ? null : String(item.percent),
        item.basedOn,
        item.validFrom,
        item.validTo,
      ])
      .commit();
  sheet.commit();
  workbook.commit().catch((err: Error) => stream.destroy(err));
  return { fileName: `price-list-${list.code}.xlsx`, stream };
}
