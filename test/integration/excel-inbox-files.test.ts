import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { scanInbox } from '../../src/inbox/folder-watcher.js';
import { EXCEL_CHANNEL } from '../../src/inbox/import-file.js';
import { IntakeBatcher } from '../../src/orders/intake-batcher.js';
import { ADMIN_TOKEN, createStack, seedCatalog, silentLog, type TestStack } from '../helpers/stack.js';
import { workbookWithHugeCell } from '../unit/excel-inbox/support.js';

const GB18030_FIXTURE = fileURLToPath(new URL('../fixtures/excel/orders-gb18030.csv', import.meta.url));
const HEADER = 'Order,Customer,SKU,Qty,Price\n';

/** Marks a file as last changed a minute ago: old enough for any settle time the tests use. */
function age(file: string) {
  const past = new Date(Date.now() - 60_000);
  utimesSync(file, past, past);
}

function dropFile(folder: string, name: string, content: string | Buffer): string {
  const file = path.join(folder, name);
  writeFileSync(file, content);
  age(file);
  return file;
}

/** A logger whose lines the test can read. */
function capturingLog() {
  const lines: { level: number; msg: string; file?: string; error?: string }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

async function resultRows(file: string) {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  const rows: { status: string; reason: string }[] = [];
  wb.getWorksheet('Result')!.eachRow((r, n) => {
    if (n > 1) rows.push({ status: String(r.getCell(8).value), reason: String(r.getCell(9).value ?? '') });
  });
  return rows;
}

describe.each([
  ['MariaDB', false],
  ['SQLite', true],
])('order files from customers on %s', (_name, sqlite) => {
  let stack: TestStack;
  let intake: IntakeBatcher;
  const orderCount = async (externalId: string) =>
    Number(
      (
        await stack.db('orders').where({ channel: EXCEL_CHANNEL, external_id: externalId }).count({ n: '*' })
      )[0]!.n,
    );

  beforeAll(async () => {
    stack = await createStack({ sqlite });
    await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['BOLT', 'NUT', 'A-1', 'B-2']);
    intake = new IntakeBatcher(stack.db, (ids) => stack.queues.enqueueOrders(ids));
  });

  afterAll(async () => {
    await stack?.close();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  const scan = (folder: string, log = silentLog) => scanInbox({ folder, db: stack.db, intake, log });
  /** Scans until a file is taken (a settled file is taken by the second scan at the latest). */
  const take = async (folder: string, log = silentLog) => {
    for (let i = 0; i < 3; i++) {
      const handled = await scan(folder, log);
      if (handled.length > 0) return handled;
    }
    return [];
  };

  it('waits for a file still being copied until a scan finds its size and mtime unchanged', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'sb-inbox-'));
    // A copy over SMB: the first part is there, with the source's (old) mtime.
    const file = dropFile(folder, 'copying.csv', `${HEADER}COPY-1,SMB,BOLT,1,1.00\n`);
    expect(await scan(folder)).toEqual([]);
    appendFileSync(file, 'COPY-1,SMB,NUT,2,1.00\n');
    age(file);
    expect(await scan(folder)).toEqual([]);
    expect(await scan(folder)).toEqual(['copying.csv']);
    const order = await stack
      .db('orders')
      .where({ channel: EXCEL_CHANNEL, external_id: 'SMB:COPY-1' })
      .first('id');
    const lines = await stack
      .db('order_lines')
      .where({ order_id: order.id })
      .orderBy('line_no')
      .pluck('sku_code');
    expect(lines).toEqual(['BOLT', 'NUT']);
  });

  it('reports the same order with other lines as a conflict, not "already imported", and changes nothing', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'sb-inbox-'));
    dropFile(folder, 'part.csv', `${HEADER}CF-1,CONF,BOLT,1,1.00\n`);
    expect(await take(folder)).toEqual(['part.csv']);
    dropFile(folder, 'whole.csv', `${HEADER}CF-1,CONF,BOLT,1,1.00\nCF-1,CONF,NUT,2,1.00\n`);
    const { log, lines } = capturingLog();
    expect(await take(folder, log)).toEqual(['whole.csv']);
    const done = readdirSync(path.join(folder, 'done'));
    const result = await resultRows(
      path.join(folder, 'done', done.find((f) => f.endsWith('whole.result.xlsx'))!),
    );
    expect(result.map((r) => r.status)).toEqual(['rejected / 已拒绝', 'rejected / 已拒绝']);
    expect(result[0]!.reason).toMatch(/^conflict: order CF-1 of customer CONF was imported earlier/);
    expect(result[0]!.reason).toContain(' / 冲突：客户 CONF 的订单 CF-1 此前已导入（系统订单号 ');
    expect(lines.find((l) => l.file === 'whole.csv')).toMatchObject({
      msg: 'order file imported',
      ordersAccepted: 0,
      ordersRejected: 1,
      ordersConflicting: 1,
      ordersAlreadyImported: 0,
    });
    const order = await stack
      .db('orders')
      .where({ channel: EXCEL_CHANNEL, external_id: 'CONF:CF-1' })
      .first('id');
    expect(await stack.db('order_lines').where({ order_id: order.id }).pluck('sku_code')).toEqual(['BOLT']);

    // The very same lines again (in another order) are "already imported".
    dropFile(folder, 'again.csv', `${HEADER}CF-1,CONF,BOLT,1,1.00\n`);
    expect(await take(folder)).toEqual(['again.csv']);
    const again = readdirSync(path.join(folder, 'done')).find((f) => f.endsWith('again.result.xlsx'))!;
    expect((await resultRows(path.join(folder, 'done', again)))[0]).toEqual({
      status: 'accepted / 已导入',
      reason: 'already imported earlier / 此前已导入，未重复保存',
    });
  });

  it('keeps two files of the same name handled in the same second apart in done/', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date() });
    const folder = mkdtempSync(path.join(tmpdir(), 'sb-inbox-'));
    dropFile(folder, 'orders.csv', `${HEADER}SN-1,SAME,BOLT,1,1.00\n`);
    expect(await take(folder)).toEqual(['orders.csv']);
    dropFile(folder, 'orders.csv', `${HEADER}SN-2,SAME,BOLT,1,1.00\n`);
    expect(await take(folder)).toEqual(['orders.csv']);
    const done = readdirSync(path.join(folder, 'done'));
    const sources = done.filter((f) => f.endsWith('-orders.csv'));
    expect(sources).toHaveLength(2);
    expect(done.filter((f) => f.endsWith('-orders.result.xlsx'))).toHaveLength(2);
    const contents = sources.map((f) => readFileSync(path.join(folder, 'done', f), 'utf8')).sort();
    expect(contents.map((c) => c.split('\n')[1]!.split(',')[0])).toEqual(['SN-1', 'SN-2']);
  });

  it('never overwrites a file of the same name left in processing/ by a process that died', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'sb-inbox-'));
    mkdirSync(path.join(folder, 'processing'));
    const stuck = `${HEADER}ST-1,STUCK,BOLT,1,1.00\n`;
    writeFileSync(path.join(folder, 'processing', 'orders.csv'), stuck);
    dropFile(folder, 'orders.csv', `${HEADER}ST-2,STUCK,BOLT,1,1.00\n`);
    expect(await take(folder)).toEqual(['orders.csv']);
    expect(readFileSync(path.join(folder, 'processing', 'orders.csv'), 'utf8')).toBe(stuck);
    expect(await orderCount('STUCK:ST-2')).toBe(1);
  });

  it('logs a file that could not be read as failed, and moves it to failed/', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'sb-inbox-'));
    dropFile(folder, 'broken.xlsx', 'not a zip');
    const { log, lines } = capturingLog();
    expect(await take(folder, log)).toEqual(['broken.xlsx']);
    const entry = lines.find((l) => l.file === 'broken.xlsx');
    expect(entry).toMatchObject({ msg: 'order file failed', level: 40 });
    expect(entry?.error).toBe(
      'the file is not an .xlsx workbook (it is not a zip archive) / 文件不是 .xlsx 工作簿（不是 zip 压缩包）',
    );
    expect(readdirSync(path.join(folder, 'failed')).filter((f) => f.endsWith('broken.xlsx'))).toHaveLength(1);
  });

  it('refuses an inbox file over the upload size limit without reading it', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'sb-inbox-'));
    const file = dropFile(folder, 'huge.csv', HEADER);
    truncateSync(file, 21 * 1024 * 1024); // sparse: no 21 MB written
    age(file);
    const { log, lines } = capturingLog();
    expect(await take(folder, log)).toEqual(['huge.csv']);
    expect(lines.find((l) => l.file === 'huge.csv')?.error).toBe(
      `the file has ${21 * 1024 * 1024} bytes; files may have at most ${20 * 1024 * 1024}: split it / ` +
        `文件大小为 ${21 * 1024 * 1024} 字节，上限为 ${20 * 1024 * 1024} 字节：请拆分`,
    );
  });

  it('refuses an xlsx bomb dropped into the inbox, storing nothing', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'sb-inbox-'));
    const bomb = await workbookWithHugeCell(
      [
        ['Order', 'Customer', 'SKU', 'Qty'],
        ['BI-1', 'BOMB', 'BOLT', 1],
      ],
      300,
    );
    dropFile(folder, 'bomb.xlsx', bomb);
    const { log, lines } = capturingLog();
    expect(await take(folder, log)).toEqual(['bomb.xlsx']);
    expect(lines.find((l) => l.file === 'bomb.xlsx')).toMatchObject({ msg: 'order file failed' });
    expect(await orderCount('BOMB:BI-1')).toBe(0);
  });

  it('answers an uploaded xlsx bomb with 422 and stores nothing', async () => {
    const bomb = await workbookWithHugeCell(
      [
        ['Order', 'Customer', 'SKU', 'Qty'],
        ['BU-1', 'BOMB', 'BOLT', 1],
      ],
      300,
    );
    const form = new FormData();
    form.set('file', new File([bomb], 'bomb.xlsx'));
    const res = await stack.app.request('/api/orders/import', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: form,
    });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { summary: { error: string } };
    expect(body.summary.error).toBe(
      'the workbook is refused: its shared strings unpack to 300 MB; at most 32 MB are read / ' +
        '已拒绝读取该工作簿：共享字符串解压后为 300 MB，最多只读取 32 MB',
    );
    expect(await orderCount('BOMB:BU-1')).toBe(0);
  });

  it('keeps the customer name of a Chinese (GB18030) order sheet as the contact of its order, creating no customer', async () => {
    const form = new FormData();
    form.set('file', new File([readFileSync(GB18030_FIXTURE)], 'orders-gb18030.csv'));
    const res = await stack.app.request('/api/orders/import', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: form,
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { summary: unknown }).summary).toMatchObject({ ordersAccepted: 2 });
    // The name column is the order's contact; unknown customer codes create no customer.
    expect(await stack.db('customers').whereIn('code', ['HZ01', 'SH02']).count({ n: '*' })).toEqual([
      { n: 0 },
    ]);
    const contacts = await stack
      .db('orders')
      .where({ channel: EXCEL_CHANNEL })
      .whereIn('external_id', ['HZ01:PO-88', 'SH02:9001'])
      .orderBy('external_id')
      .select('external_id', 'contact_name');
    expect(contacts.map((o) => o.contact_name)).toEqual(['杭州五金有限公司', '上海机电']);
    const order = await stack
      .db('orders')
      .where({ channel: EXCEL_CHANNEL, external_id: 'HZ01:PO-88' })
      .first('id', 'currency');
    expect(order.currency).toBe('CNY');
  });
});
