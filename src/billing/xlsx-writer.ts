import type { Transform } from 'node:stream';
import { crc32, createDeflateRaw, deflateRawSync, type ZlibOptions } from 'node:zlib';

/**
 * A one-sheet .xlsx written directly: the package's fixed parts (content types, relationships,
 * styles) are built and compressed once, and each document adds only its sheet and workbook XML
 * (inline strings, no shared-strings table) to a zip written by hand. It does what the invoice
 * document needs and nothing more: text and number cells, four fonts (plain, bold, title, heading),
 * money number formats by decimals, column widths. About a hundred times cheaper per file than a
 * general workbook writer, which matters when a night issues 100,000 invoices. The zip entries carry
 * a fixed date, so the same rows always give the same bytes.
 */

export type CellValue = string | number | null | undefined;

/** Row fonts: 0 plain, 1 bold, 2 bold 14 pt (the company), 3 bold 16 pt (the document's title). */
export type RowFont = 0 | 1 | 2 | 3;

export interface SheetRow {
  /** Cells from column A; null or undefined leaves a cell empty. An empty list is a blank row. */
  cells: readonly CellValue[];
  font?: RowFont;
  /** 1-based columns whose numbers are money (shown with `moneyDigits` decimals). */
  money?: readonly number[];
}

export interface SheetSpec {
  /** The sheet's name (at most 31 characters are kept). */
  name: string;
  /** Column widths in characters, from column A. */
  widths: readonly number[];
  rows: readonly SheetRow[];
  /** Decimals of the money cells (0–4). */
  moneyDigits: number;
}

const NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL_NS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PKG_REL_NS = 'http://schemas.openxmlformats.org/package/2006/relationships';
const XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const MAX_DIGITS = 4;
/** Number formats per cell style: 0 general, then money with 0..MAX_DIGITS decimals. */
const FORMATS = MAX_DIGITS + 2;

const styleOf = (font: RowFont, digits: number | null) =>
  font * FORMATS + (digits === null ? 0 : 1 + Math.max(0, Math.min(MAX_DIGITS, digits)));

function stylesXml(): string {
  const numFmts = Array.from(
    { length: MAX_DIGITS + 1 },
    (_, d) => `<numFmt numFmtId="${164 + d}" formatCode="${d === 0 ? '#,##0' : `#,##0.${'0'.repeat(d)}`}"/>`,
  );
  const fonts = [
    '<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>',
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>',
    '<font><b/><sz val="14"/><name val="Calibri"/><family val="2"/></font>',
    '<font><b/><sz val="16"/><name val="Calibri"/><family val="2"/></font>',
  ];
  const xfs: string[] = [];
  for (let font = 0; font < fonts.length; font++) {
    for (let f = 0; f < FORMATS; f++) {
      const numFmt = f === 0 ? 0 : 164 + f - 1;
      xfs.push(
        `<xf numFmtId="${numFmt}" fontId="${font}" fillId="0" borderId="0" xfId="0"` +
          `${numFmt ? ' applyNumberFormat="1"' : ''}${font ? ' applyFont="1"' : ''}/>`,
      );
    }
  }
  return (
    `${XML_HEAD}<styleSheet xmlns="${NS}">` +
    `<numFmts count="${numFmts.length}">${numFmts.join('')}</numFmts>` +
    `<fonts count="${fonts.length}">${fonts.join('')}</fonts>` +
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>' +
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>' +
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>' +
    `<cellXfs count="${xfs.length}">${xfs.join('')}</cellXfs>` +
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>' +
    '</styleSheet>'
  );
}

const CONTENT_TYPES =
  `${XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
  '<Default Extension="xml" ContentType="application/xml"/>' +
  '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' +
  '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' +
  '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>' +
  '</Types>';
const ROOT_RELS =
  `${XML_HEAD}<Relationships xmlns="${PKG_REL_NS}">` +
  `<Relationship Id="rId1" Type="${REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>`;
const WORKBOOK_RELS =
  `${XML_HEAD}<Relationships xmlns="${PKG_REL_NS}">` +
  `<Relationship Id="rId1" Type="${REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>` +
  `<Relationship Id="rId2" Type="${REL_NS}/styles" Target="styles.xml"/></Relationships>`;

/** A zip entry: deflated (method 8) or stored as it is (method 0). */
interface Entry {
  name: Buffer;
  crc: number;
  size: number;
  method: 0 | 8;
  data: Buffer;
}

function entry(name: string, text: string, deflate: boolean): Entry {
  const raw = Buffer.from(text, 'utf8');
  return {
    name: Buffer.from(name, 'utf8'),
    crc: crc32(raw),
    size: raw.length,
    method: deflate ? 8 : 0,
    data: deflate ? deflateRawSync(raw) : raw,
  };
}

let fixed: Entry[] | null = null;
const fixedEntries = () =>
  (fixed ??= [
    entry('[Content_Types].xml', CONTENT_TYPES, true),
    entry('_rels/.rels', ROOT_RELS, true),
    entry('xl/_rels/workbook.xml.rels', WORKBOOK_RELS, true),
    entry('xl/styles.xml', stylesXml(), true),
  ]);

// 1980-01-01 00:00 in MS-DOS form: the same document always zips to the same bytes.
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

/** A zip archive of the entries (UTF-8 names). */
function zip(entries: readonly Entry[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(e.method, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(e.crc, 14);
    local.writeUInt32LE(e.data.length, 18);
    local.writeUInt32LE(e.size, 22);
    local.writeUInt16LE(e.name.length, 26);
    local.writeUInt16LE(0, 28);
    parts.push(local, e.name, e.data);
    central.push(
      centralEntry(e.name, {
        flags: 0x0800,
        method: e.method,
        crc: e.crc,
        compressed: e.data.length,
        size: e.size,
        offset,
      }),
      e.name,
    );
    offset += 30 + e.name.length + e.data.length;
  }
  const dirSize = central.reduce((n, b) => n + b.length, 0);
  return Buffer.concat([...parts, ...central, endOfCentralDirectory(entries.length, dirSize, offset)]);
}

/** A central directory record (without its name, which follows it) of one zip entry. */
function centralEntry(
  name: Buffer,
  e: { flags: number; method: number; crc: number; compressed: number; size: number; offset: number },
): Buffer {
  const dir = Buffer.alloc(46);
  dir.writeUInt32LE(0x02014b50, 0);
  dir.writeUInt16LE(20, 4);
  dir.writeUInt16LE(20, 6);
  dir.writeUInt16LE(e.flags, 8);
  dir.writeUInt16LE(e.method, 10);
  dir.writeUInt16LE(DOS_TIME, 12);
  dir.writeUInt16LE(DOS_DATE, 14);
  dir.writeUInt32LE(e.crc, 16);
  dir.writeUInt32LE(e.compressed, 20);
  dir.writeUInt32LE(e.size, 24);
  dir.writeUInt16LE(name.length, 28);
  dir.writeUInt32LE(e.offset, 42);
  return dir;
}

/** The end record of a zip's central directory. */
function endOfCentralDirectory(count: number, dirSize: number, dirStart: number): Buffer {
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(dirSize, 12);
  end.writeUInt32LE(dirStart, 16);
  return end;
}

// Characters XML 1.0 does not allow, and those that must be escaped.
// biome-ignore lint/suspicious/noControlCharactersInRegex: exactly the characters to drop
const INVALID = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;
const ESCAPE = /[&<>"]/g;
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
export const xmlText = (s: string) => s.replace(INVALID, '').replace(ESCAPE, (c) => ENTITIES[c]!);

function columnName(index: number): string {
  let n = index + 1;
  let out = '';
  while (n > 0) {
    const r = (n - 1) % 26;
    out = String.fromCharCode(65 + r) + out;
    n = Math.floor((n - 1) / 26);
  }
  return out;
}

function sheetXml(spec: SheetSpec): string {
  const out: string[] = [`${XML_HEAD}<worksheet xmlns="${NS}" xmlns:r="${REL_NS}">`];
  out.push('<sheetFormatPr defaultRowHeight="15"/><cols>');
  spec.widths.forEach((w, i) => {
    out.push(`<col min="${i + 1}" max="${i + 1}" width="${w}" customWidth="1"/>`);
  });
  out.push('</cols><sheetData>');
  spec.rows.forEach((row, i) => {
    if (row.cells.every((c) => c === null || c === undefined)) return;
    const r = i + 1;
    out.push(`<row r="${r}">`);
    const font = row.font ?? 0;
    row.cells.forEach((v, c) => {
      if (v === null || v === undefined) return;
      const ref = `${columnName(c)}${r}`;
      if (typeof v === 'number') {
        if (!Number.isFinite(v)) return;
        const s = styleOf(font, row.money?.includes(c + 1) ? spec.moneyDigits : null);
        out.push(`<c r="${ref}"${s ? ` s="${s}"` : ''}><v>${v}</v></c>`);
        return;
      }
      const s = styleOf(font, null);
      const text = xmlText(v);
      const space = text !== text.trim() ? ' xml:space="preserve"' : '';
      out.push(`<c r="${ref}"${s ? ` s="${s}"` : ''} t="inlineStr"><is><t${space}>${text}</t></is></c>`);
    });
    out.push('</row>');
  });
  out.push('</sheetData></worksheet>');
  return out.join('');
}

function workbookXml(name: string): string {
  return (
    `${XML_HEAD}<workbook xmlns="${NS}" xmlns:r="${REL_NS}"><bookViews><workbookView/></bookViews>` +
    `<sheets><sheet name="${xmlText(name.slice(0, 31))}" sheetId="1" r:id="rId1"/></sheets></workbook>`
  );
}

/**
 * The .xlsx file of one sheet. `compress`: deflate the sheet (a third of the size, but a new
 * deflate stream per file costs more than everything else together); default false, the sheet
 * stored as it is.
 */
export function xlsxOf(spec: SheetSpec, { compress = false }: { compress?: boolean } = {}): Buffer {
  return zip([
    ...fixedEntries(),
    entry('xl/workbook.xml', workbookXml(spec.name), false),
    entry('xl/worksheets/sheet1.xml', sheetXml(spec), compress),
  ]);
}

// ---------------------------------------------------------------------------------------------
// The streaming workbook: several sheets of any length, written row by row to a file.
// ---------------------------------------------------------------------------------------------

/** A cell's look: a font of `RowFont`, a number format, a solid fill, a thin bottom border. */
export interface CellStyle {
  font?: RowFont;
  /** A number format code (`#,##0.00`, `yyyy-mm-dd`); none: General. */
  numFmt?: string;
  /** The ARGB colour of a solid fill (`FFEFEFEF`). */
  fill?: string;
  borderBottom?: boolean;
}

/** Print set-up of a sheet: paper, orientation, fit to pages, margins, repeated rows, page header. */
export interface PrintSetup {
  /** Excel's paper size code: 9 is A4. */
  paperSize?: number;
  landscape?: boolean;
  /** Fit to this many pages wide (and `fitToHeight` tall; 0: as many as it takes). */
  fitToWidth?: number;
  fitToHeight?: number;
  margins?: { left: number; right: number; top: number; bottom: number; header: number; footer: number };
  /** Rows printed at the top of every page (1-based, inclusive). */
  titleRows?: [number, number];
  /** Page header and footer in Excel's codes (`&L…&C…&R…`, `&P`, `&N`; `&&` for an ampersand). */
  header?: string;
  footer?: string;
}

export interface StreamSheetOptions {
  /** The sheet's name (at most 31 characters are kept). */
  name: string;
  /** Column widths in characters, from column A. */
  widths?: readonly number[];
  /** Rows (from the top) and columns (from the left) that stay in view. */
  frozenRows?: number;
  frozenColumns?: number;
  print?: PrintSetup;
}

/** A cell: text, a number, nothing, or a formula with its result set. */
export type StreamCell = string | number | null | undefined | { formula: string; result: number };

/** The days since 1899-12-30 of a `YYYY-MM-DD` date: the number a date cell holds. */
export function excelDate(isoDate: string): number {
  const t = Date.UTC(
    Number(isoDate.slice(0, 4)),
    Number(isoDate.slice(5, 7)) - 1,
    Number(isoDate.slice(8, 10)),
  );
  return t / 86_400_000 + 25_569;
}

const LIMIT_32 = 0xffff_ffff;
const ZIP_FLAGS = 0x0808; // UTF-8 names, sizes and CRC in a descriptor after the data
/**
 * Rows' XML is put together as a string of about `TEXT_CHUNK` characters, encoded into a buffer
 * of `BUFFER_BYTES`, and the buffer handed to the deflate when full. A string kept small encodes
 * several times faster than a long one (V8 flattens the many small pieces it is made of, and
 * a sheet with Chinese text is a two-byte string), and a large buffer means few hand-overs to
 * the deflate's thread.
 */
const TEXT_CHUNK = 8 * 1024;
const BUFFER_BYTES = 1024 * 1024;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters xmlText drops
const NEEDS_ESCAPE = /[&<>"\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;
const text = (s: string) => (NEEDS_ESCAPE.test(s) ? xmlText(s) : s);
const COLUMN_NAMES = Array.from({ length: 64 }, (_, i) => columnName(i));
const quoteSheet = (name: string) => `'${name.replaceAll("'", "''")}'`;

/** A zip archive written as it goes: each entry deflated while it is written, its CRC and sizes after it. */
class ZipStream {
  private offset = 0;
  private readonly central: Buffer[] = [];
  private count = 0;
  private error: Error | null = null;
  /** The deflate of the entry being written. */
  private deflating: Transform | null = null;

  constructor(private readonly out: NodeJS.WritableStream & { writableNeedDrain?: boolean }) {
    out.on('error', (err: Error) => {
      this.error ??= err;
    });
  }

  private check() {
    if (this.error) throw this.error;
  }

  /** Writes to the file, waiting while it is behind. */
  async put(buf: Buffer): Promise<void> {
    this.check();
    this.offset += buf.length;
    if (!this.out.write(buf)) await this.drained(this.out);
  }

  private drained(stream: NodeJS.EventEmitter): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (err?: Error) => {
        stream.off('drain', ok);
        this.out.off('error', done);
        stream.off('error', done);
        if (err) reject(err);
        else resolve();
      };
      const ok = () => done();
      stream.once('drain', ok);
      this.out.once('error', done);
      stream.once('error', done);
    });
  }

  private localHeader(name: Buffer): Buffer {
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt16LE(ZIP_FLAGS, 6);
    h.writeUInt16LE(8, 8);
    h.writeUInt16LE(DOS_TIME, 10);
    h.writeUInt16LE(DOS_DATE, 12);
    h.writeUInt16LE(name.length, 26);
    return h;
  }

  private finishEntry(name: Buffer, start: number, crc: number, compressed: number, size: number) {
    if (compressed > LIMIT_32 || size > LIMIT_32 || start > LIMIT_32)
      throw new Error(`${name.toString()} is larger than a zip without ZIP64 holds`);
    const d = Buffer.alloc(16);
    d.writeUInt32LE(0x08074b50, 0);
    d.writeUInt32LE(crc, 4);
    d.writeUInt32LE(compressed, 8);
    d.writeUInt32LE(size, 12);
    this.central.push(
      centralEntry(name, { flags: ZIP_FLAGS, method: 8, crc, compressed, size, offset: start }),
      name,
    );
    this.count++;
    return d;
  }

  /** A small entry, deflated at once. */
  async whole(nameText: string, content: string, level: number): Promise<void> {
    const name = Buffer.from(nameText, 'utf8');
    const raw = Buffer.from(content, 'utf8');
    const data = deflateRawSync(raw, { level });
    const start = this.offset;
    await this.put(Buffer.concat([this.localHeader(name), name, data]));
    await this.put(this.finishEntry(name, start, crc32(raw), data.length, raw.length));
  }

  /** A large entry written piece by piece; the deflate runs on libuv's threads beside the writer. */
  open(nameText: string, level: number) {
    this.check();
    const name = Buffer.from(nameText, 'utf8');
    const start = this.offset;
    const header = Buffer.concat([this.localHeader(name), name]);
    this.offset += header.length;
    this.out.write(header);
    // zlib hands its options on to the Transform: a larger buffer, fewer hand-overs to the thread pool.
    const deflate = createDeflateRaw({
      level,
      memLevel: 9,
      writableHighWaterMark: 1024 * 1024,
    } as ZlibOptions);
    let crc = 0;
    let size = 0;
    let compressed = 0;
    let waiting = false;
    deflate.on('data', (c: Buffer) => {
      compressed += c.length;
      this.offset += c.length;
      if (!this.out.write(c) && !waiting) {
        waiting = true;
        deflate.pause();
        this.out.once('drain', () => {
          waiting = false;
          deflate.resume();
        });
      }
    });
    const ended = new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        deflate.off('end', ok);
        deflate.off('error', fail);
        this.out.off('error', fail);
      };
      const ok = () => {
        cleanup();
        resolve();
      };
      const fail = (err: Error) => {
        cleanup();
        reject(err);
      };
      deflate.once('end', ok);
      deflate.once('error', fail);
      this.out.once('error', fail);
    });
    ended.catch(() => {});
    this.deflating = deflate;
    return {
      /** Adds `buf` (the deflate takes it whether or not it is behind). */
      write: (buf: Buffer): void => {
        this.check();
        crc = crc32(buf, crc);
        size += buf.length;
        deflate.write(buf);
      },
      /** Resolves when the deflate has caught up (undefined when it is not behind). */
      caughtUp: (): Promise<void> | undefined => {
        this.check();
        return deflate.writableNeedDrain ? this.drained(deflate) : undefined;
      },
      close: async () => {
        deflate.end();
        await ended;
        this.deflating = null;
        this.check();
        await this.put(this.finishEntry(name, start, crc, compressed, size));
      },
    };
  }

  /** Stops the entry being written (the file is being given up). */
  abort(): void {
    this.deflating?.destroy();
    this.deflating = null;
  }

  /** The central directory and its end record. */
  async end(): Promise<void> {
    const dirStart = this.offset;
    const dir = Buffer.concat(this.central);
    if (dirStart > LIMIT_32) throw new Error('the workbook is larger than a zip without ZIP64 holds');
    await this.put(Buffer.concat([dir, endOfCentralDirectory(this.count, dir.length, dirStart)]));
  }
}

interface SheetRecord {
  name: string;
  titleRows: [number, number] | null;
}

/**
 * A sheet being written: rows in order, each turned into XML at once and handed to the deflate in
 * pieces of 64 KB. Nothing of a row is kept once it is written.
 */
export class StreamSheet {
  private xml = '';
  private buf = Buffer.allocUnsafe(BUFFER_BYTES);
  private used = 0;
  private rowNo = 0;
  private closed = false;

  /** @internal */
  constructor(
    private readonly entry: ReturnType<ZipStream['open']>,
    private readonly tail: string,
  ) {}

  /** The number of the last row written (0 before the first). */
  get lastRow(): number {
    return this.rowNo;
  }

  /**
   * Writes the next row: `cells` from column A (null or undefined leaves a cell empty), `styles`
   * one style for every cell or one per cell (from `XlsxStream.style`). An empty list is a blank
   * row. Returns the row's number.
   */
  row(cells: readonly StreamCell[], styles: number | readonly number[] = 0): number {
    if (this.closed) throw new Error('row written to a closed sheet');
    const r = ++this.rowNo;
    let x = '';
    for (let c = 0; c < cells.length; c++) {
      const v = cells[c];
      if (v === null || v === undefined) continue;
      const s = typeof styles === 'number' ? styles : (styles[c] ?? 0);
      const head = `<c r="${COLUMN_NAMES[c] ?? columnName(c)}${r}"${s ? ` s="${s}"` : ''}`;
      if (typeof v === 'number') {
        if (Number.isFinite(v)) x += `${head}><v>${v}</v></c>`;
      } else if (typeof v === 'string') {
        const t = text(v);
        const space = t.length > 0 && (t.charCodeAt(0) <= 32 || t.charCodeAt(t.length - 1) <= 32);
        x += `${head} t="inlineStr"><is><t${space ? ' xml:space="preserve"' : ''}>${t}</t></is></c>`;
      } else {
        const result = Number.isFinite(v.result) ? `<v>${v.result}</v>` : '';
        x += `${head}><f>${xmlText(v.formula)}</f>${result}</c>`;
      }
    }
    if (x !== '') this.xml += `<row r="${r}">${x}</row>`;
    if (this.xml.length >= TEXT_CHUNK) this.encode();
    return r;
  }

  /** The XML so far into the buffer (at most 3 bytes a UTF-16 unit); a full buffer to the deflate. */
  private encode() {
    const xml = this.xml;
    this.xml = '';
    if (this.buf.length - this.used < xml.length * 3) {
      this.flush();
      if (this.buf.length < xml.length * 3) this.buf = Buffer.allocUnsafe(xml.length * 3);
    }
    this.used += this.buf.write(xml, this.used);
  }

  private flush() {
    if (this.used === 0) return;
    this.entry.write(this.buf.subarray(0, this.used));
    this.buf = Buffer.allocUnsafe(BUFFER_BYTES);
    this.used = 0;
  }

  /**
   * Resolves when the deflate has caught up with what was written (at once, mostly). A writer that
   * makes rows faster than they are compressed calls this now and then, so that the XML waiting
   * for the deflate stays a few MB.
   */
  ready(): Promise<void> | undefined {
    return this.entry.caughtUp();
  }

  /** @internal The workbook is given up: no more rows. */
  abandon(): void {
    this.closed = true;
    this.xml = '';
  }

  /** @internal */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.xml += this.tail;
    this.encode();
    this.flush();
    await this.ready();
    await this.entry.close();
  }
}

/**
 * A workbook written straight to a stream as its rows come: sheets one after the other (each
 * closed when the next is added), styles declared as they are first used, and the package's
 * other parts written at the end. `level`: the deflate level of the sheets (1, the default, is
 * the fastest that still compresses; 0 stores).
 */
export class XlsxStream {
  private readonly zip: ZipStream;
  private readonly level: number;
  private readonly sheets: SheetRecord[] = [];
  private current: StreamSheet | null = null;
  private readonly styleIds = new Map<string, number>();
  private readonly styleList: CellStyle[] = [{}];

  constructor(out: NodeJS.WritableStream, options: { level?: number } = {}) {
    this.zip = new ZipStream(out);
    this.level = options.level ?? 1;
  }

  /** The index of a cell style, made the first time it is asked for. */
  style(s: CellStyle): number {
    const key = `${s.font ?? 0}|${s.numFmt ?? ''}|${s.fill ?? ''}|${s.borderBottom ? 1 : 0}`;
    let id = this.styleIds.get(key);
    if (id === undefined) {
      id = key === '0|||0' ? 0 : this.styleList.push(s) - 1;
      this.styleIds.set(key, id);
    }
    return id;
  }

  /** Closes the sheet being written (if any) and starts the next. */
  async addSheet(options: StreamSheetOptions): Promise<StreamSheet> {
    await this.current?.close();
    const index = this.sheets.length + 1;
    const name = options.name.slice(0, 31);
    const p = options.print;
    this.sheets.push({ name, titleRows: p?.titleRows ?? null });
    const head: string[] = [`${XML_HEAD}<worksheet xmlns="${NS}" xmlns:r="${REL_NS}">`];
    const fit = p && (p.fitToWidth !== undefined || p.fitToHeight !== undefined);
    if (fit) head.push('<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>');
    const rows = options.frozenRows ?? 0;
    const cols = options.frozenColumns ?? 0;
    if (rows || cols) {
      const pane = rows && cols ? 'bottomRight' : rows ? 'bottomLeft' : 'topRight';
      head.push(
        '<sheetViews><sheetView workbookViewId="0"' +
          (index === 1 ? ' tabSelected="1"' : '') +
          '>' +
          `<pane${cols ? ` xSplit="${cols}"` : ''}${rows ? ` ySplit="${rows}"` : ''} topLeftCell="${COLUMN_NAMES[cols] ?? columnName(cols)}${rows + 1}" activePane="${pane}" state="frozen"/>` +
          `<selection pane="${pane}"/></sheetView></sheetViews>`,
      );
    }
    head.push('<sheetFormatPr defaultRowHeight="15"/>');
    if (options.widths?.length) {
      head.push('<cols>');
      options.widths.forEach((w, i) => {
        head.push(`<col min="${i + 1}" max="${i + 1}" width="${w}" customWidth="1"/>`);
      });
      head.push('</cols>');
    }
    head.push('<sheetData>');
    const tail: string[] = ['</sheetData>'];
    if (p) {
      const m = p.margins ?? { left: 0.7, right: 0.7, top: 0.75, bottom: 0.75, header: 0.3, footer: 0.3 };
      tail.push(
        `<pageMargins left="${m.left}" right="${m.right}" top="${m.top}" bottom="${m.bottom}" header="${m.header}" footer="${m.footer}"/>`,
      );
      tail.push(
        `<pageSetup paperSize="${p.paperSize ?? 9}" orientation="${p.landscape ? 'landscape' : 'portrait'}"` +
          `${fit ? ` fitToWidth="${p.fitToWidth ?? 1}" fitToHeight="${p.fitToHeight ?? 0}"` : ''}/>`,
      );
      if (p.header || p.footer)
        tail.push(
          `<headerFooter>${p.header ? `<oddHeader>${xmlText(p.header)}</oddHeader>` : ''}` +
            `${p.footer ? `<oddFooter>${xmlText(p.footer)}</oddFooter>` : ''}</headerFooter>`,
        );
    }
    tail.push('</worksheet>');
    const entry = this.zip.open(`xl/worksheets/sheet${index}.xml`, this.level);
    const sheet = new StreamSheet(entry, tail.join(''));
    entry.write(Buffer.from(head.join(''), 'utf8'));
    this.current = sheet;
    return sheet;
  }

  private stylesXml(): string {
    const numFmts = new Map<string, number>();
    const fonts = [0, 1, 2, 3].map(
      (f) =>
        `<font>${f ? '<b/>' : ''}<sz val="${[11, 11, 14, 16][f]}"/><name val="Calibri"/><family val="2"/></font>`,
    );
    const fills = [
      '<fill><patternFill patternType="none"/></fill>',
      '<fill><patternFill patternType="gray125"/></fill>',
    ];
    const fillIds = new Map<string, number>();
    const xfs = this.styleList.map((s) => {
      let numFmt = 0;
      if (s.numFmt) {
        numFmt = numFmts.get(s.numFmt) ?? 164 + numFmts.size;
        numFmts.set(s.numFmt, numFmt);
      }
      let fill = 0;
      if (s.fill) {
        fill = fillIds.get(s.fill) ?? fills.length;
        if (fill === fills.length) {
          fills.push(
            `<fill><patternFill patternType="solid"><fgColor rgb="${xmlText(s.fill)}"/><bgColor indexed="64"/></patternFill></fill>`,
          );
          fillIds.set(s.fill, fill);
        }
      }
      const font = s.font ?? 0;
      const border = s.borderBottom ? 1 : 0;
      return (
        `<xf numFmtId="${numFmt}" fontId="${font}" fillId="${fill}" borderId="${border}" xfId="0"` +
        `${numFmt ? ' applyNumberFormat="1"' : ''}${font ? ' applyFont="1"' : ''}` +
        `${fill ? ' applyFill="1"' : ''}${border ? ' applyBorder="1"' : ''}/>`
      );
    });
    const formats = [...numFmts].map(
      ([code, id]) => `<numFmt numFmtId="${id}" formatCode="${xmlText(code)}"/>`,
    );
    return (
      `${XML_HEAD}<styleSheet xmlns="${NS}">` +
      (formats.length ? `<numFmts count="${formats.length}">${formats.join('')}</numFmts>` : '') +
      `<fonts count="${fonts.length}">${fonts.join('')}</fonts>` +
      `<fills count="${fills.length}">${fills.join('')}</fills>` +
      '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>' +
      '<border><left/><right/><top/><bottom style="thin"><color auto="1"/></bottom><diagonal/></border></borders>' +
      '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>' +
      `<cellXfs count="${xfs.length}">${xfs.join('')}</cellXfs>` +
      '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>' +
      '</styleSheet>'
    );
  }

  /** Gives the workbook up: the sheet being written stops (the caller removes what was written). */
  abort(): void {
    this.current?.abandon();
    this.current = null;
    this.zip.abort();
  }

  /** Closes the last sheet and writes the rest of the package. */
  async finish(): Promise<void> {
    if (this.sheets.length === 0) throw new Error('a workbook needs at least one sheet');
    await this.current?.close();
    this.current = null;
    const sheets = this.sheets;
    const types =
      `${XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
      '<Default Extension="xml" ContentType="application/xml"/>' +
      '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' +
      sheets
        .map(
          (_, i) =>
            `<Override PartName="/xl/worksheets/sheet${i + 1}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`,
        )
        .join('') +
      '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>' +
      '</Types>';
    const rels =
      `${XML_HEAD}<Relationships xmlns="${PKG_REL_NS}">` +
      sheets
        .map(
          (_, i) =>
            `<Relationship Id="rId${i + 1}" Type="${REL_NS}/worksheet" Target="worksheets/sheet${i + 1}.xml"/>`,
        )
        .join('') +
      `<Relationship Id="rId${sheets.length + 1}" Type="${REL_NS}/styles" Target="styles.xml"/></Relationships>`;
    const titles = sheets.flatMap((s, i) =>
      s.titleRows
        ? [
            `<definedName name="_xlnm.Print_Titles" localSheetId="${i}">${xmlText(quoteSheet(s.name))}!$${s.titleRows[0]}:$${s.titleRows[1]}</definedName>`,
          ]
        : [],
    );
    const workbook =
      `${XML_HEAD}<workbook xmlns="${NS}" xmlns:r="${REL_NS}"><bookViews><workbookView/></bookViews><sheets>` +
      sheets
        .map((s, i) => `<sheet name="${xmlText(s.name)}" sheetId="${i + 1}" r:id="rId${i + 1}"/>`)
        .join('') +
      `</sheets>${titles.length ? `<definedNames>${titles.join('')}</definedNames>` : ''}` +
      '<calcPr calcId="191029"/></workbook>';
    await this.zip.whole('[Content_Types].xml', types, 6);
    await this.zip.whole('_rels/.rels', ROOT_RELS, 6);
    await this.zip.whole('xl/_rels/workbook.xml.rels', rels, 6);
    await this.zip.whole('xl/workbook.xml', workbook, 6);
    await this.zip.whole('xl/styles.xml', this.stylesXml(), 6);
    await this.zip.end();
  }
}
