import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { xlsxOf } from '../../src/billing/xlsx-writer.js';

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
