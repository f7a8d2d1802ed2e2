import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseOrderFile } from '../../../connectors/excel-inbox/parse.js';
import { useTempDir, writeText } from './support.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/excel/orders-sample.csv', import.meta.url));
const BOM = '\uFEFF';

const csv = (text: string) => ({ fileName: 'orders.csv', data: Buffer.from(text) });

describe('parseOrderFile: .csv', () => {
  const tmp = useTempDir();

  it('reads the committed sample: BOM, CRLF, quoted commas and line breaks, a JPY order', async () => {
    const parsed = await parseOrderFile({ fileName: 'orders-sample.csv', path: FIXTURE });
    expect(parsed.error).toBeUndefined();
    expect(parsed.orders).toEqual([
      {
        externalId: 'ACME:5001',
        customerCode: 'ACME',
        orderNo: '5001',
        currency: 'EUR',
        lines: [
          { sku: 'A-1', quantity: 2, unitPrice: 1250 },
          { sku: 'B-2', quantity: 1, unitPrice: 10 },
        ],
        rows: [2, 3],
      },
      {
        externalId: 'BETA, Inc:5002',
        customerCode: 'BETA, Inc',
        orderNo: '5002',
        currency: 'EUR',
        lines: [{ sku: 'A-1', quantity: 10, unitPrice: 9900 }],
        rows: [4],
      },
      {
        externalId: 'TOKYO:5003',
        customerCode: 'TOKYO',
        orderNo: '5003',
        currency: 'JPY',
        lines: [{ sku: 'A-1', quantity: 3, unitPrice: 1500 }],
        rows: [5],
      },
    ]);
    // The same file from bytes, and with the BOM, CRLF and quoting it was written with.
    const data = await readFile(FIXTURE);
    expect(data.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(await parseOrderFile({ fileName: 'orders-sample.csv', data })).toEqual(parsed);
  });

  it('numbers rows as Excel shows them, a quoted line break staying inside its row', async () => {
    const parsed = await parseOrderFile(
      csv(
        `${BOM}"order","customer","sku","qty","note"\r\n` +
          '1,A,"S-1",1,"first\r\nsecond"\r\n' +
          '\r\n' +
          '1,A,S-2,"2",\r\n' +
          '2,A,S-3,x,"say ""no"""\r\n',
      ),
    );
    expect(parsed.rows.map((r) => [r.row, r.sku, r.status, r.reason ?? null])).toEqual([
      [2, 'S-1', 'pending', null],
      [4, 'S-2', 'pending', null],
      [5, 'S-3', 'rejected', 'quantity "x" is not a number / 数量“x”不是数字'],
    ]);
  });

  it('reads a semicolon-separated file (Excel in comma-decimal locales) and refuses its decimal commas', async () => {
    const parsed = await parseOrderFile(
      csv('Order;Customer;SKU;Qty;Price\n1;A;S-1;2;"12,50"\n2;A;S-1;2;12.50\n'),
    );
    expect(parsed.orders.map((o) => [o.externalId, o.lines])).toEqual([
      ['A:2', [{ sku: 'S-1', quantity: 2, unitPrice: 1250 }]],
    ]);
    expect(parsed.rows[0]?.reason).toBe(
      'unit price "12,50" has a comma: write it without thousands separators and with a decimal point, e.g. 1234.50 / ' +
        '单价“12,50”含有逗号：请不要使用千位分隔符，小数部分用小数点，如 1234.50',
    );
  });

  it('accepts a file without a final line break, and LF line ends', async () => {
    const parsed = await parseOrderFile(csv('order,customer,sku,qty\n1,A,S,1\n1,A,T,2'));
    expect(parsed.orders[0]?.lines).toEqual([
      { sku: 'S', quantity: 1, unitPrice: 0 },
      { sku: 'T', quantity: 2, unitPrice: 0 },
    ]);
  });

  it.each([
    ['an empty file', '', 'the file is empty / 文件为空'],
    ['a BOM only', BOM, 'the file is empty / 文件为空'],
    ['blank lines only', '\r\n\r\n , \r\n', 'the file is empty / 文件为空'],
    [
      'a header only',
      `${BOM}order,customer,sku,qty\r\n`,
      'the file has a header row but no order rows / 文件只有表头，没有订单行',
    ],
    [
      'missing headers',
      'order,sku\n1,S\n',
      'missing required columns: customer code ("customer", "customer code", "客户", "客户编码", "客户代码"); quantity ("qty", "quantity", "数量"). ' +
        'The first non-empty row is read as the header; it has "order", "sku" / ' +
        '缺少必填列：客户编码（“客户”、“客户编码”、“客户代码”）；数量（“数量”）。第一个非空行视为表头，表头内容为：“order”、“sku”',
    ],
    [
      'an unclosed quote',
      'order,customer,sku,qty\n1,A,"S,1\n',
      'the CSV cannot be read: a quoted field opened on row 2 is never closed / ' +
        '无法读取 CSV 文件：第 2 行开始的带引号字段没有结束引号',
    ],
  ])('rejects %s as a whole', async (_, text, error) => {
    expect(await parseOrderFile(csv(text))).toEqual({
      fileName: 'orders.csv',
      error,
      orders: [],
      rejectedOrders: [],
      rows: [],
    });
  });

  it.each([
    [
      'UTF-16 text',
      Buffer.from('\uFEFForder,customer,sku,qty\n', 'utf16le'),
      'the file is not UTF-8 text: save it from Excel as "CSV UTF-8" / 文件不是 UTF-8 文本：请在 Excel 中另存为“CSV UTF-8”',
    ],
    [
      // Neither UTF-8 nor GB18030 (é followed by a comma is no GB18030 character).
      'Latin-1 text',
      Buffer.from('order,customer,sku,qty\n1,Caf\xe9,S,1\n', 'latin1'),
      'the file is not UTF-8 or GB18030 (Chinese) text: save it from Excel as "CSV UTF-8" / ' +
        '文件不是 UTF-8 或 GB18030（简体中文）编码的文本：请在 Excel 中另存为“CSV UTF-8”',
    ],
  ])('rejects %s, asking for CSV UTF-8', async (_, data, error) => {
    const parsed = await parseOrderFile({ fileName: 'orders.csv', data });
    expect(parsed.error).toBe(error);
  });

  it('keeps UTF-8 text intact across read chunks', async () => {
    const rows = Array.from({ length: 4000 }, (_, i) => `${i},Müller-${i % 7},SKU-€-${i},1`);
    const file = await writeText(tmp.path, 'big.csv', `order,customer,sku,qty\n${rows.join('\n')}\n`);
    const parsed = await parseOrderFile({ fileName: 'big.csv', path: file });
    expect(parsed.orders).toHaveLength(4000);
    expect(parsed.orders[3999]).toMatchObject({ customerCode: 'Müller-2', lines: [{ sku: 'SKU-€-3999' }] });
  });

  it('refuses an .xlsx workbook named .csv', async () => {
    const parsed = await parseOrderFile({ fileName: 'orders.csv', data: Buffer.from('PK\x03\x04rest') });
    expect(parsed.error).toBe(
      'the file is an .xlsx workbook named .csv: send it with the .xlsx extension / ' +
        '文件是以 .csv 命名的 .xlsx 工作簿：请改用 .xlsx 扩展名发送',
    );
  });
});
