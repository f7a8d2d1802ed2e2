import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { excelDate, XlsxStream, xlsxOf } from '../../src/billing/xlsx-writer.js';

async function read(buf: Buffer) {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(buf as unknown as ArrayBuffer);
  return wb.worksheets[0]!;
}

describe('the one-sheet xlsx writer', () => {
  const spec = {
    name: 'INV-2026-000001',
    widths: [8, 20],
    moneyDigits: 2,
    rows: [
      { cells: ['Stockbridge & Söhne <B.V.>'], font: 2 as const },
      { cells: [] },
      { cells: ['发票号码', 'INV-2026-000001'] },
      { cells: [null, ' padded ', 12.5, -3], money: [3, 4] },
      { cells: ['control\u0001chars dropped', 0] },
      { cells: [null, null, 'Total', 46.4], font: 1 as const, money: [4] },
    ],
  };

  it('writes a workbook that a spreadsheet reader reads back cell by cell, with formats and fonts', async () => {
    const ws = await read(xlsxOf(spec));
    expect(ws.name).toBe('INV-2026-000001');
    expect(ws.getCell('A1').value).toBe('Stockbridge & Söhne <B.V.>');
    expect(ws.getCell('A1').font).toMatchObject({ bold: true, size: 14 });
    expect(ws.getRow(2).cellCount).toBe(0);
    expect(ws.getCell('A3').value).toBe('发票号码');
    expect(ws.getCell('B4').value).toBe(' padded ');
    expect(ws.getCell('C4').value).toBe(12.5);
    expect(ws.getCell('C4').numFmt).toBe('#,##0.00');
    expect(ws.getCell('D4').value).toBe(-3);
    expect(ws.getCell('A5').value).toBe('controlchars dropped');
    expect(ws.getCell('B5').value).toBe(0);
    expect(ws.getCell('D6').font).toMatchObject({ bold: true });
    expect(ws.getColumn(2).width).toBe(20);
  });

  it('gives the same bytes for the same rows, compressed or not', async () => {
    expect(xlsxOf(spec).equals(xlsxOf(spec))).toBe(true);
    const small = xlsxOf(spec, { compress: true });
    expect(small.length).toBeLessThan(xlsxOf(spec).length);
    expect((await read(small)).getCell('C4').value).toBe(12.5);
  });

  it('formats money by the currency’s decimals', async () => {
    const ws = await read(xlsxOf({ ...spec, moneyDigits: 0 }));
    expect(ws.getCell('C4').numFmt).toBe('#,##0');
  });
});

describe('the streaming workbook writer', () => {
  async function write(level: number, build: (book: XlsxStream) => Promise<void>) {
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-xlsx-stream-'));
    const file = path.join(dir, 'book.xlsx');
    const out = createWriteStream(file);
    const book = new XlsxStream(out, { level });
    await build(book);
    await book.finish();
    out.end();
    await finished(out);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(file);
    const size = statSync(file).size;
    rmSync(dir, { recursive: true, force: true });
    return { wb, size };
  }

  const ROWS = 5_000;
  async function twoSheets(book: XlsxStream) {
    const money = book.style({ numFmt: '#,##0.00;-#,##0.00' });
    const date = book.style({ numFmt: 'yyyy-mm-dd' });
    const head = book.style({ font: 1, fill: 'FFEFEFEF', borderBottom: true });
    const a = await book.addSheet({
      name: 'EUR',
      widths: [12, 30],
      frozenRows: 1,
      print: {
        paperSize: 9,
        landscape: true,
        fitToWidth: 1,
        fitToHeight: 0,
        titleRows: [1, 1],
        header: '&LStockbridge && Söhne&RPeriod',
      },
    });
    a.row(['日期', 'Text', 'Amount'], head);
    for (let i = 1; i <= ROWS; i++)
      a.row([excelDate('2026-11-03') + (i % 3), `line <${i}> & "more"`, i / 100], [date, 0, money]);
    a.row([]);
    a.row(
      ['Total', null, { formula: `SUM(C2:C${ROWS + 1})`, result: (ROWS * (ROWS + 1)) / 200 }],
      [0, 0, money],
    );
    const b = await book.addSheet({ name: "O'Brien (2)" });
    b.row([' padded ', 'control\u0001dropped', Number.NaN, -0.5]);
  }

  it('writes sheets a spreadsheet reader reads back: values, dates, styles, formulas, frozen rows, print set-up', async () => {
    const { wb } = await write(1, twoSheets);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['EUR', "O'Brien (2)"]);
    const ws = wb.getWorksheet('EUR')!;
    expect(ws.getCell('A1').value).toBe('日期');
    expect(ws.getCell('A1').font).toMatchObject({ bold: true });
    expect(ws.getCell('A1').fill).toMatchObject({
      type: 'pattern',
      pattern: 'solid',
      fgColor: { argb: 'FFEFEFEF' },
    });
    expect(ws.getCell('A1').border).toMatchObject({ bottom: { style: 'thin' } });
    expect(ws.getCell('A2').value).toEqual(new Date('2026-11-04T00:00:00Z'));
    expect(ws.getCell('A2').numFmt).toBe('yyyy-mm-dd');
    expect(ws.getCell('B2').value).toBe('line <1> & "more"');
    expect(ws.getCell(`C${ROWS + 1}`).value).toBe(ROWS / 100);
    expect(ws.getCell(`C${ROWS + 1}`).numFmt).toBe('#,##0.00;-#,##0.00');
    expect(ws.getRow(ROWS + 2).cellCount).toBe(0);
    expect(ws.getCell(`C${ROWS + 3}`).value).toEqual({
      formula: `SUM(C2:C${ROWS + 1})`,
      result: (ROWS * (ROWS + 1)) / 200,
    });
    expect(ws.getColumn(2).width).toBe(30);
    expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(ws.pageSetup).toMatchObject({
      orientation: 'landscape',
      paperSize: 9,
      fitToPage: true,
      fitToWidth: 1,
      fitToHeight: 0,
      printTitlesRow: '1:1',
    });
    expect(ws.headerFooter.oddHeader).toBe('&LStockbridge && Söhne&RPeriod');
    const other = wb.getWorksheet("O'Brien (2)")!;
    expect(other.getCell('A1').value).toBe(' padded ');
    expect(other.getCell('B1').value).toBe('controldropped');
    expect(other.getCell('C1').value).toBeNull();
    expect(other.getCell('D1').value).toBe(-0.5);
  });

  it('stores the sheets at level 0 and deflates them at level 1', async () => {
    const stored = await write(0, twoSheets);
    const deflated = await write(1, twoSheets);
    expect(deflated.size).toBeLessThan(stored.size / 3);
    expect(stored.wb.getWorksheet('EUR')!.getCell(`C${ROWS + 1}`).value).toBe(ROWS / 100);
  });

  it('gives Excel’s day numbers for dates', () => {
    expect(excelDate('1900-03-01')).toBe(61);
    expect(excelDate('2026-11-30')).toBe(46356);
  });
});

describe('a streaming workbook given up midway', () => {
  it('stops its deflate, takes no more rows, and raises nothing afterwards', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-xlsx-abort-'));
    const out = createWriteStream(path.join(dir, 'book.xlsx'));
    const book = new XlsxStream(out);
    const ws = await book.addSheet({ name: 'EUR' });
    for (let i = 0; i < 20_000; i++) ws.row([`row ${i}`, i]);
    book.abort();
    out.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(() => ws.row(['after'])).toThrow(/closed sheet/);
    rmSync(dir, { recursive: true, force: true });
  });
});
