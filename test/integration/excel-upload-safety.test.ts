import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ORDER_FILE_BYTES } from '../../connectors/excel-inbox/parse.js';
import { EXCEL_CHANNEL } from '../../src/inbox/import-file.js';
import { ADMIN_TOKEN, createStack, seedCatalog, type TestStack } from '../helpers/stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await createStack();
  await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['BOLT']);
});

afterAll(async () => {
  await stack?.close();
});

const BOUNDARY = 'sb-test-boundary';

/** A multipart body written by hand, so the `filename` arrives exactly as a hostile client sends it. */
function multipart(fileName: string, content: string): string {
  return [
    `--${BOUNDARY}`,
    `Content-Disposition: form-data; name="file"; filename="${fileName}"`,
    'Content-Type: text/csv',
    '',
    content,
    `--${BOUNDARY}--`,
    '',
  ].join('\r\n');
}

function upload(fileName: string, content: string, query = '?format=xlsx', route = '/api/orders/import') {
  return stack.app.request(`${route}${query}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
    },
    body: multipart(fileName, content),
  });
}

describe('POST /api/orders/import: file names from the sender', () => {
  it('writes the result only under its own name in its temporary folder, never where ../ points', async () => {
    const target = mkdtempSync(path.join(tmpdir(), 'sb-traversal-'));
    try {
      const hostile = `${'../'.repeat(12)}${target.slice(1)}/PWNED.csv`;
      const res = await upload(hostile, 'Order,Customer,SKU,Qty\nT-1,TRAV,BOLT,1\n');
      expect(res.status).toBe(200);
      expect(readdirSync(target)).toEqual([]);
      expect(res.headers.get('content-disposition')).toBe(
        `attachment; filename="PWNED.result.xlsx"; filename*=UTF-8''PWNED.result.xlsx`,
      );
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load(await res.arrayBuffer());
      expect(wb.getWorksheet('Summary')!.getRow(1).getCell(2).value).toBe('PWNED.csv');
      expect(
        await stack.db('orders').where({ channel: EXCEL_CHANNEL, external_id: 'TRAV:T-1' }).count({ n: '*' }),
      ).toEqual([{ n: 1 }]);
    } finally {
      rmSync(target, { recursive: true, force: true });
    }
  });

  it('answers a name pointing into a missing folder like any other upload, not with 500', async () => {
    const res = await upload(
      '../no-such-folder-anywhere/x/orders.csv',
      'Order,Customer,SKU,Qty\nT-2,TRAV,BOLT,1\n',
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain('filename="orders.result.xlsx"');
  });

  it('never lets a name break out of the Content-Disposition header', async () => {
    const res = await upload('订单 a\\b.csv', 'Order,Customer,SKU,Qty\nT-3,TRAV,BOLT,1\n');
    expect(res.status).toBe(200);
    // The backslash splits a Windows path: only the base name is kept, then escaped.
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="b.result.xlsx"; filename*=UTF-8''b.result.xlsx`,
    );
    const chinese = await upload('订单 11月.csv', 'Order,Customer,SKU,Qty\nT-4,TRAV,BOLT,1\n');
    expect(chinese.headers.get('content-disposition')).toBe(
      `attachment; filename="__ 11_.result.xlsx"; filename*=UTF-8''${encodeURIComponent('订单 11月.result.xlsx')}`,
    );
  });

  it('names the SKU and opening-stock result workbooks as safely as the orders one', async () => {
    const sheets = {
      '/api/skus/import': 'SKU,Name,Unit price,Currency\nBOLT,Bolt,1.00,EUR\n',
      '/api/stock/import': 'SKU,Quantity,Warehouse\nBOLT,1,main\n',
    };
    for (const [route, content] of Object.entries(sheets)) {
      const res = await upload('../../订单 11月.csv', content, '?format=xlsx', route);
      expect(res.status, route).toBe(200);
      expect(res.headers.get('content-disposition'), route).toBe(
        `attachment; filename="__ 11_.result.xlsx"; filename*=UTF-8''${encodeURIComponent('订单 11月.result.xlsx')}`,
      );
    }
  });

  it('refuses a body larger than an order file may be with 413, saying so in English and Chinese', async () => {
    const res = await upload(
      'big.csv',
      `Order,Customer,SKU,Qty\n${'x'.repeat(MAX_ORDER_FILE_BYTES + 128 * 1024)}`,
    );
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toEqual({
      code: 'payload_too_large',
      message: `order files may be at most ${MAX_ORDER_FILE_BYTES} bytes / 订单文件最大为 ${MAX_ORDER_FILE_BYTES} 字节`,
    });
  });
});
