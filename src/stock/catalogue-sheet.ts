import { parseQuantity } from '../../connectors/excel-inbox/check-row.js';
import { headerKey } from '../../connectors/excel-inbox/headers.js';
import { parseMajorAmount } from '../../connectors/excel-inbox/money.js';
import { SheetFileError, type SheetRecord } from '../../connectors/excel-inbox/parse.js';
import { codeKey } from '../domain/codes.js';

/**
 * The columns of the catalogue sheets (SKUs, opening stock) and the checks of their rows. The file
 * itself is read by the order-sheet reader (`readSheetRows`); only the columns are ours. Messages a
 * customer reads are in English and Chinese.
 */

export interface ColumnSpec<F extends string> {
  field: F;
  /** How the column is named in messages, English / Chinese. */
  label: string;
  required: boolean;
  /** Header texts that mean the column; compared after `headerKey` (case, spaces, `_-.#` do not count). */
  aliases: readonly string[];
}

const SKU_ALIASES = ['sku', 'sku code', 'code', 'item', 'item code', '货号', '商品编码', 'sku编码', '编码'];

export const SKU_COLUMNS = [
  { field: 'code', label: 'SKU / 货号', required: true, aliases: SKU_ALIASES },
  {
    field: 'name',
    label: 'name / 名称',
    required: true,
    aliases: ['name', 'description', '名称', '商品名称', '品名'],
  },
  {
    field: 'unitPrice',
    label: 'unit price / 单价',
    required: true,
    aliases: ['unit price', 'price', '单价', '价格'],
  },
  { field: 'currency', label: 'currency / 币种', required: false, aliases: ['currency', '币种', '货币'] },
  {
    field: 'reorderPoint',
    label: 'reorder point / 补货点',
    required: false,
    aliases: ['reorder point', 'reorder level', 'min stock', '补货点', '再订货点'],
  },
] as const satisfies readonly ColumnSpec<string>[];

export const STOCK_COLUMNS = [
  { field: 'sku', label: 'SKU / 货号', required: true, aliases: SKU_ALIASES },
  {
    field: 'warehouse',
    label: 'warehouse / 仓库',
    required: false,
    aliases: ['warehouse', 'warehouse code', '仓库', '仓库编码'],
  },
  {
    field: 'quantity',
    label: 'quantity / 数量',
    required: true,
    aliases: ['quantity', 'qty', 'opening stock', 'on hand', '数量', '库存', '期初库存'],
  },
] as const satisfies readonly ColumnSpec<string>[];

type FieldOf<C extends readonly ColumnSpec<string>[]> = C[number]['field'];
type Cells<C extends readonly ColumnSpec<string>[]> = Record<FieldOf<C>, string>;

/** Column index of each field found in a header row; throws `SheetFileError` naming what is missing or doubled. */
function matchColumns<C extends readonly ColumnSpec<string>[]>(
  header: readonly string[],
  specs: C,
): Partial<Record<FieldOf<C>, number>> {
  const byKey = new Map(specs.flatMap((spec) => spec.aliases.map((a) => [headerKey(a), spec] as const)));
  const columns: Partial<Record<string, number>> = {};
  const problems: string[] = [];
  header.forEach((text, index) => {
    const spec = byKey.get(headerKey(text));
    if (!spec) return;
    const seen = columns[spec.field];
    if (seen !== undefined)
      problems.push(`"${header[seen]}" and "${text}" both name the ${spec.label} column`);
    else columns[spec.field] = index;
  });
  const missing = specs.filter((s) => s.required && columns[s.field] === undefined);
  if (missing.length > 0) {
    const names = missing.map((s) => `${s.label} (${s.aliases.map((a) => `"${a}"`).join(', ')})`);
    problems.unshift(
      `missing required column / 缺少必填列: ${names.join('; ')}. The first non-empty row is read as the header / 第一行非空行为表头`,
    );
  }
  if (problems.length > 0) throw new SheetFileError(problems.join('. '));
  return columns as Partial<Record<FieldOf<C>, number>>;
}

/** Most data rows one catalogue sheet may hold; a longer one is refused whole, before anything is stored. */
export const MAX_CATALOGUE_ROWS = 50_000;

/** How a sheet was read: a CSV row's width is its own (a stray comma shifts every cell after it). */
export type SheetKind = 'xlsx' | 'csv';

/**
 * The data rows of a sheet as the texts of our columns (empty for an absent column), blank rows
 * skipped, each with the problems of its shape: a CSV row wider or narrower than the header, a
 * date in a number column (Excel shows 2026-01-15 but holds 46,037).
 */
export async function sheetCells<C extends readonly ColumnSpec<string>[]>(
  rows: AsyncIterable<SheetRecord>,
  specs: C,
  kind: SheetKind,
  numberFields: readonly FieldOf<C>[],
): Promise<{ row: number; cells: Cells<C>; problems: string[] }[]> {
  let columns: Partial<Record<FieldOf<C>, number>> | undefined;
  let width = 0;
  const out: { row: number; cells: Cells<C>; problems: string[] }[] = [];
  for await (const { row, cells, dates } of rows) {
    if (cells.every((c) => c === '')) continue;
    if (!columns) {
      columns = matchColumns(cells, specs);
      width = cells.length;
      continue;
    }
    const problems: string[] = [];
    if (kind === 'csv' && cells.length !== width)
      problems.push(
        `the row has ${cells.length} cells and the header ${width}: a comma inside a value needs quotes / 该行有 ${cells.length} 个单元格，表头有 ${width} 个：值中的逗号须加引号`,
      );
    for (const field of numberFields) {
      const index = columns[field];
      if (index !== undefined && dates?.has(index)) {
        const label = specs.find((s) => s.field === field)?.label ?? field;
        problems.push(`${label}: the cell holds a date, not a number / 单元格是日期，不是数字`);
      }
    }
    const picked = Object.fromEntries(
      specs.map((s) => {
        const index = columns![s.field as FieldOf<C>];
        return [s.field, index === undefined ? '' : (cells[index] ?? '')];
      }),
    ) as Cells<C>;
    // A row whose catalogue columns are all blank (only a note elsewhere) is not a data row.
    if (Object.values<string>(picked).every((v) => v === '')) continue;
    if (out.length >= MAX_CATALOGUE_ROWS)
      throw new SheetFileError(
        `the file has more than ${MAX_CATALOGUE_ROWS} rows: split it into smaller files / 文件超过 ${MAX_CATALOGUE_ROWS} 行，请拆分`,
      );
    out.push({ row, cells: picked, problems });
  }
  if (!columns) throw new SheetFileError('the file is empty / 文件为空');
  if (out.length === 0)
    throw new SheetFileError('the file has a header row but no data rows / 文件只有表头，没有数据行');
  return out;
}

const CODE = /^[A-Za-z0-9._-]{1,64}$/;
const CURRENCY = /^[A-Z]{3}$/;
const MAX_REORDER_POINT = 100_000_000;

/** A problem with one code cell, or null when it is a valid SKU or warehouse code. */
function codeProblem(text: string, what: string): string | null {
  if (text === '') return `${what} is missing / 缺少${what === 'SKU' ? '货号' : '仓库'}`;
  if (!CODE.test(text))
    return `${what} "${text}" may hold only letters, digits and . _ - (at most 64) / 只能包含字母、数字和 . _ -`;
  return null;
}

/** A reorder point cell: blank is "leave as it is"; otherwise a whole number from 0. */
function parseReorderPoint(
  text: string,
): { ok: true; value: number | undefined } | { ok: false; message: string } {
  if (text === '') return { ok: true, value: undefined };
  const m = /^(\d+)(?:\.0+)?$/.exec(text);
  if (!m || Number(m[1]) > MAX_REORDER_POINT)
    return {
      ok: false,
      message: `reorder point "${text}" is not a whole number from 0 to ${MAX_REORDER_POINT} / 补货点必须是整数`,
    };
  return { ok: true, value: Number(m[1]) };
}

export interface SkuSheetRow {
  row: number;
  /** The cells as written, for the result. */
  code: string;
  name: string;
  rawUnitPrice: string;
  currency: string;
  rawReorderPoint: string;
  /** Set when the row is valid on its own. */
  sku?: {
    code: string;
    name: string;
    unitPrice: number;
    currency: string;
    reorderPoint?: number | undefined;
  };
  problems: string[];
}

/** Reads the SKU sheet's rows and checks each on its own; a code a row before already used is a problem too. */
export async function readSkuSheet(
  rows: AsyncIterable<SheetRecord>,
  defaultCurrency: string | undefined,
  kind: SheetKind = 'xlsx',
): Promise<SkuSheetRow[]> {
  const seen = new Map<string, number>();
  const sheet = await sheetCells(rows, SKU_COLUMNS, kind, ['unitPrice', 'reorderPoint']);
  return sheet.map(({ row, cells, problems }) => {
    const codeIssue = codeProblem(cells.code, 'SKU');
    if (codeIssue) problems.push(codeIssue);
    else if (seen.has(codeKey(cells.code)))
      problems.push(
        `SKU ${cells.code} is also on row ${seen.get(codeKey(cells.code))} / 货号与第 ${seen.get(codeKey(cells.code))} 行重复`,
      );
    else seen.set(codeKey(cells.code), row);
    if (cells.name === '') problems.push('name is missing / 缺少名称');
    else if (cells.name.length > 255)
      problems.push('name is longer than 255 characters / 名称超过 255 个字符');
    const currency = cells.currency ? cells.currency.toUpperCase() : (defaultCurrency ?? '');
    if (currency === '') problems.push('currency is missing / 缺少币种');
    else if (!CURRENCY.test(currency))
      problems.push(`currency "${currency}" is not an ISO 4217 code such as EUR / 币种须为 ISO 4217 代码`);
    let unitPrice: number | undefined;
    if (cells.unitPrice === '') problems.push('unit price is missing / 缺少单价');
    else if (CURRENCY.test(currency)) {
      const price = parseMajorAmount(cells.unitPrice, currency);
      if (price.ok) unitPrice = price.value;
      else problems.push(`${price.message} / 单价无效`);
    }
    const reorder = parseReorderPoint(cells.reorderPoint);
    if (!reorder.ok) problems.push(reorder.message);
    const sku =
      problems.length === 0 && unitPrice !== undefined && reorder.ok
        ? { code: cells.code, name: cells.name, unitPrice, currency, reorderPoint: reorder.value }
        : undefined;
    return {
      row,
      code: cells.code,
      name: cells.name,
      rawUnitPrice: cells.unitPrice,
      currency,
      rawReorderPoint: cells.reorderPoint,
      problems,
      ...(sku ? { sku } : {}),
    };
  });
}

export interface StockSheetRow {
  row: number;
  sku: string;
  warehouse: string;
  rawQuantity: string;
  /** Set when the row is valid on its own; 0 means there is nothing to record. */
  quantity?: number;
  problems: string[];
}

/** Reads the opening-stock sheet's rows and checks each on its own; one SKU twice in one warehouse is a problem. */
export async function readStockSheet(
  rows: AsyncIterable<SheetRecord>,
  defaultWarehouse: string | undefined,
  kind: SheetKind = 'xlsx',
): Promise<StockSheetRow[]> {
  const seen = new Map<string, number>();
  const sheet = await sheetCells(rows, STOCK_COLUMNS, kind, ['quantity']);
  return sheet.map(({ row, cells, problems: shape }) => {
    const warehouse = cells.warehouse || defaultWarehouse || '';
    const problems = [codeProblem(cells.sku, 'SKU'), codeProblem(warehouse, 'warehouse')].filter(
      (p): p is string => p !== null,
    );
    problems.push(...shape);
    const key = `${codeKey(cells.sku)}\u0000${codeKey(warehouse)}`;
    if (problems.length === 0) {
      const first = seen.get(key);
      if (first !== undefined)
        problems.push(
          `SKU ${cells.sku} in warehouse ${warehouse} is also on row ${first} / 与第 ${first} 行的货号和仓库重复`,
        );
      else seen.set(key, row);
    }
    let quantity: number | undefined;
    if (/^0+(\.0+)?$/.test(cells.quantity)) quantity = 0;
    else {
      const parsed = parseQuantity(cells.quantity);
      if (parsed.ok) quantity = parsed.value;
      else problems.push(`${parsed.message} / 数量无效`);
    }
    return {
      row,
      sku: cells.sku,
      warehouse,
      rawQuantity: cells.quantity,
      problems,
      ...(problems.length === 0 && quantity !== undefined ? { quantity } : {}),
    };
  });
}
