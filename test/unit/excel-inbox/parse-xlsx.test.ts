import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { parseOrderFile } from '../../../connectors/excel-inbox/parse.js';
import { toOrderInput } from '../../../connectors/excel-inbox/to-order-input.js';
import { orderInputSchema } from '../../../src/domain/order-input.js';
import { waitFor } from '../../helpers/wait.js';
import { HEADER, storedZip, useTempDir, writeText, writeXlsx } from './support.js';

const statuses = (rows: { row: number; status: string; reason?: string }[]) =>
  rows.map((r) => [r.row, r.status, r.reason ?? null]);

describe('parseOrderFile: .xlsx', () => {
  const tmp = useTempDir();

  it('reads a good workbook of several orders and customers', async () => {
    const file = await writeXlsx(tmp.path, 'orders.xlsx', {
      Orders: [
        [...HEADER, 'Notes'],
        [1001, 'ACME', 'A-1', 2, 12.5, 'rush'],
        [1001, 'ACME', 'B-2', 1, 0.1],
        ['PO-7', 'BETA', 'A-1', 5],
        [1001, 'BETA', 'C-3', '3.0', '7.00'],
        [1001, 'ACME', 'C-3', 1, 3],
      ],
      Notes: [['not', 'read']],
    });
    const parsed = await parseOrderFile({ fileName: 'orders.xlsx', path: file });

    expect(parsed.error).toBeUndefined();
    expect(parsed.orders).toEqual([
      {
        externalId: 'ACME:1001',
        customerCode: 'ACME',
        orderNo: '1001',
        currency: 'EUR',
        lines: [
          { sku: 'A-1', quantity: 2, unitPrice: 1250 },
          { sku: 'B-2', quantity: 1, unitPrice: 10 },
          { sku: 'C-3', quantity: 1, unitPrice: 300 },
        ],
        rows: [2, 3, 6],
      },
      {
        externalId: 'BETA:PO-7',
        customerCode: 'BETA',
        orderNo: 'PO-7',
        currency: 'EUR',
        lines: [{ sku: 'A-1', quantity: 5, unitPrice: 0 }],
        rows: [4],
      },
      {
        externalId: 'BETA:1001',
        customerCode: 'BETA',
        orderNo: '1001',
        currency: 'EUR',
        lines: [{ sku: 'C-3', quantity: 3, unitPrice: 700 }],
        rows: [5],
      },
    ]);
    expect(parsed.rejectedOrders).toEqual([]);
    expect(statuses(parsed.rows)).toEqual([2, 3, 4, 5, 6].map((r) => [r, 'pending', null]));
    for (const order of parsed.orders) expect(orderInputSchema.parse(toOrderInput(order))).toBeTruthy();
    expect(toOrderInput(parsed.orders[1]!)).toEqual({
      externalId: 'BETA:PO-7',
      currency: 'EUR',
      customer: { code: 'BETA' },
      lines: [{ sku: 'A-1', quantity: 5, unitPrice: 0 }],
    });
  });

  it('rejects every order with an invalid row whole, and keeps the others', async () => {
    const file = await writeXlsx(tmp.path, 'broken.xlsx', {
      Orders: [
        HEADER,
        [2001, 'ACME', 'NO-SUCH-SKU-ANYWHERE', 1, 5], // form is fine: knowing SKUs is intake's job
        [2002, 'ACME', 'A-1', 'abc', 1],
        [2002, 'ACME', 'A-2', 1, 1],
        [2003, 'ACME', 'A-1', 2.5, 1],
        [2004, 'ACME', 'A-1', -3, 1],
        [2004, 'ACME', 'A-2', 1, 1],
        [2005, null, 'A-1', 1, 1],
        [2005, 'ACME', 'A-1', 1, 1],
        [2006, 'ACME', 'A-1', 1, '12.345'],
        [2006, 'ACME', 'A-2', 1, 12.345],
        [2007, 'ACME', '', 1, 1],
        [2008, 'BETA', 'A-1', 1, '1,234.50'],
        [2009, 'BETA', 'A-1', 1, 1],
      ],
    });
    const parsed = await parseOrderFile({ fileName: 'broken.xlsx', path: file });

    expect(parsed.error).toBeUndefined();
    expect(parsed.orders.map((o) => [o.externalId, o.rows])).toEqual([
      ['ACME:2001', [2]],
      ['BETA:2009', [14]],
    ]);
    const tooPrecise = '单价 12.345 小数位过多：EUR 最多 2 位小数';
    expect(statuses(parsed.rows)).toEqual([
      [2, 'pending', null],
      [3, 'rejected', 'quantity "abc" is not a number / 数量“abc”不是数字'],
      [4, 'rejected', 'another row of order 2002 is invalid (row 3) / 订单 2002 的其他行有误（第 3 行）'],
      [5, 'rejected', 'quantity 2.5 is not a whole number / 数量 2.5 不是整数'],
      [6, 'rejected', 'quantity -3 must be at least 1 / 数量 -3 不能小于 1'],
      [7, 'rejected', 'another row of order 2004 is invalid (row 6) / 订单 2004 的其他行有误（第 6 行）'],
      [
        8,
        'rejected',
        'customer code is missing / 缺少客户编码 (so order 2005 is rejected too / 因此订单 2005 也被拒绝)',
      ],
      [9, 'rejected', 'another row of order 2005 is invalid (row 8) / 订单 2005 的其他行有误（第 8 行）'],
      [
        10,
        'rejected',
        `unit price 12.345 has too many decimals: EUR allows at most 2 decimals / ${tooPrecise}`,
      ],
      [
        11,
        'rejected',
        `unit price 12.345 has too many decimals: EUR allows at most 2 decimals / ${tooPrecise}`,
      ],
      [12, 'rejected', 'SKU is missing / 缺少货号'],
      [
        13,
        'rejected',
        'unit price "1,234.50" has a comma: write it without thousands separators and with a decimal point, e.g. 1234.50 / ' +
          '单价“1,234.50”含有逗号：请不要使用千位分隔符，小数部分用小数点，如 1234.50',
      ],
      [14, 'pending', null],
    ]);
    expect(parsed.rejectedOrders.map((o) => [o.externalId, o.rows, o.badRows])).toEqual([
      ['ACME:2002', [3, 4], [3]],
      ['ACME:2003', [5], [5]],
      ['ACME:2004', [6, 7], [6]],
      ['ACME:2005', [8, 9], [8]],
      ['ACME:2006', [10, 11], [10, 11]],
      ['ACME:2007', [12], [12]],
      ['BETA:2008', [13], [13]],
    ]);
    expect(parsed.rows[1]).toMatchObject({ quantity: null, rawQuantity: 'abc', unitPrice: 100 });
  });

  it('reads the sheet as the customer sees it: formulas, rich text, text numbers, blank rows, a late header', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Orders');
    sheet.getRow(3).values = ['order', 'customer', 'sku', 'qty', 'price', 'currency'];
    sheet.getRow(4).values = [1, 'ACME', { richText: [{ text: 'A-' }, { font: { bold: true }, text: '1' }] }];
    sheet.getCell('D4').value = { formula: '1+1', result: 2 };
    // =10*1.19 holds 11.899999999999999 and shows 11.90.
    sheet.getCell('E4').value = { formula: '10*1.19', result: 10 * 1.19 };
    sheet.getRow(6).values = [' 1 ', ' ACME ', ' B-2 ', ' 4 ', ' 0.5 ', ' eur '];
    sheet.getRow(8).values = [null, null, null, null, null, null, 'a note outside the order columns'];
    const file = path.join(tmp.path, 'late-header.xlsx');
    await workbook.xlsx.writeFile(file);

    const parsed = await parseOrderFile({ fileName: 'late-header.xlsx', path: file });
    expect(parsed.orders).toEqual([
      {
        externalId: 'ACME:1',
        customerCode: 'ACME',
        orderNo: '1',
        currency: 'EUR',
        lines: [
          { sku: 'A-1', quantity: 2, unitPrice: 1190 },
          { sku: 'B-2', quantity: 4, unitPrice: 50 },
        ],
        rows: [4, 6],
      },
    ]);
    expect(parsed.rows.map((r) => r.row)).toEqual([4, 6]);
  });

  it('takes prices in the currency of the currency column: JPY has no decimals, KWD three', async () => {
    const file = await writeXlsx(tmp.path, 'yen.xlsx', {
      Orders: [
        ['order', 'customer', 'sku', 'qty', 'price', 'currency'],
        ['J1', 'TOKYO', 'A-1', 1, 1500, 'JPY'],
        ['J1', 'TOKYO', 'A-2', 2, '1500.00', 'JPY'],
        ['J2', 'TOKYO', 'A-1', 1, 1500.5, 'JPY'],
        ['K1', 'KUWAIT', 'A-1', 1, 1.234, 'KWD'],
        ['E1', 'PARIS', 'A-1', 1, 9.99, ''],
      ],
    });
    const parsed = await parseOrderFile({ fileName: 'yen.xlsx', path: file }, { defaultCurrency: 'USD' });
    expect(parsed.orders.map((o) => [o.externalId, o.currency, o.lines.map((l) => l.unitPrice)])).toEqual([
      ['TOKYO:J1', 'JPY', [1500, 1500]],
      ['KUWAIT:K1', 'KWD', [1234]],
      ['PARIS:E1', 'USD', [999]],
    ]);
    expect(parsed.rows[2]).toMatchObject({
      status: 'rejected',
      reason:
        'unit price 1500.5 has too many decimals: JPY allows no decimals / 单价 1500.5 小数位过多：JPY 不允许有小数',
    });
  });

  it('reads the same from bytes as from a path', async () => {
    const file = await writeXlsx(tmp.path, 'orders.xlsx', { Orders: [HEADER, [1, 'A', 'S', 1, 1]] });
    const fromPath = await parseOrderFile({ fileName: 'orders.xlsx', path: file });
    const fromData = await parseOrderFile({ fileName: 'orders.xlsx', data: await readFile(file) });
    expect(fromData).toEqual(fromPath);
    expect(fromData.orders).toHaveLength(1);
  });

  it('rejects the whole file when required columns are missing, naming them', async () => {
    const file = await writeXlsx(tmp.path, 'cols.xlsx', {
      Orders: [
        ['Order', 'Item', 'Notes'],
        [1, 'A-1', 'x'],
      ],
    });
    const parsed = await parseOrderFile({ fileName: 'cols.xlsx', path: file });
    expect(parsed).toEqual({
      fileName: 'cols.xlsx',
      error:
        'missing required columns: customer code ("customer", "customer code", "客户", "客户编码", "客户代码"); quantity ("qty", "quantity", "数量"). ' +
        'The first non-empty row is read as the header; it has "Order", "Item", "Notes" / ' +
        '缺少必填列：客户编码（“客户”、“客户编码”、“客户代码”）；数量（“数量”）。第一个非空行视为表头，表头内容为：“Order”、“Item”、“Notes”',
      orders: [],
      rejectedOrders: [],
      rows: [],
    });
  });

  it.each([
    ['a workbook with an empty sheet', { Orders: [] }, 'the file is empty / 文件为空'],
    ['a workbook of blank cells', { Orders: [[null, ''], []] }, 'the file is empty / 文件为空'],
    [
      'a header without rows',
      { Orders: [HEADER] },
      'the file has a header row but no order rows / 文件只有表头，没有订单行',
    ],
    [
      'a header and blank rows',
      { Orders: [HEADER, [], ['', null]] },
      'the file has a header row but no order rows / 文件只有表头，没有订单行',
    ],
  ])('rejects %s', async (_, sheets, error) => {
    const file = await writeXlsx(tmp.path, 'x.xlsx', sheets);
    const parsed = await parseOrderFile({ fileName: 'x.xlsx', path: file });
    expect(parsed).toEqual({ fileName: 'x.xlsx', error, orders: [], rejectedOrders: [], rows: [] });
  });

  it('rejects a file of more than maxRows order rows before importing any of it', async () => {
    const rows = Array.from({ length: 5 }, (_, i) => [i, 'A', 'S', 1]);
    const file = await writeXlsx(tmp.path, 'long.xlsx', { Orders: [HEADER, ...rows] });
    const parsed = await parseOrderFile({ fileName: 'long.xlsx', path: file }, { maxRows: 4 });
    expect(parsed.error).toBe(
      'the file has more than 4 order rows: split it into smaller files / 文件超过 4 个订单行：请拆分成较小的文件',
    );
    expect(parsed.orders).toEqual([]);
    expect((await parseOrderFile({ fileName: 'long.xlsx', path: file }, { maxRows: 5 })).orders).toHaveLength(
      5,
    );
  });

  it.each([
    ['an empty file', Buffer.alloc(0), 'the file is empty / 文件为空'],
    [
      'a text file named .xlsx',
      Buffer.from('order,customer\n1,A\n'),
      'the file is not an .xlsx workbook (it is not a zip archive) / 文件不是 .xlsx 工作簿（不是 zip 压缩包）',
    ],
    [
      'an old .xls (or password-protected) file named .xlsx',
      Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0]),
      'the file is an old .xls workbook or is password-protected: save it as .xlsx without a password / ' +
        '文件是旧版 .xls 工作簿或设有密码：请另存为不带密码的 .xlsx',
    ],
    [
      'a damaged zip',
      Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(64, 7)]),
      /^the workbook cannot be read: it is damaged or not an \.xlsx file \(.+\) \/ 无法读取工作簿：文件已损坏或不是 \.xlsx 文件（.+）$/,
    ],
  ])('reports %s as a file error without throwing', async (_, data, error) => {
    const fromData = await parseOrderFile({ fileName: 'in.xlsx', data });
    expect(fromData.error).toMatch(error);
    expect(fromData.orders).toEqual([]);
    const file = await writeText(tmp.path, 'in.xlsx', data);
    expect((await parseOrderFile({ fileName: 'in.xlsx', path: file })).error).toMatch(error);
  });

  it('reports a truncated workbook as damaged', async () => {
    const rows = Array.from({ length: 500 }, (_, i) => [i, 'A', `S-${i}`, 1, 1]);
    const file = await writeXlsx(tmp.path, 'full.xlsx', { Orders: [HEADER, ...rows] });
    const data = await readFile(file);
    const parsed = await parseOrderFile({ fileName: 'cut.xlsx', data: data.subarray(0, data.length / 2) });
    expect(parsed.error).toMatch(/^the workbook cannot be read: it is damaged/);
  });

  it('streams a workbook laid out differently: shared strings first, sheets not in workbook order', async () => {
    const main = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"';
    const rel = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
    const sheet = (rows: string) => `<worksheet ${main}><sheetData>${rows}</sheetData></worksheet>`;
    const data = storedZip({
      'xl/workbook.xml':
        `<workbook ${main} xmlns:r="${rel}"><sheets>` +
        '<sheet name="Orders" sheetId="2" r:id="rId2"/><sheet name="Lookup" sheetId="1" r:id="rId1"/>' +
        '</sheets></workbook>',
      'xl/_rels/workbook.xml.rels':
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
        `<Relationship Id="rId1" Type="${rel}/worksheet" Target="worksheets/sheet1.xml"/>` +
        `<Relationship Id="rId2" Type="${rel}/worksheet" Target="worksheets/sheet2.xml"/>` +
        '</Relationships>',
      'xl/sharedStrings.xml':
        `<sst ${main}><si><t>order</t></si><si><t>customer</t></si><si><t>sku</t></si><si><t>qty</t></si>` +
        '<si><r><t>A-</t></r><r><rPr><b/></rPr><t>1</t></r></si></sst>',
      'xl/worksheets/sheet1.xml': sheet(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>not orders</t></is></c></row>',
      ),
      'xl/worksheets/sheet2.xml': sheet(
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c>' +
          '<c r="D1" t="s"><v>3</v></c></row>' +
          '<row r="3"><c r="A3"><v>7</v></c><c r="B3" t="inlineStr"><is><t>ACME</t></is></c>' +
          '<c r="C3" t="s"><v>4</v></c><c r="D3"><v>3</v></c></row>',
      ),
    });
    const parsed = await parseOrderFile({ fileName: 'odd.xlsx', data });
    expect(parsed.error).toBeUndefined();
    expect(parsed.orders).toEqual([
      {
        externalId: 'ACME:7',
        customerCode: 'ACME',
        orderNo: '7',
        currency: 'EUR',
        lines: [{ sku: 'A-1', quantity: 3, unitPrice: 0 }],
        rows: [3],
      },
    ]);
  });

  it('reads a workbook whose worksheet comes before xl/workbook.xml in the zip', async () => {
    // exceljs used to throw "reading 'sheets'" here (now and then for real files, under load).
    const strings = ['order', 'customer', 'sku', 'qty', 'price', 'A', 'S'];
    const cell = (ref: string, v: string | number) =>
      typeof v === 'string'
        ? `<c r="${ref}" t="s"><v>${strings.indexOf(v)}</v></c>`
        : `<c r="${ref}"><v>${v}</v></c>`;
    const row = (n: number, values: (string | number)[]) =>
      `<row r="${n}">${values.map((v, i) => cell(`${'ABCDE'[i]}${n}`, v)).join('')}</row>`;
    const ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"';
    const rel = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
    const data = storedZip({
      'xl/_rels/workbook.xml.rels': `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${rel}/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId2" Type="${rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`,
      'xl/sharedStrings.xml': `<sst ${ns} count="7" uniqueCount="7">${strings.map((t) => `<si><t>${t}</t></si>`).join('')}</sst>`,
      'xl/worksheets/sheet1.xml': `<worksheet ${ns}><sheetData>${row(1, ['order', 'customer', 'sku', 'qty', 'price'])}${row(2, [1, 'A', 'S', 3, 2])}</sheetData></worksheet>`,
      'xl/workbook.xml': `<workbook ${ns} xmlns:r="${rel}"><sheets><sheet sheetId="1" name="Orders" r:id="rId2"/></sheets></workbook>`,
    });
    const parsed = await parseOrderFile({ fileName: 'late.xlsx', data });
    expect(parsed.error).toBeUndefined();
    expect(parsed.orders).toMatchObject([
      { customerCode: 'A', orderNo: '1', lines: [{ sku: 'S', quantity: 3 }] },
    ]);
  });

  it('reports a zip that is not a workbook', async () => {
    const data = storedZip({ 'readme.txt': 'hello', 'xl/workbook.xml': '<workbook/>' });
    expect((await parseOrderFile({ fileName: 'z.xlsx', data })).error).toBe(
      'the workbook has no worksheet / 工作簿中没有工作表',
    );
  });

  it('releases every file descriptor whether it reads a file to the end or stops early', async () => {
    const twoSheets = await writeXlsx(tmp.path, 'two.xlsx', {
      Orders: [HEADER, [1, 'A', 'S', 1, 1], [2, 'A', 'S', 1, 1]],
      Catalogue: [['sku'], ['S'], ['T']],
    });
    const badHeader = await writeXlsx(tmp.path, 'bad.xlsx', { Orders: [['nope'], [1]], Other: [['x']] });
    const openFds = () => readdir('/proc/self/fd').then((fds) => fds.length);
    const before = await openFds();
    for (let i = 0; i < 10; i++) {
      const whole = await parseOrderFile({ fileName: 'two.xlsx', path: twoSheets });
      expect({ error: whole.error, orders: whole.orders.length }).toEqual({ error: undefined, orders: 2 });
      expect((await parseOrderFile({ fileName: 'bad.xlsx', path: badHeader })).error).toMatch(/^missing/);
      const long = await parseOrderFile({ fileName: 'two.xlsx', path: twoSheets }, { maxRows: 1 });
      expect(long.error).toMatch(/more than 1 order rows/);
    }
    // Closing is asynchronous: wait, with a deadline, for the count to come back down.
    await waitFor(async () => (await openFds()) <= before, {
      timeoutMs: 10_000,
      message: async () => `open descriptors back to ${before} (now ${await openFds()})`,
    });
  });

  it.each([
    [
      'orders.xls',
      'old .xls workbooks are not read: save the file as .xlsx (Excel Workbook) / 不支持旧版 .xls 工作簿：请另存为 .xlsx（Excel 工作簿）',
    ],
    [
      'orders.pdf',
      'unsupported file type ".pdf": send an .xlsx workbook or a .csv file / 不支持的文件类型“.pdf”：请发送 .xlsx 工作簿或 .csv 文件',
    ],
    [
      'orders',
      'unsupported file type "orders": send an .xlsx workbook or a .csv file / 不支持的文件类型“orders”：请发送 .xlsx 工作簿或 .csv 文件',
    ],
  ])('refuses %s by its extension', async (fileName, error) => {
    expect(await parseOrderFile({ fileName, data: Buffer.from('x') })).toEqual({
      fileName,
      error,
      orders: [],
      rejectedOrders: [],
      rows: [],
    });
  });

  it('accepts an upper-case extension', async () => {
    const file = await writeXlsx(tmp.path, 'ORDERS.XLSX', { Orders: [HEADER, [1, 'A', 'S', 1, 1]] });
    expect((await parseOrderFile({ fileName: 'ORDERS.XLSX', path: file })).orders).toHaveLength(1);
  });

  it('reports a missing file as unreadable', async () => {
    const parsed = await parseOrderFile({ fileName: 'gone.xlsx', path: path.join(tmp.path, 'gone.xlsx') });
    expect(parsed.error).toBe('the file cannot be read (ENOENT) / 无法读取文件（ENOENT）');
  });

  it('throws for invalid options, which are a programming error', async () => {
    const input = { fileName: 'x.csv', data: Buffer.from('a') };
    await expect(parseOrderFile(input, { defaultCurrency: 'euro' })).rejects.toThrow(RangeError);
    await expect(parseOrderFile(input, { maxRows: 0 })).rejects.toThrow(RangeError);
  });
});
