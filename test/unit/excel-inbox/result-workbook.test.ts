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

const ACCEPTED = 'accepted / 已导入';
const REJECTED = 'rejected / 已拒绝';

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
      [2, '1001', 'ACME', 'A-1', 2, 12.5, 'EUR', ACCEPTED, null, 41],
      [3, '1001', 'ACME', 'B-2', 1, 0.1, 'EUR', ACCEPTED, null, 41],
      [
        4,
        '1002',
        'ACME',
        'A-1',
        'abc',
        '1,234.50',
        'EUR',
        REJECTED,
        'quantity "abc" is not a number / 数量“abc”不是数字; unit price "1,234.50" has a comma: write it ' +
          'without thousands separators and with a decimal point, e.g. 1234.50 / ' +
          '单价“1,234.50”含有逗号：请不要使用千位分隔符，小数部分用小数点，如 1234.50',
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
        REJECTED,
        'another row of order 1002 is invalid (row 4) / 订单 1002 的其他行有误（第 4 行）',
        null,
      ],
      [6, '1003', 'ACME', 'X-9', 1, 5, 'EUR', REJECTED, 'unknown SKU X-9', null],
      [7, '1004', 'TOKYO', 'A-1', 3, 1500, 'JPY', ACCEPTED, 'on hold: unmapped SKU', 42],
      [
        8,
        '1005',
        'ACME',
        'A-1',
        1,
        0,
        'EUR',
        'pending / 待确认',
        'no intake result recorded for this order / 系统没有该订单的导入结果记录',
        null,
      ],
    ]);
    expect(await readSheet(out, 'Summary')).toEqual([
      ['File / 文件', 'orders.xlsx'],
      ['Rows / 行数', 7],
      ['Rows accepted / 已导入行数', 3],
      ['Rows rejected / 已拒绝行数', 3],
      ['Orders / 订单数', 5],
      ['Orders accepted / 已导入订单数', 2],
      ['Orders rejected / 已拒绝订单数', 2],
      ['Orders without result / 无结果订单数', 1],
      ['Error / 错误', null],
    ]);
  });

  it('writes its headers, statuses, reasons and summary in English and Chinese', async () => {
    const parsed = await parseSample();
    const out = path.join(tmp.path, resultFileName('orders.xlsx'));
    await writeResultWorkbook(parsed, new Map([['ACME:1001', { accepted: true, orderId: 41 }]]), out);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(out);
    const result = workbook.getWorksheet('Result')!;
    expect((result.getRow(1).values as unknown[]).slice(1)).toEqual([
      'Row / 行号',
      'Order number / 订单号',
      'Customer / 客户编码',
      'SKU / 货号',
      'Quantity / 数量',
      'Unit price / 单价',
      'Currency / 币种',
      'Status / 状态',
      'Reason / 原因',
      'Stockbridge order id / 系统订单号',
    ]);

    expect(result.getCell('H2').value).toBe('accepted / 已导入');
    // Row 4 of the sheet: quantity "abc" and a price with a comma.
    expect(result.getCell('A4').value).toBe(4);
    expect(result.getCell('H4').value).toBe('rejected / 已拒绝');
    const reason = String(result.getCell('I4').value);
    expect(reason).toContain('quantity "abc" is not a number / 数量“abc”不是数字');
    expect(reason).toContain('单价“1,234.50”含有逗号');
    expect(String(result.getCell('I5').value)).toContain('订单 1002 的其他行有误（第 4 行）');

    const summary = workbook.getWorksheet('Summary')!;
    expect(summary.getCell('A3').value).toBe('Rows accepted / 已导入行数');
    expect(summary.getCell('A4').value).toBe('Rows rejected / 已拒绝行数');
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
      ['File / 文件', 'empty.csv'],
      ['Rows / 行数', 0],
      ['Rows accepted / 已导入行数', 0],
      ['Rows rejected / 已拒绝行数', 0],
      ['Orders / 订单数', 0],
      ['Orders accepted / 已导入订单数', 0],
      ['Orders rejected / 已拒绝订单数', 0],
      ['Orders without result / 无结果订单数', 0],
      ['Error / 错误', 'the file is empty / 文件为空'],
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
      ACCEPTED,
      null,
      9,
    ]);
    expect((await readdir(tmp.path)).sort()).toEqual(['orders.result.xlsx', 'orders.xlsx']);
  });
});
