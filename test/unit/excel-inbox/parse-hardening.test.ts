import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { parseOrderFile } from '../../../connectors/excel-inbox/parse.js';
import { toOrderInput } from '../../../connectors/excel-inbox/to-order-input.js';
import { deflatedZip, HEADER, useTempDir, workbookWithHugeCell, writeText, zipEntries } from './support.js';

const GB18030_FIXTURE = fileURLToPath(new URL('../../fixtures/excel/orders-gb18030.csv', import.meta.url));

const csv = (text: string) => ({ fileName: 'orders.csv', data: Buffer.from(text) });
const rowReasons = (rows: { row: number; status: string; reason?: string }[]) =>
  rows.map((r) => [r.row, r.status, r.reason ?? null]);

describe('parseOrderFile: rows that would import wrong data', () => {
  it('refuses a CSV row with more cells than the header, instead of reading shifted cells', async () => {
    const parsed = await parseOrderFile(
      csv(
        'Order,Customer,SKU,Qty,Price\nX-1,EXTRA,A1,1,1,234.50\nX-2,ACME,A1,2,12,50\nX-3,ACME,A1,2\nX-4,ACME,A1,2,12.50\n',
      ),
    );
    const shifted = (cells: number) =>
      `the row has ${cells} cells but the header has 5: a comma in a value (such as 12,50) must be inside quotes, or written 12.50 / ` +
      `该行有 ${cells} 个单元格，表头有 5 个：值中的逗号（如 12,50）须加引号，或写成 12.50`;
    expect(rowReasons(parsed.rows)).toEqual([
      [2, 'rejected', shifted(6)],
      [3, 'rejected', shifted(6)],
      [4, 'rejected', shifted(4)],
      [5, 'pending', null],
    ]);
    expect(parsed.orders.map((o) => [o.externalId, o.lines])).toEqual([
      ['ACME:X-4', [{ sku: 'A1', quantity: 2, unitPrice: 1250 }]],
    ]);
  });

  it('refuses a quantity or price cell formatted as a date, never reading it as its day number', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Orders');
    sheet.addRow(HEADER);
    sheet.addRow(['D-1', 'ACME', 'A-1', new Date(Date.UTC(2026, 0, 15)), 3]);
    sheet.addRow(['D-2', 'ACME', 'A-1', 2, new Date(Date.UTC(2026, 0, 15))]);
    sheet.addRow(['D-3', 'ACME', 'A-1', 2, 3]);
    sheet.getCell('D2').numFmt = 'yyyy-mm-dd';
    sheet.getCell('E3').numFmt = 'dd/mm/yyyy';
    const data = Buffer.from(await workbook.xlsx.writeBuffer());
    const parsed = await parseOrderFile({ fileName: 'dates.xlsx', data });
    expect(parsed.error).toBeUndefined();
    expect(rowReasons(parsed.rows)).toEqual([
      [
        2,
        'rejected',
        'quantity is a date (2026-01-15): format the cell as a number / 数量是日期（2026-01-15）：请把单元格设为数字格式',
      ],
      [
        3,
        'rejected',
        'unit price is a date (2026-01-15): format the cell as a number / 单价是日期（2026-01-15）：请把单元格设为数字格式',
      ],
      [4, 'pending', null],
    ]);
    expect(parsed.orders.map((o) => o.externalId)).toEqual(['ACME:D-3']);
  });
});

describe('parseOrderFile: Chinese order sheets', () => {
  const expected = [
    {
      externalId: 'HZ01:PO-88',
      customerCode: 'HZ01',
      customerName: '杭州五金有限公司',
      orderNo: 'PO-88',
      currency: 'CNY',
      lines: [
        { sku: 'A-1', quantity: 12, unitPrice: 1250 },
        { sku: 'B-2', quantity: 3, unitPrice: 80 },
      ],
      rows: [2, 3],
    },
    {
      externalId: 'SH02:9001',
      customerCode: 'SH02',
      customerName: '上海机电',
      orderNo: '9001',
      currency: 'CNY',
      lines: [{ sku: 'A-1', quantity: 5, unitPrice: 700 }],
      rows: [4],
    },
  ];

  it('reads a GB18030 CSV as Excel saves it on Chinese Windows: Chinese headers, full-width digits, customer names', async () => {
    const parsed = await parseOrderFile({ fileName: 'orders-gb18030.csv', path: GB18030_FIXTURE });
    expect(parsed.error).toBeUndefined();
    expect(parsed.orders).toEqual(expected);
    expect(toOrderInput(parsed.orders[0]!).customer).toEqual({ code: 'HZ01', name: '杭州五金有限公司' });
  });

  it('reads the same sheet saved as UTF-8, with or without BOM', async () => {
    const text = iconv.decode(await readFile(GB18030_FIXTURE), 'gb18030');
    expect((await parseOrderFile(csv(text))).orders).toEqual(expected);
    expect((await parseOrderFile(csv(`\uFEFF${text}`))).orders).toEqual(expected);
  });

  it('takes 客户 / 商品编码 / SKU column names, full-width ones too, in a workbook', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('订单');
    sheet.addRow(['订单号', '客户', '商品编码', '数量', '单价']);
    sheet.addRow(['１００１', 'BJ', 'Ａ-1', '２', '３.５']);
    const data = Buffer.from(await workbook.xlsx.writeBuffer());
    const parsed = await parseOrderFile({ fileName: '订单.xlsx', data });
    expect(parsed.orders.map((o) => [o.externalId, o.lines])).toEqual([
      ['BJ:1001', [{ sku: 'A-1', quantity: 2, unitPrice: 350 }]],
    ]);
    const sku = await parseOrderFile(csv('订单号,客户编码,ＳＫＵ,数量\n1,BJ,A-1,1\n'));
    expect(sku.orders.map((o) => o.lines[0]?.sku)).toEqual(['A-1']);
  });
});

describe('parseOrderFile: files that would unpack into gigabytes', () => {
  const tmp = useTempDir();
  const goodRows = [HEADER, ['B-1', 'ACME', 'A-1', 1, 1]];

  it('refuses a small workbook holding a 300 MB cell before unpacking it', async () => {
    const data = await workbookWithHugeCell(goodRows, 300);
    expect(data.length).toBeLessThan(1024 * 1024);
    const parsed = await parseOrderFile({ fileName: 'bomb.xlsx', data });
    expect(parsed.error).toBe(
      'the workbook is refused: its shared strings unpack to 300 MB; at most 32 MB are read / ' +
        '已拒绝读取该工作簿：共享字符串解压后为 300 MB，最多只读取 32 MB',
    );
    expect(parsed.orders).toEqual([]);
    // The same from a path (the inbox).
    const file = await writeText(tmp.path, 'bomb.xlsx', data);
    expect((await parseOrderFile({ fileName: 'bomb.xlsx', path: file })).error).toBe(parsed.error);
  });

  it('refuses shared strings that claim to be small and unpack to more', async () => {
    const data = await workbookWithHugeCell(goodRows, 40, { declaredSize: 2000 });
    const parsed = await parseOrderFile({ fileName: 'liar.xlsx', data });
    expect(parsed.error).toBe(
      'the workbook is refused: xl/sharedStrings.xml unpacks to another size than its zip directory declares / ' +
        '已拒绝读取该工作簿：xl/sharedStrings.xml 解压后的大小与 zip 目录中声明的不符',
    );
    expect(parsed.orders).toEqual([]);
  });

  it('refuses a workbook whose entries together unpack to more than 128 MB', async () => {
    const megabyte = 'B'.repeat(1024 * 1024);
    const entries = await zipEntries(await workbookWithHugeCell(goodRows, 0));
    const data = deflatedZip([
      ...[...entries].map(([name, bytes]) => ({ name, parts: [bytes] })),
      { name: 'xl/media/image1.png', parts: [{ repeat: megabyte, times: 100 }] },
      { name: 'xl/media/image2.png', parts: [{ repeat: megabyte, times: 100 }] },
    ]);
    const parsed = await parseOrderFile({ fileName: 'big.xlsx', data });
    expect(parsed.error).toBe(
      'the workbook is refused: it unpacks to 200 MB; at most 128 MB are read / ' +
        '已拒绝读取该工作簿：解压后为 200 MB，最多只读取 128 MB',
    );
  });

  it('refuses a cell longer than Excel allows, within the size limits', async () => {
    const entries = await zipEntries(await workbookWithHugeCell(goodRows, 0));
    const sheet = entries.get('xl/worksheets/sheet1.xml')!.toString();
    const at = sheet.indexOf('</sheetData>');
    const longCell = '<row r="9"><c r="A9" t="inlineStr"><is><t>';
    const data = deflatedZip(
      [...entries].map(([name, bytes]) =>
        name === 'xl/worksheets/sheet1.xml'
          ? {
              name,
              parts: [
                sheet.slice(0, at),
                longCell,
                { repeat: 'C'.repeat(1024), times: 2048 },
                '</t></is></c></row>',
                sheet.slice(at),
              ],
            }
          : { name, parts: [bytes] },
      ),
    );
    const parsed = await parseOrderFile({ fileName: 'long.xlsx', data });
    expect(parsed.error).toBe(
      'the workbook is refused: xl/worksheets/sheet1.xml holds a text or cell longer than 192 KB / ' +
        '已拒绝读取该工作簿：xl/worksheets/sheet1.xml 含有超过 192 KB 的文本或单元格',
    );
  });

  it('refuses a zip with an entry its central directory does not list', async () => {
    const entries = await zipEntries(await workbookWithHugeCell(goodRows, 0));
    const listed = deflatedZip([...entries].map(([name, bytes]) => ({ name, parts: [bytes] })));
    const hidden = deflatedZip([{ name: 'xl/sharedStrings.xml', parts: ['<sst><si><t>x</t></si></sst>'] }]);
    // The hidden entry's local header and data go first; the listed entries' offsets are moved past it.
    const hiddenLocal = hidden.subarray(0, hidden.readUInt32LE(hidden.length - 6));
    const directoryAt = listed.readUInt32LE(listed.length - 6);
    const directory = Buffer.from(listed.subarray(directoryAt));
    for (let p = 0; directory.readUInt32LE(p) === 0x02014b50; ) {
      directory.writeUInt32LE(directory.readUInt32LE(p + 42) + hiddenLocal.length, p + 42);
      p +=
        46 + directory.readUInt16LE(p + 28) + directory.readUInt16LE(p + 30) + directory.readUInt16LE(p + 32);
    }
    directory.writeUInt32LE(directoryAt + hiddenLocal.length, directory.length - 6);
    const data = Buffer.concat([hiddenLocal, listed.subarray(0, directoryAt), directory]);
    const parsed = await parseOrderFile({ fileName: 'hidden.xlsx', data });
    expect(parsed.error).toBe(
      'the workbook is refused: its entries overlap or hide data between them / ' +
        '已拒绝读取该工作簿：压缩包内的条目相互重叠或夹带隐藏数据',
    );

    // Hidden after the listed entries, before the directory: the listed offsets stay right.
    const after = Buffer.from(listed.subarray(directoryAt));
    after.writeUInt32LE(directoryAt + hiddenLocal.length, after.length - 6);
    const atEnd = Buffer.concat([listed.subarray(0, directoryAt), hiddenLocal, after]);
    expect((await parseOrderFile({ fileName: 'hidden-end.xlsx', data: atEnd })).error).toBe(
      'the workbook is refused: it holds data its directory does not list / ' +
        '已拒绝读取该工作簿：压缩包含有目录中未列出的数据',
    );
  });

  it('refuses a CSV cell longer than Excel allows', async () => {
    const parsed = await parseOrderFile(csv(`order,customer,sku,qty,note\n1,A,S,1,${'x'.repeat(40_000)}\n`));
    expect(parsed.error).toBe(
      'row 2 has a cell of more than 32767 characters / 第 2 行有单元格超过 32767 个字符',
    );
    expect(parsed.orders).toEqual([]);
  });

  it('refuses a file larger than the upload limit, from a path as from bytes', async () => {
    const file = await writeText(tmp.path, 'big.csv', `order,customer,sku,qty\n${'1,A,S,1\n'.repeat(2000)}`);
    const parsed = await parseOrderFile({ fileName: 'big.csv', path: file }, { maxFileBytes: 10_000 });
    expect(parsed.error).toBe(
      'the file has 16023 bytes; files may have at most 10000: split it / ' +
        '文件大小为 16023 字节，上限为 10000 字节：请拆分',
    );
  });
});
