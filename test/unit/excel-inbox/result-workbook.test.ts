import { readdir } from 'node:fs/promises';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { parseOrderFile } from '../../../connectors/excel-inbox/parse.js';
import {
  RESULT_COLUMNS,
  resultFileName,
  writeResultWorkbook,
} from '../../../connectors/excel-inbox/result-workbook.js';
import type { OrderOutcome } from '../../../connectors/excel-inbox/types.js';
import { HEADER, readSheet, useTempDir, writeXlsx } from './support.js';

describe('resultFileName', () => {
  it.each([
    ['orders.xlsx', 'orders.result.xlsx'],
    ['orders.csv', 'orders.result.xlsx'],
    ['Orders March.XLSX', 'Orders March.result.xlsx'],
    ['in/acme/orders.v2.xlsx', 'in/acme/orders.v2.result.xlsx'],
    ['orders', 'orders.result.xlsx'],
  ])('%s -> %s', (fileName, result) => {
    expect(resultFileName(fileName)).toBe(result);
  });
});

describe('writeResultWorkbook', () => {
  const tmp = useTempDir();

  async function parseSample() {
    const file = await writeXlsx(tmp.path, 'orders.xlsx', {
      Orders: [
        [...HEADER, 'Currency'],
        [1001, 'ACME', 'A-1', 2, 12.5],
        [1001, 'ACME', 'B-2', 1, 0.1],
        [1002, 'ACME', 'A-1', 'abc', '1,234.50'],
        [1002, 'ACME', 'B-2', 1, 3],
        [1003, 'ACME', 'X-9', 1, 5],
        [1004, 'TOKYO', 'A-1', 3, 1500, 'JPY'],
        [1005, 'ACME', 'A-1', 1],
      ],
    });
    return parseOrderFile({ fileName: 'orders.xlsx', path: file });
  }

  it('lists every source row with its status, reason and order id, and sums up the file', async () => {
    const parsed = await parseSample();
    const outcomes = new Map<string, OrderOutcome>([
      ['ACME:1001', { accepted: true, orderId: 41 }],
      ['ACME:1003', { accepted: false, reason: 'unknown SKU X-9' }],
      ['TOKYO:1004', { accepted: true, orderId: 42, reason: 'on hold: unmapped SKU' }],
    ]);
    const out = path.join(tmp.path, resultFileName('orders.xlsx'));
    await writeResultWorkbook(parsed, outcomes, out);

    expect(await readSheet(out, 'Result')).toEqual([
      [...RESULT_COLUMNS],
      [2, '1001', 'ACME', 'A-1', 2, 12.5, 'EUR', 'accepted', null, 41],
      [3, '1001', 'ACME', 'B-2', 1, 0.1, 'EUR', 'accepted', null, 41],
      [
        4,
        '1002',
        'ACME',
        'A-1',
        'abc',
        '1,234.50',
        'EUR',
        'rejected',
        'quantity "abc" is not a number; unit price "1,234.50" has a comma: write it without thousands ' +
          'separators and with a decimal point, e.g. 1234.50',
        null,
      ],
      [
        5,
        '1002',
        'ACME',
        'B-2',
        1,
        3,
        'EUR',
        'rejected',
        'another row of order 1002 is invalid (row 4)',
        null,
      ],
      [6, '1003', 'ACME', 'X-9', 1, 5, 'EUR', 'rejected', 'unknown SKU X-9', null],
      [7, '1004', 'TOKYO', 'A-1', 3, 1500, 'JPY', 'accepted', 'on hold: unmapped SKU', 42],
      [8, '1005', 'ACME', 'A-1', 1, 0, 'EUR', 'pending', 'no intake result recorded for this order', null],
    ]);
    expect(await readSheet(out, 'Summary')).toEqual([
      ['File', 'orders.xlsx'],
      ['Rows', 7],
      ['Rows accepted', 3],
      ['Rows rejected', 3],
      ['Orders', 5],
      ['Orders accepted', 2],
      ['Orders rejected', 2],
      ['Orders without result', 1],
      ['Error', null],
    ]);
  });

  it('shows prices with the decimals of their currency', async () => {
    const parsed = await parseSample();
    const out = path.join(tmp.path, 'r.xlsx');
    await writeResultWorkbook(parsed, new Map(), out);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(out);
    const sheet = workbook.getWorksheet('Result')!;
    expect(sheet.getCell('F2').numFmt).toBe('0.00');
    expect(sheet.getCell('F7').numFmt).toBe('0');
    expect(sheet.getCell('F4').value).toBe('1,234.50');
    expect(workbook.worksheets.map((s) => s.name)).toEqual(['Result', 'Summary']);
    expect(sheet.getRow(1).font?.bold).toBe(true);
  });

  it('writes a whole-file error into the summary, with an empty result list', async () => {
    const parsed = await parseOrderFile({ fileName: 'empty.csv', data: Buffer.alloc(0) });
    const out = path.join(tmp.path, resultFileName('empty.csv'));
    await writeResultWorkbook(parsed, new Map(), out);
    expect(await readSheet(out, 'Result')).toEqual([[...RESULT_COLUMNS]]);
    expect(await readSheet(out, 'Summary')).toEqual([
      ['File', 'empty.csv'],
      ['Rows', 0],
      ['Rows accepted', 0],
      ['Rows rejected', 0],
      ['Orders', 0],
      ['Orders accepted', 0],
      ['Orders rejected', 0],
      ['Orders without result', 0],
      ['Error', 'the file is empty'],
    ]);
  });

  it('fails when it cannot write, leaving no file behind', async () => {
    const parsed = await parseSample();
    await expect(
      writeResultWorkbook(parsed, new Map(), path.join(tmp.path, 'no-dir', 'r.xlsx')),
    ).rejects.toThrow(/ENOENT/);
    expect(await readdir(tmp.path)).toEqual(['orders.xlsx']);
  });

  it('replaces an earlier result and leaves no temporary file', async () => {
    const parsed = await parseSample();
    const out = path.join(tmp.path, 'orders.result.xlsx');
    await writeResultWorkbook(parsed, new Map(), out);
    await writeResultWorkbook(parsed, new Map([['ACME:1005', { accepted: true, orderId: 9 }]]), out);
    expect((await readSheet(out, 'Result'))[7]).toEqual([
      8,
      '1005',
      'ACME',
      'A-1',
      1,
      0,
      'EUR',
      'accepted',
      null,
      9,
    ]);
    expect((await readdir(tmp.path)).sort()).toEqual(['orders.result.xlsx', 'orders.xlsx']);
  });
});
