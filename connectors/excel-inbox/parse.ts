import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { codeKey } from '../../src/domain/codes.js';
import { bilingual } from './bilingual.js';
import { cellText } from './cell-text.js';
import { type CheckedRow, checkRow, type RawRow } from './check-row.js';
import { CsvFormatError, CsvParser } from './csv.js';
import { groupOrders } from './group-orders.js';
import { type ColumnMap, type Field, matchHeaders } from './headers.js';
import type { OrderFileInput, ParsedOrderFile, ParseOrderFileOptions } from './types.js';
import { checkXlsxArchive, type UnpackLimits } from './zip-guard.js';

const DEFAULT_CURRENCY = 'EUR';
const DEFAULT_MAX_ROWS = 50_000;

/** The largest order file taken, uploaded or dropped into the inbox. */
export const MAX_ORDER_FILE_BYTES = 20 * 1024 * 1024;
/** Excel's own limit on the characters of one cell: a longer cell was not written by Excel. */
export const MAX_CELL_CHARS = 32_767;
/**
 * How far an .xlsx may unpack. A 50,000-row order sheet unpacks to some 25 MB; these leave room for
 * that and keep a daemon reading several files at once far below its memory.
 */
export const XLSX_UNPACK_LIMITS: UnpackLimits = {
  maxUnpackedBytes: 128 * 1024 * 1024,
  maxSharedStringsBytes: 32 * 1024 * 1024,
  // A cell of 32,767 characters written as XML entities (`&quot;`) takes at most 6 bytes each.
  maxTextRunBytes: 6 * MAX_CELL_CHARS + 1024,
};

/**
 * Something about the whole file that stops it from being read; its message (`English / 中文`, see
 * `bilingual`) is shown to the customer.
 */
class WholeFileError extends Error {
  override name = 'WholeFileError';
}

/** A `WholeFileError` saying `en` and `zh`. */
const wholeFile = (en: string, zh: string) => new WholeFileError(bilingual(en, zh));

interface SheetRow {
  /** 1-based row number as the sheet shows it. */
  row: number;
  /** Cell texts, trimmed, column A first. */
  cells: string[];
  /** 0-based indexes of the cells that hold a date (a number formatted as a date, in a workbook). */
  dates?: ReadonlySet<number>;
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
    // Styles tell a date (a day count formatted as a date) from a number.
    styles: 'cache',
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
        const dates = new Set<number>();
        for (let c = 1; c < values.length; c++) {
          const value = values[c];
          if (value instanceof Date || (value as { result?: unknown } | null)?.result instanceof Date)
            dates.add(c - 1);
          cells.push(boundedCell(cellText(value), row.number));
        }
        yield { row: row.number, cells, ...(dates.size > 0 ? { dates } : {}) };
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
  if (!found) throw wholeFile('the workbook has no worksheet', '工作簿中没有工作表');
}

/** A cell's text, or the whole file refused when it is longer than any cell Excel writes. */
function boundedCell(text: string, row: number): string {
  if (text.length > MAX_CELL_CHARS) {
    throw wholeFile(
      `row ${row} has a cell of more than ${MAX_CELL_CHARS} characters`,
      `第 ${row} 行有单元格超过 ${MAX_CELL_CHARS} 个字符`,
    );
  }
  return text;
}

/** The text encodings a CSV is read in: UTF-8, or GB18030 (which includes GBK), as Excel saves "CSV" on Chinese Windows. */
export type CsvEncoding = 'utf-8' | 'gb18030';

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * The encoding of a CSV: UTF-8 when it starts with a UTF-8 byte order mark or is valid UTF-8
 * throughout (read once to the end to know), else GB18030.
 */
export async function detectCsvEncoding(
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>,
): Promise<CsvEncoding> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let first = true;
  try {
    for await (const chunk of chunks) {
      if (first && chunk.subarray(0, 3).equals(UTF8_BOM)) return 'utf-8';
      first = false;
      decoder.decode(chunk, { stream: true });
    }
    decoder.decode();
    return 'utf-8';
  } catch {
    return 'gb18030';
  }
}

function textDecoder(encoding: CsvEncoding): (chunk?: Buffer) => string {
  const notText = () =>
    wholeFile(
      'the file is not UTF-8 or GB18030 (Chinese) text: save it from Excel as "CSV UTF-8"',
      '文件不是 UTF-8 或 GB18030（简体中文）编码的文本：请在 Excel 中另存为“CSV UTF-8”',
    );
  if (encoding === 'gb18030') {
    const decoder = iconv.getDecoder('gb18030');
    return (chunk) => {
      const text = chunk ? decoder.write(chunk) : (decoder.end() ?? '');
      // Bytes that are not GB18030 either come out as U+FFFD: guessing further would import garbage.
      if (text.includes('\uFFFD')) throw notText();
      return text;
    };
  }
  const decoder = new TextDecoder('utf-8', { fatal: true });
  return (chunk) => {
    try {
      return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    } catch {
      throw notText();
    }
  };
}

/**
 * The records of a CSV in `encoding` (a leading byte order mark is dropped), read chunk by chunk;
 * full-width characters are not changed here (see `rawRow`).
 */
async function* csvRows(
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>,
  encoding: CsvEncoding = 'utf-8',
): AsyncGenerator<SheetRow> {
  const decode = textDecoder(encoding);
  const parser = new CsvParser();
  let row = 0;
  let first = true;
  const cells = (record: string[]) => record.map((c) => boundedCell(c.trim(), row));
  try {
    for await (const chunk of chunks) {
      // NUL bytes are valid UTF-8 but never in a CSV: UTF-16 text or a binary file.
      if (first && chunk.includes(0)) {
        throw wholeFile(
          'the file is not UTF-8 text: save it from Excel as "CSV UTF-8"',
          '文件不是 UTF-8 文本：请在 Excel 中另存为“CSV UTF-8”',
        );
      }
      first = false;
      for (const record of parser.push(decode(chunk))) {
        row++;
        yield { row, cells: cells(record) };
      }
    }
    const records = [...parser.push(decode()), ...parser.end()];
    for (const record of records) {
      row++;
      yield { row, cells: cells(record) };
    }
  } catch (err) {
    if (err instanceof CsvFormatError)
      throw wholeFile(`the CSV cannot be read: ${err.message}`, `无法读取 CSV 文件：${err.zh}`);
    throw err;
  }
}

/**
 * A data row's order fields. Full-width forms (`１２`, `ＰＯ－１`, as typed with a Chinese input
 * method) are read as their plain ones (NFKC), so they are the same order number, quantity or price.
 */
function rawRow({ row, cells, dates }: SheetRow, columns: ColumnMap, readProblems: string[]): RawRow {
  const at = (field: Field) => {
    const index = columns[field];
    return index === undefined ? '' : (cells[index] ?? '').normalize('NFKC').trim();
  };
  const isDate = (field: 'quantity' | 'unitPrice') => {
    const index = columns[field];
    return index !== undefined && (dates?.has(index) ?? false);
  };
  const dateFields = (['quantity', 'unitPrice'] as const).filter(isDate);
  const customerName = at('customerName');
  return {
    row,
    orderNo: at('orderNo'),
    customerCode: at('customerCode'),
    sku: at('sku'),
    quantity: at('quantity'),
    unitPrice: at('unitPrice'),
    currency: at('currency'),
    discount: at('discount'),
    shipping: at('shipping'),
    contract: at('contract'),
    promotionCode: at('promotionCode'),
    ...(customerName ? { customerName } : {}),
    ...(dateFields.length > 0 ? { dateFields } : {}),
    ...(readProblems.length > 0 ? { readProblems } : {}),
  };
}

/** How the rows of a file are read. */
interface ReadRules {
  defaultCurrency: string;
  maxRows: number;
  /**
   * Every row must have as many cells as the header (CSV): a stray delimiter, such as an unquoted
   * decimal comma (`12,50`), shifts the cells after it into the wrong columns.
   */
  sameWidthAsHeader: boolean;
  /** See `ParseOrderFileOptions.senderCustomer`. */
  senderCustomer?: string | undefined;
}

/**
 * A row of a sheet its sender's customer sent: an empty customer cell (or none) is the sender's;
 * another customer's row is refused, so no one orders in another customer's name by e-mail.
 */
function asSender(raw: RawRow, sender: string): RawRow {
  if (raw.customerCode === '') return { ...raw, customerCode: sender };
  // The sender's code as the customer has it, whatever the sheet's spelling: one order whoever types it.
  if (codeKey(raw.customerCode) === codeKey(sender)) return { ...raw, customerCode: sender };
  const problem = bilingual(
    `customer ${raw.customerCode} is not the sender's customer ${sender}: a sheet sent by e-mail ` +
      "orders for its sender's customer only",
    `客户 ${raw.customerCode} 不是发件人所属的客户 ${sender}：通过邮件发送的订单表只能为发件人所属的客户下单`,
  );
  return { ...raw, readProblems: [...(raw.readProblems ?? []), problem] };
}

/** Reads the header and checks every data row; throws `WholeFileError` for what rejects the file. */
async function checkRows(rows: AsyncIterable<SheetRow>, rules: ReadRules): Promise<CheckedRow[]> {
  const { defaultCurrency, maxRows } = rules;
  let columns: ColumnMap | undefined;
  let headerWidth = 0;
  const checked: CheckedRow[] = [];
  for await (const sheetRow of rows) {
    const { cells } = sheetRow;
    if (cells.every((c) => c === '')) continue;
    if (!columns) {
      const match = matchHeaders(cells, rules.senderCustomer ? { optional: ['customerCode'] } : {});
      if (!match.ok) throw new WholeFileError(match.message);
      columns = match.columns;
      headerWidth = cells.length;
      continue;
    }
    const readProblems =
      rules.sameWidthAsHeader && cells.length !== headerWidth
        ? [
            bilingual(
              `the row has ${cells.length} cells but the header has ${headerWidth}: a comma in a value ` +
                '(such as 12,50) must be inside quotes, or written 12.50',
              `该行有 ${cells.length} 个单元格，表头有 ${headerWidth} 个：值中的逗号（如 12,50）须加引号，或写成 12.50`,
            ),
          ]
        : [];
    const read = rawRow(sheetRow, columns, readProblems);
    const raw = rules.senderCustomer ? asSender(read, rules.senderCustomer) : read;
    // A row whose order columns are all blank (only a note in another column) is not an order row.
    if (!raw.orderNo && !read.customerCode && !raw.sku && !raw.quantity && !raw.unitPrice && !raw.currency) {
      continue;
    }
    if (checked.length >= maxRows) {
      throw wholeFile(
        `the file has more than ${maxRows} order rows: split it into smaller files`,
        `文件超过 ${maxRows} 个订单行：请拆分成较小的文件`,
      );
    }
    checked.push(checkRow(raw, defaultCurrency));
  }
  if (!columns) throw wholeFile('the file is empty', '文件为空');
  if (checked.length === 0)
    throw wholeFile('the file has a header row but no order rows', '文件只有表头，没有订单行');
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
  const {
    defaultCurrency = DEFAULT_CURRENCY,
    maxRows = DEFAULT_MAX_ROWS,
    maxFileBytes = MAX_ORDER_FILE_BYTES,
  } = options;
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

  const read = await readSheetRows(
    input,
    (rows, kind) =>
      checkRows(rows, {
        defaultCurrency,
        maxRows,
        sameWidthAsHeader: kind === 'csv',
        senderCustomer: options.senderCustomer,
      }),
    { maxFileBytes },
  );
  return 'error' in read ? fail(read.error) : { fileName, ...groupOrders(read.value) };
}

/** One row of a sheet as `readSheetRows` gives it: its 1-based number and its cell texts, trimmed. */
export type SheetRecord = SheetRow;

/**
 * The rows of any sheet file this reader takes (order files, and the catalogue's SKU and
 * opening-stock sheets): the checks of the file type and size, the zip guard of an .xlsx before
 * exceljs unpacks it, the CSV's encoding, and the streaming .xlsx and .csv readers. `consume` reads
 * the rows (`kind` says which reader: a CSV row's width is its own, an .xlsx row's is not); it may
 * throw `SheetFileError` for what rejects the whole file (a missing column, too many rows). Comes
 * back with `error` for a file that cannot be read, never throws for what is in the file.
 */
export async function readSheetRows<T>(
  input: OrderFileInput,
  consume: (rows: AsyncIterable<SheetRecord>, kind: 'xlsx' | 'csv') => Promise<T>,
  options: { maxFileBytes?: number } = {},
): Promise<{ value: T } | { error: string }> {
  const { maxFileBytes = MAX_ORDER_FILE_BYTES } = options;
  const fileName = input.fileName;
  const ext = path.extname(fileName).toLowerCase();
  const refuse = (en: string, zh: string) => ({ error: bilingual(en, zh) });
  if (ext === '.xls')
    return refuse(
      'old .xls workbooks are not read: save the file as .xlsx (Excel Workbook)',
      '不支持旧版 .xls 工作簿：请另存为 .xlsx（Excel 工作簿）',
    );
  if (ext !== '.xlsx' && ext !== '.csv') {
    return refuse(
      `unsupported file type "${ext || fileName}": send an .xlsx workbook or a .csv file`,
      `不支持的文件类型“${ext || fileName}”：请发送 .xlsx 工作簿或 .csv 文件`,
    );
  }

  let head: Buffer;
  let size: number;
  try {
    head = await firstBytes(input, 4);
    size = 'data' in input ? input.data.length : (await stat(input.path)).size;
  } catch (err) {
    return refuse(`the file cannot be read (${errorCode(err)})`, `无法读取文件（${errorCode(err)}）`);
  }
  if (size > maxFileBytes) {
    return refuse(
      `the file has ${size} bytes; files may have at most ${maxFileBytes}: split it`,
      `文件大小为 ${size} 字节，上限为 ${maxFileBytes} 字节：请拆分`,
    );
  }
  if (head.length === 0) return refuse('the file is empty', '文件为空');
  if (ext === '.xlsx' && !head.equals(ZIP_MAGIC)) {
    return head.equals(CFB_MAGIC)
      ? refuse(
          'the file is an old .xls workbook or is password-protected: save it as .xlsx without a password',
          '文件是旧版 .xls 工作簿或设有密码：请另存为不带密码的 .xlsx',
        )
      : refuse(
          'the file is not an .xlsx workbook (it is not a zip archive)',
          '文件不是 .xlsx 工作簿（不是 zip 压缩包）',
        );
  }
  if (ext === '.csv' && head.equals(ZIP_MAGIC)) {
    return refuse(
      'the file is an .xlsx workbook named .csv: send it with the .xlsx extension',
      '文件是以 .csv 命名的 .xlsx 工作簿：请改用 .xlsx 扩展名发送',
    );
  }

  const unpackError = ext === '.xlsx' ? await checkArchive(input) : null;
  if (unpackError) return { error: unpackError };
  const encoding = ext === '.csv' ? await detectCsvEncoding(chunksOf(input)) : 'utf-8';

  const stream = chunksOf(input);
  try {
    const rows = ext === '.xlsx' ? xlsxRows(stream) : csvRows(stream, encoding);
    // `pipe` does not pass a read error on to exceljs's unzipper, which would then wait forever.
    const readFailed = new Promise<never>((_, reject) => stream.once('error', reject));
    readFailed.catch(() => {});
    return { value: await Promise.race([consume(rows, ext === '.xlsx' ? 'xlsx' : 'csv'), readFailed]) };
  } catch (err) {
    if (err instanceof WholeFileError) return { error: err.message };
    const detail = errorCode(err);
    return ext === '.xlsx'
      ? { error: damagedWorkbook(detail) }
      : refuse(`the file cannot be read (${detail})`, `无法读取文件（${detail}）`);
  } finally {
    stream.destroy();
  }
}

/**
 * What `readSheetRows`'s caller throws for a problem with the whole file; its message is shown to
 * the customer, so it is written in both languages (`bilingual`).
 */
export const SheetFileError = WholeFileError;

function chunksOf(input: OrderFileInput): Readable {
  const stream = 'data' in input ? Readable.from([input.data]) : createReadStream(input.path);
  // Errors after the first are of no interest; without a listener they would crash the process.
  stream.on('error', () => {});
  return stream;
}

function damagedWorkbook(detail: string): string {
  return bilingual(
    `the workbook cannot be read: it is damaged or not an .xlsx file (${detail})`,
    `无法读取工作簿：文件已损坏或不是 .xlsx 文件（${detail}）`,
  );
}

/** What refuses an .xlsx before exceljs unpacks it (see `checkXlsxArchive`), or null. */
async function checkArchive(input: OrderFileInput): Promise<string | null> {
  try {
    const problem = await checkXlsxArchive(input, XLSX_UNPACK_LIMITS);
    return problem === null
      ? null
      : bilingual(`the workbook is refused: ${problem.en}`, `已拒绝读取该工作簿：${problem.zh}`);
  } catch (err) {
    return damagedWorkbook(errorCode(err));
  }
}
