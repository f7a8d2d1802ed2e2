import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { block, track, waitForLockWaits } from '../helpers/interleave.js';
import { checkInvariants } from '../helpers/invariants.js';
import { ADMIN_TOKEN, createStack, jsonOrText, type TestStack } from '../helpers/stack.js';

/** An .xlsx workbook of one sheet: a header row, then the rows. */
async function workbook(header: unknown[], rows: unknown[][]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Sheet1');
  ws.addRow(header);
  for (const r of rows) ws.addRow(r);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** The `Result` sheet of a result workbook as objects keyed by its header texts; and its `Summary`. */
async function readResult(data: ArrayBuffer) {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(data);
  const sheet = wb.getWorksheet('Result')!;
  const header = (sheet.getRow(1).values as unknown[]).slice(1).map(String);
  const rows: Record<string, unknown>[] = [];
  sheet.eachRow((r, n) => {
    if (n === 1) return;
    rows.push(Object.fromEntries(header.map((h, i) => [h, r.getCell(i + 1).value ?? ''])));
  });
  const summary: Record<string, unknown> = {};
  wb.getWorksheet('Summary')!.eachRow((r) => {
    summary[String(r.getCell(1).value)] = r.getCell(2).value;
  });
  return { header, rows, summary };
}

describe.each([
  ['MariaDB', false],
  ['SQLite', true],
])('catalogue on %s', (_name, sqlite) => {
  let stack: TestStack;

  const upload = async (
    path: string,
    file: { name: string; data: Buffer | string },
    fields: Record<string, string> = {},
  ) => {
    const form = new FormData();
    form.set('file', new File([file.data], file.name));
    for (const [k, v] of Object.entries(fields)) form.set(k, v);
    return stack.app.request(path, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: form,
    });
  };
  const count = async (table: string, where: Record<string, unknown> = {}) =>
    Number(((await stack.db(table).where(where).count({ n: '*' })) as { n: number }[])[0]!.n);
  const onHand = async (sku: string, warehouse: string) => {
    const r = await stack.api('GET', `/api/stock?sku=${sku}&warehouse=${warehouse}`);
    return r.body.items[0]?.onHand ?? null;
  };

  beforeAll(async () => {
    stack = await createStack({ sqlite });
    for (const code of ['main', 'east'])
      expect(
        (await stack.api('PUT', `/api/warehouses/${code}`, { name: code, priority: code === 'main' ? 1 : 2 }))
          .status,
      ).toBe(201);
  });

  afterAll(async () => {
    await stack?.close();
  });

  describe('PUT /api/skus (many at once)', () => {
    const skus = [
      { code: 'BOLT-M6', name: 'Hex bolt M6', unitPrice: 120, currency: 'EUR', reorderPoint: 50 },
      { code: 'BOLT-M8', name: 'Hex bolt M8', unitPrice: 150, currency: 'EUR' },
      { code: 'NUT-M6', name: 'Nut M6 (50% off)', unitPrice: 30, currency: 'EUR', reorderPoint: null },
      { code: 'WASHER', name: '垫圈 Washer', unitPrice: 5, currency: 'CNY' },
    ];

    it('creates many SKUs in one request; the same request again changes nothing and says so', async () => {
      const first = await stack.api('PUT', '/api/skus', { skus });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ created: 4, updated: 0, unchanged: 0 });
      expect(first.body.items.map((i: { outcome: string }) => i.outcome)).toEqual([
        'created',
        'created',
        'created',
        'created',
      ]);
      const updatedAt = await stack.db('skus').orderBy('code').pluck('updated_at');

      const again = await stack.api('PUT', '/api/skus', { skus });
      expect(again.body).toMatchObject({ created: 0, updated: 0, unchanged: 4 });
      expect(await stack.db('skus').orderBy('code').pluck('updated_at')).toEqual(updatedAt);

      const changed = await stack.api('PUT', '/api/skus', {
        skus: [{ ...skus[1], unitPrice: 160 }, { ...skus[0] }],
      });
      expect(changed.body.items).toEqual([
        { code: 'BOLT-M8', outcome: 'updated' },
        { code: 'BOLT-M6', outcome: 'unchanged' },
      ]);
      expect((await stack.api('GET', '/api/skus/BOLT-M8')).body.unitPrice).toBe(160);
    });

    it('a bad entry is 422 naming its index, and nothing of the request is stored', async () => {
      const before = await stack.db('skus').orderBy('code').select('code', 'name', 'unit_price');
      const bad = await stack.api('PUT', '/api/skus', {
        skus: [
          { code: 'NEW-1', name: 'New one', unitPrice: 1, currency: 'EUR' },
          { code: 'BOLT-M6', name: 'Renamed', unitPrice: 1, currency: 'EUR' },
          { code: 'NEW-2', name: 'New two', unitPrice: 1.5, currency: 'EUR' },
        ],
      });
      expect(bad.status).toBe(422);
      expect(bad.body.error.code).toBe('validation_failed');
      expect(bad.body.error.details).toEqual([{ path: 'skus.2.unitPrice', message: expect.any(String) }]);

      const twice = await stack.api('PUT', '/api/skus', {
        skus: [
          { code: 'NEW-1', name: 'New one', unitPrice: 1, currency: 'EUR' },
          { code: 'NEW-1', name: 'New one again', unitPrice: 1, currency: 'EUR' },
        ],
      });
      expect(twice.status).toBe(422);
      expect(twice.body.error.details).toEqual([{ path: 'skus.1.code', message: 'NEW-1 is also entry 0' }]);

      const caseOnly = await stack.api('PUT', '/api/skus', {
        skus: [
          { code: 'CASE-1', name: 'Upper', unitPrice: 1, currency: 'EUR' },
          { code: 'case-1', name: 'Lower', unitPrice: 1, currency: 'EUR' },
        ],
      });
      expect(caseOnly.status).toBe(422);
      expect(caseOnly.body.error.details).toEqual([
        { path: 'skus.1.code', message: 'case-1 is also entry 0' },
      ]);

      const badCode = await stack.api('PUT', '/api/skus', {
        skus: [{ code: 'has space', name: 'x', unitPrice: 1, currency: 'EUR' }],
      });
      expect(badCode.status).toBe(422);
      expect(badCode.body.error.details[0].path).toBe('skus.0.code');
      expect((await stack.api('PUT', '/api/skus', { skus: [] })).status).toBe(422);
      expect((await stack.api('PUT', '/api/skus', '{"skus": [')).status).toBe(400);

      expect(await stack.db('skus').orderBy('code').select('code', 'name', 'unit_price')).toEqual(before);
    });
  });

  describe('GET /api/skus and GET /api/skus/{code}', () => {
    it('shows the reorder point of a SKU', async () => {
      const one = await stack.api('GET', '/api/skus/BOLT-M6');
      expect(one.status).toBe(200);
      expect(one.body).toEqual({
        code: 'BOLT-M6',
        name: 'Hex bolt M6',
        unitPrice: 120,
        currency: 'EUR',
        reorderPoint: 50,
        taxClass: 'standard',
        unitCost: null,
      });
      expect((await stack.api('GET', '/api/skus/BOLT-M8')).body.reorderPoint).toBeNull();
      expect((await stack.api('GET', '/api/skus/NOPE')).status).toBe(404);
    });

    it('pages through every SKU once, newest first, in a stable order', async () => {
      const all = (await stack.db('skus').orderBy('id', 'desc').pluck('code')).map(String);
      expect(all.length).toBeGreaterThanOrEqual(4);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { status: number; body: any } = await stack.api(
          'GET',
          `/api/skus?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.body.items.map((i: { code: string }) => i.code));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen).toEqual(all);
    });

    it('searches code and name, in any case, taking % and _ literally', async () => {
      const codes = async (q: string) =>
        (await stack.api('GET', `/api/skus?q=${encodeURIComponent(q)}`)).body.items
          .map((i: { code: string }) => i.code)
          .sort();
      expect(await codes('bolt')).toEqual(['BOLT-M6', 'BOLT-M8']);
      expect(await codes('m6')).toEqual(['BOLT-M6', 'NUT-M6']);
      expect(await codes('垫圈')).toEqual(['WASHER']);
      expect(await codes('50%')).toEqual(['NUT-M6']);
      expect(await codes('%')).toEqual(['NUT-M6']);
      expect(await codes('_')).toEqual([]);
      expect(await codes('no such thing')).toEqual([]);
      const paged = await stack.api('GET', '/api/skus?q=bolt&limit=1');
      expect(paged.body.items).toHaveLength(1);
      const rest = await stack.api('GET', `/api/skus?q=bolt&limit=1&cursor=${paged.body.nextCursor}`);
      expect([paged.body.items[0].code, rest.body.items[0].code].sort()).toEqual(['BOLT-M6', 'BOLT-M8']);
      expect(rest.body.nextCursor).toBeNull();
    });

    it('refuses a page size beyond the limit and a bad cursor with 400', async () => {
      for (const query of ['limit=501', 'limit=0', 'limit=abc', 'cursor=not-a-cursor']) {
        const r = await stack.api('GET', `/api/skus?${query}`);
        expect(r.status, query).toBe(400);
        expect(r.body.error.code).toBe('invalid_parameter');
      }
      expect((await stack.api('GET', '/api/skus?limit=500')).status).toBe(200);
    });
  });

  describe('POST /api/skus/import', () => {
    const header = ['货号', '名称', '单价', '币种', '补货点', '备注'];
    const rows = [
      ['CAT-1', '螺丝刀', 12.5, 'CNY', 10, ''],
      ['CAT-2', 'Hammer', '8.00', 'eur', '', 'note only'],
      ['CAT-3', '', 1, 'EUR', '', ''],
      ['CAT 4', 'Bad code', 1, 'EUR', '', ''],
      ['CAT-5', 'Bad price', '1.234', 'EUR', '', ''],
      ['CAT-1', 'Twice', 1, 'EUR', '', ''],
      ['CAT-6', 'Bad reorder', 1, 'EUR', -3, ''],
    ];

    it('creates the valid rows and says per row, in both languages, why the others were refused', async () => {
      const res = await upload('/api/skus/import?format=xlsx', {
        name: 'catalogue.xlsx',
        data: await workbook(header, rows),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-disposition')).toContain('catalogue.result.xlsx');
      const result = await readResult(await res.arrayBuffer());
      expect(result.header).toEqual([
        'Row / 行号',
        'SKU / 货号',
        'Name / 名称',
        'Unit price / 单价',
        'Currency / 币种',
        'Reorder point / 补货点',
        'Status / 状态',
        'Reason / 原因',
      ]);
      expect(result.rows.map((r) => [r['Row / 行号'], r['SKU / 货号'], r['Status / 状态']])).toEqual([
        [2, 'CAT-1', 'created / 已创建'],
        [3, 'CAT-2', 'created / 已创建'],
        [4, 'CAT-3', 'rejected / 已拒绝'],
        [5, 'CAT 4', 'rejected / 已拒绝'],
        [6, 'CAT-5', 'rejected / 已拒绝'],
        [7, 'CAT-1', 'rejected / 已拒绝'],
        [8, 'CAT-6', 'rejected / 已拒绝'],
      ]);
      const reason = (row: number) =>
        String(result.rows.find((r) => r['Row / 行号'] === row)!['Reason / 原因']);
      expect(reason(4)).toContain('name is missing / 缺少名称');
      expect(reason(5)).toContain('letters, digits');
      expect(reason(6)).toContain('too many decimals');
      expect(reason(7)).toContain('also on row 2');
      expect(reason(8)).toContain('reorder point');
      expect(result.summary['Rows created / 已创建']).toBe(2);
      expect(result.summary['Rows rejected / 已拒绝']).toBe(5);

      expect((await stack.api('GET', '/api/skus/CAT-1')).body).toEqual({
        code: 'CAT-1',
        name: '螺丝刀',
        unitPrice: 1250,
        currency: 'CNY',
        reorderPoint: 10,
        taxClass: 'standard',
        unitCost: null,
      });
      expect((await stack.api('GET', '/api/skus/CAT-2')).body).toMatchObject({
        unitPrice: 800,
        currency: 'EUR',
      });
      expect(await count('skus', { code: 'CAT-3' })).toBe(0);
      expect(await count('skus', { code: 'CAT-5' })).toBe(0);
    });

    it('the same sheet again changes nothing and says so per row; a changed row is updated', async () => {
      const before = await stack.db('skus').where('code', 'like', 'CAT-%').orderBy('code');
      const again = await upload('/api/skus/import', {
        name: 'catalogue.xlsx',
        data: await workbook(header, rows),
      });
      expect(again.status).toBe(200);
      const body = (await again.json()) as any;
      expect(body.summary).toMatchObject({ rows: 7, created: 0, updated: 0, unchanged: 2, rejected: 5 });
      expect(body.rows.slice(0, 2).map((r: { status: string }) => r.status)).toEqual([
        'unchanged',
        'unchanged',
      ]);
      expect(await stack.db('skus').where('code', 'like', 'CAT-%').orderBy('code')).toEqual(before);

      const csv = 'SKU,Name,Price,Currency\nCAT-2,Claw hammer,8.00,EUR\n';
      const changed = (await (await upload('/api/skus/import', { name: 'c.csv', data: csv })).json()) as any;
      expect(changed.rows).toEqual([expect.objectContaining({ row: 2, sku: 'CAT-2', status: 'updated' })]);
      expect((await stack.api('GET', '/api/skus/CAT-2')).body.name).toBe('Claw hammer');
    });

    it('takes the currency of rows without one from the form; without either the row is refused', async () => {
      const csv = 'sku,name,unit price\nCUR-1,With default,2.5\n';
      const withDefault = (await (
        await upload('/api/skus/import', { name: 'a.csv', data: csv }, { currency: 'USD' })
      ).json()) as any;
      expect(withDefault.rows[0].status).toBe('created');
      expect((await stack.api('GET', '/api/skus/CUR-1')).body).toMatchObject({
        unitPrice: 250,
        currency: 'USD',
      });
      const without = (await (
        await upload('/api/skus/import', { name: 'b.csv', data: 'sku,name,unit price\nCUR-2,None,2.5\n' })
      ).json()) as any;
      expect(without.rows[0]).toMatchObject({
        status: 'rejected',
        reason: expect.stringContaining('currency'),
      });
      expect(await count('skus', { code: 'CUR-2' })).toBe(0);
    });

    it('a file that cannot be read as a whole is 422 saying why, and stores nothing', async () => {
      const skusBefore = await count('skus');
      const noName = await upload('/api/skus/import', {
        name: 'x.xlsx',
        data: await workbook(['货号', '单价'], [['X-1', 1]]),
      });
      expect(noName.status).toBe(422);
      const body = (await jsonOrText(noName)) as any;
      expect(body.error.code).toBe('invalid_file');
      expect(body.error.message).toContain('name / 名称');
      const asWorkbook = await upload('/api/skus/import?format=xlsx', {
        name: 'x.csv',
        data: 'sku,price\nX,1\n',
      });
      expect(asWorkbook.status).toBe(422);
      expect((await readResult(await asWorkbook.arrayBuffer())).summary['Error / 错误']).toContain('missing');
      expect((await upload('/api/skus/import', { name: 'x.pdf', data: 'whatever' })).status).toBe(422);
      expect((await stack.api('POST', '/api/skus/import', { file: 'x' })).status).toBe(415);
      expect(await count('skus')).toBe(skusBefore);
    });
  });

  describe('POST /api/stock/import (opening stock)', () => {
    const header = ['商品编码', '仓库', '数量'];
    const rows = [
      ['CAT-1', 'main', 40],
      ['CAT-2', 'main', '7'],
      ['CAT-2', 'east', 3],
      ['GHOST', 'main', 5],
      ['CAT-1', 'nowhere', 5],
      ['BOLT-M6', 'main', 'many'],
      ['BOLT-M8', 'main', 0],
      ['CAT-1', 'main', 41],
    ];

    it('records each row as a receipt with a ledger row; a row that fails does not stop the others', async () => {
      const res = await upload('/api/stock/import?format=xlsx', {
        name: 'opening.xlsx',
        data: await workbook(header, rows),
      });
      expect(res.status).toBe(200);
      const result = await readResult(await res.arrayBuffer());
      expect(result.header).toEqual([
        'Row / 行号',
        'SKU / 货号',
        'Warehouse / 仓库',
        'Quantity / 数量',
        'Status / 状态',
        'Reason / 原因',
        'Receipt id / 入库单号',
      ]);
      expect(result.rows.map((r) => r['Status / 状态'])).toEqual([
        'recorded / 已入账',
        'recorded / 已入账',
        'recorded / 已入账',
        'rejected / 已拒绝',
        'rejected / 已拒绝',
        'rejected / 已拒绝',
        'unchanged / 无变化',
        'rejected / 已拒绝',
      ]);
      const reason = (i: number) => String(result.rows[i]!['Reason / 原因']);
      expect(reason(3)).toContain('unknown SKU GHOST');
      expect(reason(4)).toContain('unknown warehouse nowhere');
      expect(reason(5)).toContain('not a number');
      expect(reason(6)).toContain('nothing to record');
      expect(reason(7)).toContain('also on row 2');

      expect(await onHand('CAT-1', 'main')).toBe(40);
      expect(await onHand('CAT-2', 'main')).toBe(7);
      expect(await onHand('CAT-2', 'east')).toBe(3);
      const docs = await stack.db('stock_documents').where({ reference: 'opening-stock:CAT-2' });
      expect(docs.map((d) => d.kind)).toEqual(['receipt', 'receipt']);
      const cat1 = await stack.db('skus').where({ code: 'CAT-1' }).first('id');
      const ledger = await stack.db('stock_movements').where({ sku_id: cat1.id });
      expect(ledger.map((m) => [Number(m.d_on_hand), m.reason, m.ref_type])).toEqual([
        [40, 'receipt', 'receipt'],
      ]);
      expect(Number(ledger[0].ref_id)).toBe(Number(result.rows[0]!['Receipt id / 入库单号']));
      expect(await checkInvariants(stack.db)).toEqual([]);
    });

    it('the same sheet again changes nothing and says so per row; another quantity is refused', async () => {
      const movements = await count('stock_movements');
      const again = await upload('/api/stock/import', {
        name: 'opening.xlsx',
        data: await workbook(header, rows),
      });
      expect(again.status).toBe(200);
      const body = (await again.json()) as any;
      expect(body.summary).toMatchObject({ rows: 8, recorded: 0, unchanged: 4, rejected: 4 });
      expect(body.rows.slice(0, 3)).toEqual([
        expect.objectContaining({ status: 'unchanged', reason: expect.stringContaining('recorded before') }),
        expect.objectContaining({ status: 'unchanged' }),
        expect.objectContaining({ status: 'unchanged' }),
      ]);
      expect(await count('stock_movements')).toBe(movements);

      const csv = 'SKU;Warehouse;Qty\nCAT-1;main;45\nNUT-M6;main;12\n';
      const changed = (await (await upload('/api/stock/import', { name: 'o.csv', data: csv })).json()) as any;
      expect(changed.rows.map((r: { status: string }) => r.status)).toEqual(['rejected', 'recorded']);
      expect(changed.rows[0].reason).toContain('stock adjustment');
      expect(await onHand('CAT-1', 'main')).toBe(40);
      expect(await onHand('NUT-M6', 'main')).toBe(12);
      expect(await count('stock_movements')).toBe(movements + 1);
    });

    it('takes the warehouse of rows without one from the form', async () => {
      const res = await upload(
        '/api/stock/import',
        { name: 's.csv', data: 'sku,qty\nWASHER,9\n' },
        { warehouse: 'east' },
      );
      expect(((await res.json()) as any).rows[0]).toMatchObject({ warehouse: 'east', status: 'recorded' });
      expect(await onHand('WASHER', 'east')).toBe(9);
      const bad = await upload(
        '/api/stock/import',
        { name: 's.csv', data: 'sku,qty\nWASHER,9\n' },
        { warehouse: 'a b' },
      );
      expect(bad.status).toBe(400);
    });

    it('a file without a quantity column is 422 and records nothing', async () => {
      const movements = await count('stock_movements');
      const res = await upload('/api/stock/import', { name: 's.csv', data: '货号,仓库\nCAT-1,main\n' });
      expect(res.status).toBe(422);
      expect(((await res.json()) as any).error.message).toContain('quantity / 数量');
      expect(await count('stock_movements')).toBe(movements);
    });
  });

  describe('GET /api/stock (per SKU and warehouse)', () => {
    it('pages through every stock row once, in a stable order, with filters on SKU and warehouse', async () => {
      const total = await count('stock_levels');
      expect(total).toBeGreaterThanOrEqual(5);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { status: number; body: any } = await stack.api(
          'GET',
          `/api/stock?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(page.status).toBe(200);
        seen.push(
          ...page.body.items.map((i: { sku: string; warehouse: string }) => `${i.sku}@${i.warehouse}`),
        );
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen).toHaveLength(total);
      expect(new Set(seen).size).toBe(total);

      const cat2 = await stack.api('GET', '/api/stock?sku=CAT-2');
      expect(cat2.body.items).toEqual([
        { sku: 'CAT-2', warehouse: 'east', onHand: 3, reserved: 0, available: 3, reorderPoint: null },
        { sku: 'CAT-2', warehouse: 'main', onHand: 7, reserved: 0, available: 7, reorderPoint: null },
      ]);
      const east = await stack.api('GET', '/api/stock?warehouse=east');
      expect(east.body.items.map((i: { sku: string }) => i.sku).sort()).toEqual(['CAT-2', 'WASHER']);
      expect((await stack.api('GET', '/api/stock?warehouse=nowhere')).body.items).toEqual([]);
    });

    it('refuses a page size beyond the limit, a bad cursor or a bad filter with 400', async () => {
      for (const query of ['limit=501', 'limit=-1', 'cursor=abc', 'sku=a%20b', 'below=nothing']) {
        const r = await stack.api('GET', `/api/stock?${query}`);
        expect(r.status, query).toBe(400);
      }
      expect((await stack.api('GET', '/api/stock?below=reorder')).status).toBe(200);
      expect((await stack.api('GET', '/api/stock?limit=500&sku=CAT-1&warehouse=main')).status).toBe(200);
    });
  });
});

/** Row locks exist on MariaDB only (SQLite runs one writer at a time): the interleavings are forced there. */
describe('catalogue writers lock first (MariaDB, forced interleavings)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await createStack();
    await stack.api('PUT', '/api/warehouses/main', { name: 'main', priority: 1 });
    await stack.api('PUT', '/api/skus', {
      skus: [
        { code: 'LOCK-1', name: 'Held stock', unitPrice: 1, currency: 'EUR' },
        { code: 'LOCK-2', name: 'Held SKU', unitPrice: 1, currency: 'EUR' },
      ],
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  const uploadCsv = async (path: string, csv: string) => {
    const form = new FormData();
    form.set('file', new File([csv], 'sheet.csv'));
    return stack.app.request(path, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: form,
    });
  };

  it('the same opening stock imported twice at once, both queued behind a held stock row: recorded once', async () => {
    const sku = await stack.db('skus').where({ code: 'LOCK-1' }).first('id');
    const wh = await stack.db('warehouses').where({ code: 'main' }).first('id');
    // The blocker creates the stock row and holds it, as a receipt in progress would.
    const blocker = await block(
      stack.db,
      'INSERT INTO stock_levels (sku_id, warehouse_id, on_hand, reserved, updated_at) VALUES (?, ?, 0, 0, ?) ON DUPLICATE KEY UPDATE sku_id = sku_id',
      [sku.id, wh.id, '2026-12-01 00:00:00.000'],
    );
    const imports = [0, 1].map(() =>
      track(uploadCsv('/api/stock/import', 'sku,warehouse,qty\nLOCK-1,main,6\n')),
    );
    // One waits for the stock row, the other for the first one's receipt reference.
    await waitForLockWaits(stack.db, 2, {
      settled: () => (imports.some((i) => i.done) ? 'an import did not wait' : null),
    });
    await blocker.commit();
    const bodies = await Promise.all(imports.map(async (i) => (await (await i.promise).json()) as any));
    expect(bodies.map((b) => b.rows[0].status).sort()).toEqual(['recorded', 'unchanged']);
    expect((await stack.api('GET', '/api/stock?sku=LOCK-1')).body.items[0].onHand).toBe(6);
    expect(await stack.db('stock_movements').where({ sku_id: sku.id }).count({ n: '*' })).toEqual([{ n: 1 }]);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('the same SKU change sent twice at once, both queued behind a held SKU row: one updates, one finds it done', async () => {
    const blocker = await block(stack.db, "SELECT * FROM skus WHERE code = 'LOCK-2' FOR UPDATE");
    const body = { skus: [{ code: 'LOCK-2', name: 'Renamed while held', unitPrice: 1, currency: 'EUR' }] };
    const puts = [0, 1].map(() => track(stack.api('PUT', '/api/skus', body)));
    await waitForLockWaits(stack.db, 2, {
      table: 'skus',
      settled: () => (puts.some((p) => p.done) ? 'a request did not wait' : null),
    });
    await blocker.commit();
    const results = await Promise.all(puts.map((p) => p.promise));
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    expect(results.map((r) => r.body.items[0].outcome).sort()).toEqual(['unchanged', 'updated']);
    expect((await stack.api('GET', '/api/skus/LOCK-2')).body.name).toBe('Renamed while held');
  });
});
