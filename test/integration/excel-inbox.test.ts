import { mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanInbox } from '../../src/inbox/folder-watcher.js';
import { EXCEL_CHANNEL } from '../../src/inbox/import-file.js';
import { IntakeBatcher } from '../../src/orders/intake-batcher.js';
import { checkInvariants } from '../helpers/invariants.js';
import { ADMIN_TOKEN, createStack, seedCatalog, silentLog, type TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

let stack: TestStack;
let intake: IntakeBatcher;

beforeAll(async () => {
  stack = await createStack();
  stack.startWorker(8);
  await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['BOLT', 'NUT', 'WASHER']);
  // Orders name trade customers by code; those are created beforehand, never by an order.
  for (const code of ['ACME', 'BETA']) await stack.api('PUT', `/api/customers/${code}`, { name: code });
  await stack.api('POST', '/api/stock/receipts', {
    warehouse: 'main',
    reference: 'r',
    lines: [
      { sku: 'BOLT', quantity: 100 },
      { sku: 'NUT', quantity: 100 },
      { sku: 'WASHER', quantity: 100 },
    ],
  });
  intake = new IntakeBatcher(stack.db, (ids) => stack.queues.enqueueOrders(ids));
});

afterAll(async () => {
  await stack?.close();
});

async function workbook(file: string, rows: unknown[][]) {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Orders');
  ws.addRow(['Order No', 'Customer Code', 'SKU', 'Qty', 'Unit Price']);
  for (const r of rows) ws.addRow(r);
  await wb.xlsx.writeFile(file);
  // Old enough to count as fully copied.
  const past = new Date(Date.now() - 60_000);
  utimesSync(file, past, past);
}

/** Scans until a file is taken: a settled file is taken by the second scan, which finds it unchanged. */
async function takeFiles(folder: string): Promise<string[]> {
  for (let i = 0; i < 3; i++) {
    const handled = await scanInbox({ folder, db: stack.db, intake, log: silentLog });
    if (handled.length > 0) return handled;
  }
  return [];
}

async function readResult(file: string) {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  const sheet = wb.getWorksheet('Result')!;
  const header = Array.from(sheet.getRow(1).values as unknown[], (v) => String(v ?? ''));
  const col = (name: string) => header.indexOf(name);
  const rows: { row: number; status: string; reason: string }[] = [];
  sheet.eachRow((r, n) => {
    if (n === 1) return;
    rows.push({
      row: Number(r.getCell(col('Row / 行号')).value),
      status: String(r.getCell(col('Status / 状态')).value),
      reason: String(r.getCell(col('Reason / 原因')).value ?? ''),
    });
  });
  return rows;
}

describe('the Excel/CSV order inbox', () => {
  it('imports good orders, rejects broken ones whole, writes the result workbook and moves the file to done/', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'sb-inbox-'));
    await workbook(path.join(folder, 'week47.xlsx'), [
      ['PO-1', 'ACME', 'BOLT', 10, 1.25],
      ['PO-1', 'ACME', 'NUT', 5, '0.10'],
      ['PO-2', 'ACME', 'WASHER', 'abc', 2],
      ['PO-2', 'ACME', 'BOLT', 1, 2],
      ['PO-3', 'BETA', 'GHOST', 1, 1],
      ['PO-4', 'BETA', 'NUT', 2.5, 1],
      ['PO-5', 'BETA', 'BOLT', 3, ''],
    ]);
    const handled = await takeFiles(folder);
    expect(handled).toEqual(['week47.xlsx']);
    const done = readdirSync(path.join(folder, 'done'));
    expect(done.filter((f) => f.endsWith('week47.xlsx'))).toHaveLength(1);
    const resultFile = done.find((f) => f.endsWith('week47.result.xlsx'))!;
    expect(resultFile).toBeDefined();
    expect(readdirSync(folder).filter((f) => f.endsWith('.xlsx'))).toEqual([]);

    const result = await readResult(path.join(folder, 'done', resultFile));
    expect(result.map((r) => [r.row, r.status])).toEqual([
      [2, 'accepted / 已导入'],
      [3, 'accepted / 已导入'],
      [4, 'rejected / 已拒绝'],
      [5, 'rejected / 已拒绝'],
      [6, 'rejected / 已拒绝'],
      [7, 'rejected / 已拒绝'],
      [8, 'accepted / 已导入'],
    ]);
    expect(result[2]!.reason).toBe('quantity "abc" is not a number / 数量“abc”不是数字');
    expect(result[4]!.reason).toBe('unknown SKU GHOST / 货号 GHOST 不存在');

    await stack.settle();
    const orders = await stack
      .db('orders')
      .where({ channel: EXCEL_CHANNEL })
      .orderBy('external_id')
      .select('external_id', 'status', 'total_amount');
    expect(orders.map((o) => [o.external_id, o.status, Number(o.total_amount)])).toEqual([
      ['ACME:PO-1', 'confirmed', 10 * 125 + 5 * 10],
      ['BETA:PO-5', 'confirmed', 0],
    ]);

    // The same file again: nothing new is stored, and the result says so.
    await workbook(path.join(folder, 'week47-again.xlsx'), [
      ['PO-1', 'ACME', 'BOLT', 10, 1.25],
      ['PO-1', 'ACME', 'NUT', 5, '0.10'],
    ]);
    await takeFiles(folder);
    expect(await stack.db('orders').where({ channel: EXCEL_CHANNEL }).count({ n: '*' })).toEqual([{ n: 2 }]);
    const again = readdirSync(path.join(folder, 'done')).find((f) => f.endsWith('week47-again.result.xlsx'))!;
    const againRows = await readResult(path.join(folder, 'done', again));
    expect(againRows.map((r) => [r.status, r.reason])).toEqual([
      ['accepted / 已导入', 'already imported earlier / 此前已导入，未重复保存'],
      ['accepted / 已导入', 'already imported earlier / 此前已导入，未重复保存'],
    ]);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('moves an unreadable or empty file to failed/ with a result workbook, and the daemon goes on', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'sb-inbox-'));
    writeFileSync(path.join(folder, 'empty.csv'), '');
    writeFileSync(path.join(folder, 'not-really.xlsx'), 'this is not a zip file');
    const past = new Date(Date.now() - 60_000);
    utimesSync(path.join(folder, 'empty.csv'), past, past);
    utimesSync(path.join(folder, 'not-really.xlsx'), past, past);
    const handled = await takeFiles(folder);
    expect(handled.sort()).toEqual(['empty.csv', 'not-really.xlsx']);
    const failed = readdirSync(path.join(folder, 'failed'));
    expect(failed.filter((f) => f.includes('.result.'))).toHaveLength(2);
    expect(failed.filter((f) => !f.includes('.result.'))).toHaveLength(2);
  });

  it('leaves a file alone while it is still being written', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'sb-inbox-'));
    writeFileSync(path.join(folder, 'fresh.csv'), 'order,customer,sku,qty\n');
    // Changed within the settle time: a settle time (here 10 minutes) longer than any pause a busy
    // machine could put between the write and the scan, unlike the default 2 s.
    expect(await scanInbox({ folder, db: stack.db, intake, log: silentLog, settleMs: 600_000 })).toEqual([]);
    expect(readdirSync(folder)).toContain('fresh.csv');
  });
});

describe('POST /api/orders/import', () => {
  const csv = 'Order No,Customer,SKU,Qty,Price\nU-1,GAMMA,BOLT,2,1.00\nU-2,GAMMA,NOPE,1,1.00\n';
  const upload = (query = '', body?: FormData) => {
    const form = body ?? new FormData();
    if (!body) form.set('file', new File([csv], 'upload.csv', { type: 'text/csv' }));
    return stack.app.request(`/api/orders/import${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: form,
    });
  };

  it('imports an uploaded file and answers with every order and row', async () => {
    const res = await upload();
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.summary).toMatchObject({
      fileName: 'upload.csv',
      rows: 2,
      ordersAccepted: 1,
      ordersRejected: 1,
    });
    expect(body.rows.map((r: any) => [r.row, r.status, r.reason ?? null])).toEqual([
      [2, 'accepted', null],
      [3, 'rejected', 'unknown SKU NOPE / 货号 NOPE 不存在'],
    ]);
    expect(
      await stack.db('orders').where({ channel: EXCEL_CHANNEL, external_id: 'GAMMA:U-1' }).count({ n: '*' }),
    ).toEqual([{ n: 1 }]);
  });

  it('finds a SKU written in another letter case, and the order reserves it', async () => {
    await stack.api('PUT', '/api/customers/GAMMA', { name: 'Gamma' });
    const form = new FormData();
    form.set('file', new File(['Order No,Customer,SKU,Qty,Price\nU-9,GAMMA,bolt,3,1.00\n'], 'case.csv'));
    const res = await upload('', form);
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).summary).toMatchObject({ ordersAccepted: 1, ordersRejected: 0 });
    const order = await stack
      .db('orders')
      .where({ channel: EXCEL_CHANNEL, external_id: 'GAMMA:U-9' })
      .first();
    await waitFor(async () => {
      const o = await stack.api('GET', `/api/orders/${order.id}`);
      return o.body.status === 'confirmed' ? o : undefined;
    });
  });

  it('returns the result workbook on ?format=xlsx, and refuses requests without a file', async () => {
    const res = await upload('?format=xlsx');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('spreadsheetml');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(await res.arrayBuffer());
    expect(wb.getWorksheet('Result')!.rowCount).toBe(3);

    const noFile = await upload('', new FormData());
    expect(noFile.status).toBe(422);
    expect(((await noFile.json()) as any).error.message).toBe(
      'the form needs a "file" field holding an .xlsx or .csv file / 表单缺少“file”字段，须上传 .xlsx 或 .csv 文件',
    );
    const notMultipart = await stack.api('POST', '/api/orders/import', { file: 'x' });
    expect(notMultipart.status).toBe(415);
    expect(notMultipart.body.error.message).toBe(
      'send the file as multipart/form-data with the field "file" / 请以 multipart/form-data 格式上传，文件放在“file”字段中',
    );
  });
});

describe('inbound events of API and Excel orders', () => {
  it('are stored applied: processed_at set, never listed as pending', async () => {
    const api = await stack.api('POST', '/api/orders', {
      externalId: 'EV-API-1',
      currency: 'EUR',
      lines: [{ sku: 'BOLT', quantity: 1, unitPrice: 1 }],
    });
    expect(api.status).toBe(202);
    const folder = mkdtempSync(path.join(tmpdir(), 'sb-inbox-'));
    await workbook(path.join(folder, 'events.xlsx'), [['EV-X-1', 'DELTA', 'NUT', 1, 1]]);
    expect(await takeFiles(folder)).toEqual(['events.xlsx']);
    const form = new FormData();
    form.set('file', new File(['Order No,Customer,SKU,Qty,Price\nEV-U-1,DELTA,WASHER,1,1.00\n'], 'ev.csv'));
    const uploaded = await stack.app.request('/api/orders/import', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: form,
    });
    expect(uploaded.status).toBe(200);

    const orderIds = (
      await stack
        .db('orders')
        .whereIn('external_id', ['EV-API-1', 'DELTA:EV-X-1', 'DELTA:EV-U-1'])
        .orderBy('id')
        .pluck('id')
    ).map(Number);
    expect(orderIds).toHaveLength(3);
    const events = await stack.db('inbound_events').whereIn('order_id', orderIds).orderBy('id');
    expect(events.map((e) => [Number(e.order_id), e.processed_at !== null])).toEqual(
      orderIds.map((id) => [id, true]),
    );
    const pending = await stack.api('GET', '/api/inbound-events?status=pending&limit=200');
    expect(pending.status).toBe(200);
    const listed = pending.body.items.map((e: { orderId: number | null }) => e.orderId);
    expect(listed.filter((id: number | null) => id !== null && orderIds.includes(id))).toEqual([]);
  });

  it("the relay's query for pending events reads the pending index", async () => {
    const { pendingEventsQuery } = await import('../../src/queue/relay.js');
    const { sql, bindings } = pendingEventsQuery(stack.db, new Date(), 60_000, 500).toSQL();
    const [plan] = (await stack.db.raw(`EXPLAIN ${sql}`, bindings)) as [{ key: string | null }[]];
    expect(plan.map((p) => p.key)).toEqual(['inbound_events_pending']);
  });
});
