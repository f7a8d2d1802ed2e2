import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import { cellText } from './cell-text.js';
import { type CheckedRow, checkRow, type RawRow } from './check-row.js';
import { CsvFormatError, CsvParser } from './csv.js';
import { groupOrders } from './group-orders.js';
import { type ColumnMap, type Field, matchHeaders } from './headers.js';
import type { OrderFileInput, ParsedOrderFile, ParseOrderFileOptions } from './types.js';

const DEFAULT_CURRENCY = 'EUR';
const DEFAULT_MAX_ROWS = 50_000;

/** Something about the whole file that stops it from being read; its message is shown to the customer. */
class WholeFileError extends Error {
  override name = 'WholeFileError';
}

interface SheetRow {
  /** 1-based row number as the sheet shows it. */
  row: number;
  /** Cell texts, trimmed, column A first. */
  cells: string[];
}

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
/** Compound File Binary: old .xls workbooks, and .xlsx files saved with a password. */
const CFB_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0]);

async function firstBytes(input: OrderFileInput, count: number): Promise<Buffer> {
  if ('data' in input) return input.data.subarray(0, count);
  const file = await open(input.path, 'r');
  try {
    const buffer = Buffer.alloc(count);
    const { bytesRead } = await file.read(buffer, 0, count, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

type SheetReader = AsyncIterable<ExcelJS.Row>;

/** Reads a worksheet to its end without looking at it. */
async function drain(sheet: SheetReader): Promise<void> {
  for await (const _row of sheet) {
    // nothing: reading it to the end lets exceljs close and remove what it holds for the sheet
  }
}

/**
 * The rows of the workbook's first worksheet, streamed: memory stays flat however long the sheet is.
 *
 * exceljs parks a worksheet that comes before the shared strings in the zip (as Excel writes them) in
 * a temporary file, and closes and removes it only once the sheet has been read to the end. So every
 * other sheet is read through unlooked-at, and when the caller stops early (a bad header, too many
 * rows) the rest of the workbook is too; otherwise each file would leak descriptors and temp files.
 */
async function* xlsxRows(stream: Readable): AsyncGenerator<SheetRow> {
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(stream, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    hyperlinks: 'ignore',
    styles: 'ignore',
    entries: 'ignore',
  });
  // exceljs reads `model.sheets` when it meets a worksheet, and sets `model` only once it has read
  // xl/workbook.xml; a worksheet met first made it throw ("reading 'sheets'"), now and then under
  // load. With an empty model to start with, such a sheet is simply taken without its name.
  const withModel = reader as unknown as { model?: { sheets?: unknown[] } };
  withModel.model ??= { sheets: [] };
  const sheets = reader[Symbol.asyncIterator]();
  let found = false;
  let finished = false;
  try {
    for (let next = await sheets.next(); !next.done; next = await sheets.next()) {
      const sheet = next.value;
      // Worksheets arrive in zip order; the first of the workbook's own order is the one read.
      const model = (reader as unknown as { model?: { sheets?: { name?: string }[] } }).model;
      const first = model?.sheets?.[0]?.name;
      const name = (sheet as unknown as { name?: string }).name;
      // A sheet exceljs met before it had read the workbook's list has no name: take it in zip order.
      if (found || (first !== undefined && name !== undefined && name !== first)) {
        await drain(sheet);
        continue;
      }
      found = true;
      for await (const row of sheet) {
        const values = row.values as unknown[];
        const cells: string[] = [];
        for (let c = 1; c < values.length; c++) cells.push(cellText(values[c]));
        yield { row: row.number, cells };
      }
    }
    finished = true;
  } finally {
    if (!finished) {
      try {
        for (let next = await sheets.next(); !next.done; next = await sheets.next()) await drain(next.value);
      } catch {
        // the workbook is damaged further on: what it held is released with the stream
      }
    }
  }
  if (!found) throw new WholeFileError('the workbook has no worksheet');
}

/** The records of a UTF-8 CSV (a leading byte order mark is dropped), read chunk by chunk. */
async function* csvRows(chunks: AsyncIterable<Buffer> | Iterable<Buffer>): AsyncGenerator<SheetRow> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const parser = new CsvParser();
  const notUtf8 = 'the file is not UTF-8 text: save it from Excel as "CSV UTF-8"';
  let row = 0;
  let first = true;
  const decode = (chunk?: Buffer): string => {
    try {
      return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    } catch {
      throw new WholeFileError(notUtf8);
    }
  };
  try {
    for await (const chunk of chunks) {
      // NUL bytes are valid UTF-8 but never in a CSV: UTF-16 text or a binary file.
      if (first && chunk.includes(0)) throw new WholeFileError(notUtf8);
      first = false;
      for (const record of parser.push(decode(chunk)))
        yield { row: ++row, cells: record.map((c) => c.trim()) };
    }
    const records = [...parser.push(decode()), ...parser.end()];
    for (const record of records) yield { row: ++row, cells: record.map((c) => c.trim()) };
  } catch (err) {
    if (err instanceof CsvFormatError) throw new WholeFileError(`the CSV cannot be read: ${err.message}`);
    throw err;
  }
}

function rawRow(row: number, cells: readonly string[], columns: ColumnMap): RawRow {
  const at = (field: Field) => {
    const index = columns[field];
    return index === undefined ? '' : (cells[index] ?? '');
  };
  return {
    row,
    orderNo: at('orderNo'),
    customerCode: at('customerCode'),
    sku: at('sku'),
    quantity: at('quantity'),
    unitPrice: at('unitPrice'),
    currency: at('currency'),
  };
}

/** Reads the header and checks every data row; throws `WholeFileError` for what rejects the file. */
async function checkRows(
  rows: AsyncIterable<SheetRow>,
  defaultCurrency: string,
  maxRows: number,
): Promise<CheckedRow[]> {
  let columns: ColumnMap | undefined;
  const checked: CheckedRow[] = [];
  for await (const { row, cells } of rows) {
    if (cells.every((c) => c === '')) continue;
    if (!columns) {
      const match = matchHeaders(cells);
      if (!match.ok) throw new WholeFileError(match.message);
      columns = match.columns;
      continue;
    }
    const raw = rawRow(row, cells, columns);
    // A row whose order columns are all blank (only a note in another column) is not an order row.
    if (!raw.orderNo && !raw.customerCode && !raw.sku && !raw.quantity && !raw.unitPrice && !raw.currency) {
      continue;
    }
    if (checked.length >= maxRows) {
      throw new WholeFileError(`the file has more than ${maxRows} order rows: split it into smaller files`);
    }
    checked.push(checkRow(raw, defaultCurrency));
  }
  if (!columns) throw new WholeFileError('the file is empty');
  if (checked.length === 0) throw new WholeFileError('the file has a header row but no order rows');
  return checked;
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
}

/**
 * Reads a batch order file (.xlsx: its first worksheet; .csv: UTF-8, comma, semicolon or tab
 * separated) into orders. The first non-empty row is the header. Never throws for what is in the
 * file: a file that cannot be read at all comes back with `error` and no orders; invalid rows reject
 * their whole order (see `groupOrders`). Throws `RangeError` only for invalid options.
 */
export async function parseOrderFile(
  input: OrderFileInput,
  options: ParseOrderFileOptions = {},
): Promise<ParsedOrderFile> {
  const { defaultCurrency = DEFAULT_CURRENCY, maxRows = DEFAULT_MAX_ROWS } = options;
  if (!/^[A-Z]{3}$/.test(defaultCurrency)) {
    throw new RangeError(`defaultCurrency must be an ISO 4217 code such as EUR, got "${defaultCurrency}"`);
  }
  if (!Number.isInteger(maxRows) || maxRows < 1) {
    throw new RangeError(`maxRows must be a whole number of at least 1, got ${maxRows}`);
  }
  const { fileName } = input;
  const fail = (error: string): ParsedOrderFile => ({
    fileName,
    error,
    orders: [],
    rejectedOrders: [],
    rows: [],
  });

  const ext = path.extname(fileName).toLowerCase();
  if (ext === '.xls') return fail('old .xls workbooks are not read: save the file as .xlsx (Excel Workbook)');
  if (ext !== '.xlsx' && ext !== '.csv') {
    return fail(`unsupported file type "${ext || fileName}": send an .xlsx workbook or a .csv file`);
  }

  let head: Buffer;
  try {
    head = await firstBytes(input, 4);
  } catch (err) {
    return fail(`the file cannot be read (${errorCode(err)})`);
  }
  if (head.length === 0) return fail('the file is empty');
  if (ext === '.xlsx' && !head.equals(ZIP_MAGIC)) {
    return fail(
      head.equals(CFB_MAGIC)
        ? 'the file is an old .xls workbook or is password-protected: save it as .xlsx without a password'
        : 'the file is not an .xlsx workbook (it is not a zip archive)',
    );
  }
  if (ext === '.csv' && head.equals(ZIP_MAGIC)) {
    return fail('the file is an .xlsx workbook named .csv: send it with the .xlsx extension');
  }

  const stream = 'data' in input ? Readable.from([input.data]) : createReadStream(input.path);
  // Errors after the first are of no interest; without a listener they would crash the process.
  stream.on('error', () => {});
  try {
    const rows = ext === '.xlsx' ? xlsxRows(stream) : csvRows(stream);
    // `pipe` does not pass a read error on to exceljs's unzipper, which would then wait forever.
    const readFailed = new Promise<never>((_, reject) => stream.once('error', reject));
    readFailed.catch(() => {});
    const checked = await Promise.race([checkRows(rows, defaultCurrency, maxRows), readFailed]);
    return { fileName, ...groupOrders(checked) };
  } catch (err) {
    if (err instanceof WholeFileError) return fail(err.message);
    const detail = errorCode(err);
    return fail(
      ext === '.xlsx'
        ? `the workbook cannot be read: it is damaged or not an .xlsx file (${detail})`
        : `the file cannot be read (${detail})`,
    );
  } finally {
    stream.destroy();
  }
}

/** One row of a sheet as `readSheetRows` gives it: its 1-based number and its cell texts, trimmed. */
export type SheetRecord = SheetRow;

/**
 * The rows of any sheet file this reader takes, for imports other than orders (the catalogue's SKU
 * and opening-stock sheets): the same checks of the file type, the same streaming .xlsx and .csv
 * readers as `parseOrderFile`, with the caller's own columns. `consume` reads the rows; it may throw
 * `SheetFileError` for what rejects the whole file (a missing column, too many rows). Comes back with
 * `error` for a file that cannot be read, never throws for what is in the file.
 */
export async function readSheetRows<T>(
  input: OrderFileInput,
  consume: (rows: AsyncIterable<SheetRecord>) => Promise<T>,
): Promise<{ value: T } | { error: string }> {
  const ext = path.extname(input.fileName).toLowerCase();
  if (ext === '.xls')
    return { error: 'old .xls workbooks are not read: save the file as .xlsx (Excel Workbook)' };
  if (ext !== '.xlsx' && ext !== '.csv') {
    return {
      error: `unsupported file type "${ext || input.fileName}": send an .xlsx workbook or a .csv file`,
    };
  }
  let head: Buffer;
  try {
    head = await firstBytes(input, 4);
  } catch (err) {
    return { error: `the file cannot be read (${errorCode(err)})` };
  }
  if (head.length === 0) return { error: 'the file is empty' };
  if (ext === '.xlsx' && !head.equals(ZIP_MAGIC)) {
    return {
      error: head.equals(CFB_MAGIC)
        ? 'the file is an old .xls workbook or is password-protected: save it as .xlsx without a password'
        : 'the file is not an .xlsx workbook (it is not a zip archive)',
    };
  }
  if (ext === '.csv' && head.equals(ZIP_MAGIC)) {
    return { error: 'the file is an .xlsx workbook named .csv: send it with the .xlsx extension' };
  }
  const stream = 'data' in input ? Readable.from([input.data]) : createReadStream(input.path);
  stream.on('error', () => {});
  try {
    const rows = ext === '.xlsx' ? xlsxRows(stream) : csvRows(stream);
    const readFailed = new Promise<never>((_, reject) => stream.once('error', reject));
    readFailed.catch(() => {});
    return { value: await Promise.race([consume(rows), readFailed]) };
  } catch (err) {
    if (err instanceof WholeFileError) return { error: err.message };
    const detail = errorCode(err);
    return {
      error:
        ext === '.xlsx'
          ? `the workbook cannot be read: it is damaged or not an .xlsx file (${detail})`
          : `the file cannot be read (${detail})`,
    };
  } finally {
    stream.destroy();
  }
}

/** What `readSheetRows`'s caller throws for a problem with the whole file; its message is shown to the customer. */
export const SheetFileError = WholeFileError;
