import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEDULED_JOBS } from '../../jobs/index.js';
import { issueDueInvoices } from '../../src/billing/invoicing-run.js';
import type { Db } from '../../src/db/connection.js';
import { dbTime } from '../../src/db/connection.js';
import { slowMoverParams } from '../../src/reports/report-files.js';
import { slowMoversPage } from '../../src/reports/slow-movers.js';
import { checkInvariants } from '../helpers/invariants.js';
import { jobContext } from '../helpers/job-context.js';
import { ADMIN_TOKEN, createStack, seedCatalog, silentLog, type TestStack } from '../helpers/stack.js';

/**
 * The reports (README "Reports") over a small world built through the HTTP app: orders of two
 * customers and two channels, shipped, invoiced by the invoicing run, paid in part (payment rows as
 * the payments API stores them), cancelled, returned. Every figure is worked out by hand below.
 */

const today = () => new Date().toISOString().slice(0, 10);

/** A receipt and what it settled, as the payments module stores them (`invoices.paid` kept in step). */
async function recordPayment(
  db: Db,
  p: {
    customer: string;
    reference: string;
    amount: number;
    allocations: { invoice: string; amount: number }[];
  },
) {
  const customer = await db('customers').where({ code: p.customer }).first('id');
  const applied = p.allocations.reduce((a, x) => a + x.amount, 0);
  const now = dbTime();
  await db.transaction(async (tx) => {
    const [paymentId] = await tx('payments').insert({
      customer_id: customer.id,
      reference: p.reference,
      amount: p.amount,
      currency: 'EUR',
      received_on: today(),
      method: 'bank_transfer',
      source: 'api',
      unapplied: p.amount - applied,
      actor: 'test',
      request_hash: p.reference,
      created_at: now,
    });
    for (const a of p.allocations) {
      const invoice = await tx('invoices').where({ number: a.invoice }).first('id');
      await tx('payment_allocations').insert({
        payment_id: paymentId,
        invoice_id: invoice.id,
        amount: a.amount,
        applied_on: today(),
        actor: 'test',
        created_at: now,
      });
      await tx('invoices').where({ id: invoice.id }).increment('paid', a.amount);
    }
  });
}

/** Reads a workbook answer back: every row's values (1-based columns as exceljs gives them, shifted to 0-based). */
async function workbookRows(res: Response): Promise<unknown[][]> {
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('spreadsheetml');
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(Buffer.from(await res.arrayBuffer()) as never);
  const sheet = workbook.worksheets[0]!;
  expect(sheet.views[0]).toMatchObject({ state: 'frozen', ySplit: 2 });
  const rows: unknown[][] = [];
  sheet.eachRow({ includeEmpty: true }, (row) => {
    const values = (row.values as unknown[]).slice(1);
    // Empty cells are holes in exceljs's array: null here.
    rows.push(Array.from(values, (v) => (v === undefined ? null : v)));
  });
  return rows;
}

describe.each([
  ['MariaDB', false],
  ['SQLite', true],
])('reports on %s', (_name, sqlite) => {
  let stack: TestStack;
  const ids: Record<string, number> = {};
  const invoiceOf: Record<string, string> = {};

  const get = async (url: string) => {
    const res = await stack.api('GET', url);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };
  const download = (url: string) =>
    stack.app.request(url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  /** Every page of a JSON report, `limit` rows a page. */
  const allItems = async (url: string, limit: number) => {
    const items: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const sep = url.includes('?') ? '&' : '?';
      const body = await get(`${url}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(body.items.length).toBeLessThanOrEqual(limit);
      items.push(...body.items);
      cursor = body.nextCursor;
      pages++;
    } while (cursor);
    return { items, pages };
  };
  const order = async (body: Record<string, unknown>) => {
    const res = await stack.api('POST', '/api/orders', { currency: 'EUR', ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return Number(res.body.id);
  };

  beforeAll(async () => {
    stack = await createStack({ sqlite });
    await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['A1', 'B2', 'C3']);
    for (const [sku, amount] of [
      ['A1', 600],
      ['C3', 250],
    ] as const) {
      const r = await stack.api('PUT', `/api/skus/${sku}`, {
        name: `SKU ${sku}`,
        unitPrice: 1000,
        currency: 'EUR',
        unitCost: { amount, currency: 'EUR' },
      });
      expect(r.status).toBe(200);
    }
    for (const [sku, quantity] of [
      ['A1', 100],
      ['B2', 10],
      ['C3', 40],
    ] as const)
      await stack.api('POST', '/api/stock/receipts', {
        warehouse: 'main',
        reference: `open-${sku}`,
        lines: [{ sku, quantity }],
      });
    expect((await stack.api('PUT', '/api/salespeople/SP1', { name: 'Lin Tao' })).status).toBeLessThan(300);
    for (const [code, body] of [
      ['CUS1', { name: 'Hangzhou Trading', salesperson: 'SP1', currency: 'EUR' }],
      ['CUS2', { name: 'Ningbo Retail', currency: 'EUR' }],
    ] as const) {
      const r = await stack.api('PUT', `/api/customers/${code}`, body);
      expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
    }
    const contract = await stack.api('PUT', '/api/contracts/HT-1', {
      customer: 'CUS1',
      currency: 'EUR',
      validFrom: '2026-01-01',
      validTo: '2027-12-31',
      lines: [{ sku: 'A1', quantity: 100, price: 900 }],
    });
    expect(contract.status, JSON.stringify(contract.body)).toBe(201);
    // The discounts R-1 claims, as promotions that its codes take (the API's channel applies them).
    for (const [code, body] of [
      [
        'P-A1',
        {
          name: '2.00 off each A1',
          kind: 'amount',
          amount: 20,
          currency: 'EUR',
          skus: ['A1'],
          requiresCode: true,
        },
      ],
      [
        'P-ORD',
        {
          name: '1.00 off',
          kind: 'amount',
          appliesTo: 'order',
          amount: 100,
          currency: 'EUR',
          requiresCode: true,
        },
      ],
    ] as const) {
      const r = await stack.api('PUT', `/api/promotions/${code}`, body);
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    }
    stack.startWorker(4);

    // R-1: 10 × A1 at 10.00 less 2.00, tax 9.80; 2 × B2 at 15.00, tax 3.90; shipping 5.00, 1.00 off the
    // order: 98.00 + 30.00 − 1.00 + 5.00 + 13.70 = 145.70.
    ids.r1 = await order({
      externalId: 'R-1',
      customer: { code: 'CUS1' },
      placedAt: '2026-11-10T10:00:00Z',
      lines: [
        { sku: 'A1', quantity: 10, unitPrice: 1000, discount: 200, tax: 980 },
        { sku: 'B2', quantity: 2, unitPrice: 1500, tax: 390 },
      ],
      shipping: 500,
      discount: 100,
      promotionCodes: ['P-A1', 'P-ORD'],
    });
    // R-2: 5 × A1 at 10.00; 3 ship, then it is cancelled (short-shipped).
    ids.r2 = await order({
      externalId: 'R-2',
      customer: { code: 'CUS1' },
      placedAt: '2026-11-20T10:00:00Z',
      lines: [{ sku: 'A1', quantity: 5, unitPrice: 1000, tax: 0 }],
    });
    // R-3: 10 × B2 at 15.00 of CUS2: 8 left to reserve, 2 backordered.
    ids.r3 = await order({
      externalId: 'R-3',
      customer: { code: 'CUS2' },
      placedAt: '2026-11-25T10:00:00Z',
      lines: [{ sku: 'B2', quantity: 10, unitPrice: 1500, tax: 0 }],
    });
    await stack.settle();
    // R-4, in October, on the contract: 4 × A1 at its 9.00; one comes back.
    ids.r4 = await order({
      externalId: 'R-4',
      customer: { code: 'CUS1' },
      contract: 'HT-1',
      placedAt: '2026-10-15T10:00:00Z',
      lines: [{ sku: 'A1', quantity: 4, tax: 0 }],
    });
    await stack.settle();
    for (const [id, status] of [
      [ids.r1, 'confirmed'],
      [ids.r2, 'confirmed'],
      [ids.r3, 'backordered'],
      [ids.r4, 'confirmed'],
    ] as const)
      expect((await get(`/api/orders/${id}`)).status, JSON.stringify(await get(`/api/orders/${id}`))).toBe(
        status,
      );

    expect((await stack.api('POST', `/api/orders/${ids.r1}/shipments`, {})).status).toBe(201);
    expect(
      (await stack.api('POST', `/api/orders/${ids.r2}/shipments`, { lines: [{ sku: 'A1', quantity: 3 }] }))
        .status,
    ).toBe(201);
    expect((await stack.api('POST', `/api/orders/${ids.r4}/shipments`, {})).status).toBe(201);
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-reports-'));
    try {
      const run = await issueDueInvoices(stack.db, {
        period: today(),
        timeZone: 'UTC',
        outputDir: dir,
        log: silentLog,
      });
      expect(run.counts).toMatchObject({ invoices: 3, shipments: 3 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    for (const key of ['r1', 'r2', 'r4']) {
      const items = (await get(`/api/invoices?order=${ids[key]}`)).items;
      expect(items).toHaveLength(1);
      invoiceOf[key] = items[0].number;
    }
    expect((await stack.api('POST', `/api/orders/${ids.r2}/cancel`, { reason: 'customer' })).status).toBe(
      200,
    );
    const returned = await stack.api('POST', `/api/orders/${ids.r4}/returns`, {
      lines: [{ sku: 'A1', quantity: 1 }],
      restock: true,
      reference: 'RMA-1',
    });
    expect(returned.status, JSON.stringify(returned.body)).toBe(201);
    expect(returned.body.creditNotes).toHaveLength(1);
    await recordPayment(stack.db, {
      customer: 'CUS1',
      reference: 'BANK-1',
      amount: 15570,
      allocations: [
        { invoice: invoiceOf.r1!, amount: 14570 },
        { invoice: invoiceOf.r2!, amount: 1000 },
      ],
    });

    // R-5 through the Excel channel, today: 2 × A1 at 10.00 of CUS2.
    const form = new FormData();
    const csv = 'Order No,Customer,SKU,Qty,Unit Price,Currency\nPO-9,CUS2,A1,2,10.00,EUR\n';
    form.set('file', new File([csv], 'orders.csv', { type: 'text/csv' }));
    const uploaded = await stack.app.request('/api/orders/import', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: form,
    });
    expect(uploaded.status).toBe(200);
    await stack.settle();
    const r5 = await stack.db('orders').where({ channel: 'excel' }).first('id', 'status');
    ids.r5 = Number(r5.id);
    expect(r5.status).toBe('confirmed');
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('keeps what a SKU costs, set through the SKU API', async () => {
    expect((await get('/api/skus/A1')).unitCost).toEqual({ amount: 600, currency: 'EUR' });
    expect((await get('/api/skus/B2')).unitCost).toBeNull();
    const bad = await stack.api('PUT', '/api/skus/B2', {
      name: 'SKU B2',
      unitPrice: 1000,
      currency: 'EUR',
      unitCost: { amount: -1, currency: 'EUR' },
    });
    expect(bad.status).toBe(422);
  });

  describe('settlement', () => {
    const from = '2026-10-01';
    const cus1 = {
      customer: { code: 'CUS1', name: 'Hangzhou Trading' },
      channel: null,
      currency: 'EUR',
      // R-1 and R-4 (R-2 was cancelled): 10 + 2 + 4 units; 100.00 + 30.00 + 36.00.
      orders: 2,
      quantity: 16,
      gross: 16600,
      discounts: 300,
      tax: 1370,
      shipping: 500,
      net: 18170,
      // Invoices of R-1 (145.70), R-2 (3 shipped: 30.00) and R-4 (36.00); one unit of R-4 credited (9.00).
      invoices: 3,
      invoiced: 21170,
      credited: 900,
      paid: 15570,
      outstanding: 4700,
    };
    const cus2 = {
      customer: { code: 'CUS2', name: 'Ningbo Retail' },
      channel: null,
      currency: 'EUR',
      // R-3 (150.00) and R-5 (20.00), nothing invoiced.
      orders: 2,
      quantity: 12,
      gross: 17000,
      discounts: 0,
      tax: 0,
      shipping: 0,
      net: 17000,
      invoices: 0,
      invoiced: 0,
      credited: 0,
      paid: 0,
      outstanding: 0,
    };

    it('per customer: the orders placed and the invoices issued in the period, paged', async () => {
      const body = await get(`/api/reports/settlement?from=${from}&to=${today()}`);
      expect(body.items).toEqual([cus1, cus2]);
      expect(body.nextCursor).toBeNull();
      const paged = await allItems(`/api/reports/settlement?from=${from}&to=${today()}&by=customer`, 1);
      expect(paged).toEqual({ items: [cus1, cus2], pages: 2 });
      // November alone: R-1 and R-3 were placed in it; every invoice was issued later.
      const november = await get('/api/reports/settlement?from=2026-11-01&to=2026-11-30');
      expect(november.items).toEqual([
        {
          ...cus1,
          orders: 1,
          quantity: 12,
          gross: 13000,
          net: 14570,
          invoices: 0,
          invoiced: 0,
          credited: 0,
          paid: 0,
          outstanding: 0,
        },
        { ...cus2, orders: 1, quantity: 10, gross: 15000, net: 15000 },
      ]);
    });

    it('per channel', async () => {
      const { items } = await allItems(`/api/reports/settlement?from=${from}&to=${today()}&by=channel`, 1);
      expect(items).toEqual([
        {
          ...cus1,
          customer: null,
          channel: 'api',
          orders: 3,
          quantity: 26,
          gross: 31600,
          net: 33170,
        },
        { ...cus2, customer: null, channel: 'excel', orders: 1, quantity: 2, gross: 2000, net: 2000 },
      ]);
    });

    it('as a workbook with the same figures, in both languages', async () => {
      const json = await get(`/api/reports/settlement?from=${from}&to=${today()}&language=zh-CN`);
      for (const language of ['en', 'zh-CN'] as const) {
        const rows = await workbookRows(
          await download(`/api/reports/settlement.xlsx?from=${from}&to=${today()}&language=${language}`),
        );
        expect(String(rows[0]![0])).toContain(language === 'en' ? 'Settlement report' : '结算统计报表');
        const headers = rows[1];
        expect(headers).toEqual(
          language === 'en'
            ? (await get(`/api/reports/settlement?from=${from}&to=${today()}`)).columns.map(
                (c: any) => c.header,
              )
            : json.columns.map((c: any) => c.header),
        );
        expect(headers).toContain(language === 'en' ? 'Outstanding' : '未结金额');
        const data = rows.slice(2, 4);
        expect(data).toEqual(
          json.items.map((r: any) => [
            r.customer.code,
            r.customer.name,
            r.currency,
            r.orders,
            r.quantity,
            r.gross / 100,
            r.discounts / 100,
            r.tax / 100,
            r.shipping / 100,
            r.net / 100,
            r.invoices,
            r.invoiced / 100,
            r.credited / 100,
            r.paid / 100,
            r.outstanding / 100,
          ]),
        );
        const total = rows.at(-1)!;
        expect(total[0]).toBe(language === 'en' ? 'Total' : '合计');
        expect(total.slice(2)).toEqual(['EUR', 4, 28, 336, 3, 13.7, 5, 351.7, 3, 211.7, 9, 155.7, 47]);
      }
      const byQuery = await workbookRows(
        await download(`/api/reports/settlement?from=${from}&to=${today()}&format=xlsx`),
      );
      expect(byQuery[2]![0]).toBe('CUS1');
    });

    it('refuses a bad range, cursor or grouping', async () => {
      for (const q of [
        'from=2026-12-02&to=2026-12-01',
        'from=2026-02-30',
        'by=sku',
        'cursor=abc',
        'language=fr',
      ]) {
        const res = await stack.api('GET', `/api/reports/settlement?${q}`);
        expect(res.status, q).toBe(400);
        expect(res.body.error.code).toBe('invalid_parameter');
      }
    });
  });

  describe('sales analysis', () => {
    const from = '2026-10-01';
    const thisMonth = today().slice(0, 7);
    const a1 = { code: 'A1', name: 'SKU A1' };
    const b2 = { code: 'B2', name: 'SKU B2' };
    const row = (month: string, extra: Record<string, unknown>) => ({
      month,
      sku: null,
      customer: null,
      salesperson: null,
      channel: null,
      currency: 'EUR',
      ...extra,
    });

    it('per SKU and month, paged', async () => {
      const { items, pages } = await allItems(`/api/reports/sales?from=${from}&to=${today()}&by=sku`, 2);
      expect(pages).toBe(2);
      expect(items).toEqual([
        // R-4: 4 at 9.00, one returned.
        row('2026-10', {
          sku: a1,
          orders: 1,
          lines: 1,
          quantity: 4,
          shipped: 4,
          returned: 1,
          gross: 3600,
          discounts: 0,
          net: 3600,
          tax: 0,
        }),
        // R-1's A1 line.
        row('2026-11', {
          sku: a1,
          orders: 1,
          lines: 1,
          quantity: 10,
          shipped: 10,
          returned: 0,
          gross: 10000,
          discounts: 200,
          net: 9800,
          tax: 980,
        }),
        // R-1's and R-3's B2 lines.
        row('2026-11', {
          sku: b2,
          orders: 2,
          lines: 2,
          quantity: 12,
          shipped: 2,
          returned: 0,
          gross: 18000,
          discounts: 0,
          net: 18000,
          tax: 390,
        }),
        // R-5, today.
        row(thisMonth, {
          sku: a1,
          orders: 1,
          lines: 1,
          quantity: 2,
          shipped: 0,
          returned: 0,
          gross: 2000,
          discounts: 0,
          net: 2000,
          tax: 0,
        }),
      ]);
    });

    it('per salesperson, customer and channel', async () => {
      const sp = (await get(`/api/reports/sales?from=${from}&to=${today()}&by=salesperson`)).items;
      expect(sp.map((r: any) => [r.month, r.salesperson?.code ?? null, r.quantity, r.net])).toEqual([
        ['2026-10', 'SP1', 4, 3600],
        ['2026-11', null, 10, 15000],
        ['2026-11', 'SP1', 12, 12800],
        [thisMonth, null, 2, 2000],
      ]);
      const customers = (await get(`/api/reports/sales?from=${from}&to=${today()}&by=customer`)).items;
      expect(customers.map((r: any) => [r.month, r.customer.code, r.orders, r.gross])).toEqual([
        ['2026-10', 'CUS1', 1, 3600],
        ['2026-11', 'CUS1', 1, 13000],
        ['2026-11', 'CUS2', 1, 15000],
        [thisMonth, 'CUS2', 1, 2000],
      ]);
      const channels = (await get(`/api/reports/sales?from=${from}&to=${today()}&by=channel`)).items;
      expect(channels.map((r: any) => [r.month, r.channel, r.lines, r.gross])).toEqual([
        ['2026-10', 'api', 1, 3600],
        ['2026-11', 'api', 3, 28000],
        [thisMonth, 'excel', 1, 2000],
      ]);
    });

    it('as a workbook with the same figures', async () => {
      const json = await get(`/api/reports/sales?from=${from}&to=${today()}&by=sku&language=zh-CN`);
      const rows = await workbookRows(
        await download(`/api/reports/sales.xlsx?from=${from}&to=${today()}&by=sku&language=zh-CN`),
      );
      expect(rows[1]).toEqual(json.columns.map((c: any) => c.header));
      expect(rows[1]).toEqual(expect.arrayContaining(['月份', '货号', '订购数量', '净额']));
      expect(rows.slice(2, 6)).toEqual(
        json.items.map((r: any) => [
          r.month,
          r.sku.code,
          r.sku.name,
          r.currency,
          r.orders,
          r.lines,
          r.quantity,
          r.shipped,
          r.returned,
          r.gross / 100,
          r.discounts / 100,
          r.net / 100,
          r.tax / 100,
        ]),
      );
      expect(rows.at(-1)).toEqual(['合计', null, null, 'EUR', null, 5, 28, 16, 1, 336, 2, 334, 13.7]);
      // Asked for by the Accept header, on the JSON route: the same workbook.
      const accepted = await stack.app.request(
        `/api/reports/sales?from=${from}&to=${today()}&by=sku&language=zh-CN`,
        {
          headers: {
            authorization: `Bearer ${ADMIN_TOKEN}`,
            accept: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
          },
        },
      );
      expect(accepted.headers.get('content-disposition')).toContain('sales-sku-2026-10-01');
      expect(await workbookRows(accepted)).toEqual(rows);
    });
  });

  describe('execution', () => {
    const from = '2026-10-01';

    it('per order line: ordered, reserved, shipped, invoiced, paid, the variance and why', async () => {
      const { items, pages } = await allItems(`/api/reports/execution?from=${from}&to=${today()}`, 4);
      expect(pages).toBe(2);
      const view = items.map((r: any) => [
        r.externalId,
        r.sku,
        r.ordered,
        r.reserved,
        r.backordered,
        r.shipped,
        r.cancelled,
        r.returned,
        r.invoiced,
        r.invoicedAmount,
        r.paid,
        r.variance,
        r.reasons,
      ]);
      expect(view).toEqual([
        ['CUS2:PO-9', 'A1', 2, 2, 0, 0, 0, 0, 0, 0, 0, 2, ['awaiting_shipment']],
        ['R-4', 'A1', 4, 0, 0, 4, 0, 1, 3, 2700, 0, 0, ['returned', 'unpaid']],
        ['R-3', 'B2', 10, 8, 2, 0, 0, 0, 0, 0, 0, 10, ['backordered', 'awaiting_shipment']],
        ['R-2', 'A1', 5, 0, 0, 3, 2, 0, 3, 3000, 0, 2, ['short_shipped', 'unpaid']],
        ['R-1', 'B2', 2, 0, 0, 2, 0, 0, 2, 3000, 2, 0, []],
        ['R-1', 'A1', 10, 0, 0, 10, 0, 0, 10, 9800, 10, 0, []],
      ]);
      expect(items[1]).toMatchObject({
        customer: { code: 'CUS1', name: 'Hangzhou Trading' },
        salesperson: { code: 'SP1', name: 'Lin Tao' },
        contract: 'HT-1',
        channel: 'api',
        status: 'shipped',
        unitPrice: 900,
        placedAt: '2026-10-15T10:00:00.000Z',
      });
      expect(items[0]).toMatchObject({ channel: 'excel', customer: { code: 'CUS2' }, salesperson: null });
    });

    it('per customer, salesperson, contract and SKU', async () => {
      const lines = async (q: string) =>
        (await get(`/api/reports/execution?from=${from}&to=${today()}&${q}`)).items.map(
          (r: any) => `${r.externalId}/${r.sku}`,
        );
      expect(await lines('customer=cus1')).toEqual(['R-4/A1', 'R-2/A1', 'R-1/B2', 'R-1/A1']);
      expect(await lines('salesperson=SP1')).toEqual(['R-4/A1', 'R-2/A1', 'R-1/B2', 'R-1/A1']);
      expect(await lines('contract=HT-1')).toEqual(['R-4/A1']);
      expect(await lines('sku=B2')).toEqual(['R-3/B2', 'R-1/B2']);
      expect(await lines('customer=CUS2&sku=B2')).toEqual(['R-3/B2']);
      expect(await lines('customer=NOBODY')).toEqual([]);
    });

    it('added up per customer, salesperson, contract or SKU', async () => {
      const none = {
        on_hold: 0,
        not_processed: 0,
        backordered: 0,
        awaiting_shipment: 0,
        cancelled: 0,
        short_shipped: 0,
        returned: 0,
        not_invoiced: 0,
        unpaid: 0,
      };
      const { items, pages } = await allItems(
        `/api/reports/execution?from=${from}&to=${today()}&by=customer`,
        1,
      );
      expect(pages).toBe(2);
      expect(items).toEqual([
        {
          code: 'CUS1',
          name: 'Hangzhou Trading',
          currency: 'EUR',
          lines: 4,
          ordered: 21,
          reserved: 0,
          backordered: 0,
          shipped: 19,
          cancelled: 2,
          returned: 1,
          invoiced: 18,
          invoicedAmount: 18500,
          paid: 12,
          variance: 2,
          reasons: { ...none, returned: 1, unpaid: 2, short_shipped: 1 },
        },
        {
          code: 'CUS2',
          name: 'Ningbo Retail',
          currency: 'EUR',
          lines: 2,
          ordered: 12,
          reserved: 10,
          backordered: 2,
          shipped: 0,
          cancelled: 0,
          returned: 0,
          invoiced: 0,
          invoicedAmount: 0,
          paid: 0,
          variance: 12,
          reasons: { ...none, awaiting_shipment: 2, backordered: 1 },
        },
      ]);
      const contracts = (await get(`/api/reports/execution?from=${from}&to=${today()}&by=contract`)).items;
      expect(contracts.map((r: any) => [r.code, r.lines, r.ordered, r.shipped])).toEqual([
        [null, 5, 29, 15],
        ['HT-1', 1, 4, 4],
      ]);
      const skus = (await get(`/api/reports/execution?from=${from}&to=${today()}&by=sku&customer=CUS1`))
        .items;
      expect(skus.map((r: any) => [r.code, r.lines, r.ordered, r.variance])).toEqual([
        ['A1', 3, 19, 2],
        ['B2', 1, 2, 0],
      ]);
      const json = await get(
        `/api/reports/execution?from=${from}&to=${today()}&by=salesperson&language=zh-CN`,
      );
      expect(json.items.map((r: any) => r.code)).toEqual([null, 'SP1']);
      const rows = await workbookRows(
        await download(
          `/api/reports/execution.xlsx?from=${from}&to=${today()}&by=salesperson&language=zh-CN`,
        ),
      );
      expect(rows[1]).toEqual(json.columns.map((c: any) => c.header));
      expect(rows[1]).toEqual(expect.arrayContaining(['业务员', '短发行数', '未回款行数']));
      const col = (key: string) => json.columns.findIndex((c: any) => c.key === key);
      const data = rows.slice(2, 4);
      for (const key of ['lines', 'ordered', 'shipped', 'invoiced', 'paid', 'variance'])
        expect(
          data.map((r) => r[col(key)]),
          key,
        ).toEqual(json.items.map((r: any) => r[key]));
      expect(data.map((r) => r[col('reasons.unpaid')])).toEqual(json.items.map((r: any) => r.reasons.unpaid));
      expect(data.map((r) => r[col('invoicedAmount')])).toEqual(
        json.items.map((r: any) => r.invoicedAmount / 100),
      );
      expect(rows.at(-1)![col('ordered')]).toBe(33);
    });

    it('as a workbook with the same figures, in both languages', async () => {
      for (const language of ['en', 'zh-CN'] as const) {
        const json = await get(`/api/reports/execution?from=${from}&to=${today()}&language=${language}`);
        const rows = await workbookRows(
          await download(`/api/reports/execution.xlsx?from=${from}&to=${today()}&language=${language}`),
        );
        expect(rows[1]).toEqual(json.columns.map((c: any) => c.header));
        expect(rows[1]).toContain(language === 'en' ? 'Variance (not shipped)' : '偏差（未发货）');
        const data = rows.slice(2, 8);
        const col = (key: string) => json.columns.findIndex((c: any) => c.key === key);
        expect(data.map((r) => r[col('orderId')])).toEqual(json.items.map((r: any) => r.orderId));
        for (const key of [
          'ordered',
          'reserved',
          'backordered',
          'shipped',
          'cancelled',
          'returned',
          'invoiced',
          'paid',
          'variance',
        ])
          expect(
            data.map((r) => r[col(key)]),
            key,
          ).toEqual(json.items.map((r: any) => r[key]));
        expect(data.map((r) => r[col('invoicedAmount')])).toEqual(
          json.items.map((r: any) => r.invoicedAmount / 100),
        );
        expect(data[3]![col('reasons')]).toBe(language === 'en' ? 'short-shipped, unpaid' : '短发、未回款');
        const total = rows.at(-1)!;
        expect(total[0]).toBe(language === 'en' ? 'Total' : '合计');
        expect(total[col('ordered')]).toBe(33);
        expect(total[col('invoicedAmount')]).toBe(185);
        expect(total[col('variance')]).toBe(14);
      }
    });
  });

  describe('slow movers', () => {
    it('per SKU and warehouse: cover at 30 and 90 days, last shipment, value at cost', async () => {
      const { items, pages } = await allItems('/api/reports/slow-movers?days=30&all=true', 2);
      expect(pages).toBe(2);
      const shippedToday = expect.stringMatching(new RegExp(`^${today()}T`));
      expect(items).toEqual([
        {
          sku: 'A1',
          name: 'SKU A1',
          warehouse: 'main',
          // 100 − 10 − 3 − 4 + 1 returned; R-5's 2 reserved.
          onHand: 84,
          reserved: 2,
          sold30: 17,
          sold90: 17,
          coverDays30: 148,
          coverDays90: 444,
          lastShippedAt: shippedToday,
          lastMovedAt: expect.any(String),
          daysSinceShipped: 0,
          unitCost: 600,
          costCurrency: 'EUR',
          valueAtCost: 50400,
          flags: ['overstock'],
        },
        {
          sku: 'B2',
          name: 'SKU B2',
          warehouse: 'main',
          onHand: 8,
          reserved: 8,
          sold30: 2,
          sold90: 2,
          coverDays30: 120,
          coverDays90: 360,
          lastShippedAt: shippedToday,
          lastMovedAt: expect.any(String),
          daysSinceShipped: 0,
          unitCost: null,
          costCurrency: null,
          valueAtCost: null,
          flags: ['overstock'],
        },
        {
          sku: 'C3',
          name: 'SKU C3',
          warehouse: 'main',
          onHand: 40,
          reserved: 0,
          sold30: 0,
          sold90: 0,
          coverDays30: null,
          coverDays90: null,
          lastShippedAt: null,
          lastMovedAt: expect.stringMatching(new RegExp(`^${today()}T`)),
          daysSinceShipped: null,
          unitCost: 250,
          costCurrency: 'EUR',
          valueAtCost: 10000,
          flags: ['not_moved', 'overstock'],
        },
      ]);
      // Only what is flagged: with more than 500 days of cover counted as overstock, C3 alone.
      const flagged = await get('/api/reports/slow-movers?days=30&coverDays=500');
      expect(flagged.items.map((r: any) => r.sku)).toEqual(['C3']);
      // Yesterday nothing was on hand yet: every receipt is today's.
      const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
      expect((await get(`/api/reports/slow-movers?all=true&asOf=${yesterday}`)).items).toEqual([]);
    });

    it('pages the same however many stock rows a round trip reads', async () => {
      const p = slowMoverParams({ days: 30, coverDays: 500, all: false }, 'UTC');
      // One stock row a round trip: A1 and B2 are read and passed over, C3 is listed.
      expect(await slowMoversPage(stack.db, p, null, 1, 1)).toMatchObject({
        items: [{ sku: 'C3' }],
        next: null,
      });
      const all = { ...p, all: true };
      const first = await slowMoversPage(stack.db, all, null, 2, 1);
      expect(first.items.map((r) => r.sku)).toEqual(['A1', 'B2']);
      const second = await slowMoversPage(stack.db, all, first.next, 2, 1);
      expect(second).toMatchObject({ items: [{ sku: 'C3' }], next: null });
    });

    it('as a workbook with the same figures', async () => {
      const json = await get('/api/reports/slow-movers?days=30&all=true&language=zh-CN');
      const rows = await workbookRows(
        await download('/api/reports/slow-movers.xlsx?days=30&all=true&language=zh-CN'),
      );
      expect(rows[1]).toEqual(json.columns.map((c: any) => c.header));
      expect(rows[1]).toEqual(expect.arrayContaining(['货号', '仓库', '可售天数（30天）', '成本金额']));
      const col = (key: string) => json.columns.findIndex((c: any) => c.key === key);
      const data = rows.slice(2, 5);
      for (const key of ['sku', 'warehouse', 'onHand', 'sold30', 'sold90', 'coverDays30', 'coverDays90'])
        expect(
          data.map((r) => r[col(key)]),
          key,
        ).toEqual(json.items.map((r: any) => r[key]));
      expect(data.map((r) => r[col('valueAtCost')])).toEqual([504, null, 100]);
      expect(data[2]![col('flags')]).toBe('呆滞、积压');
      // Totals per cost currency: EUR (A1 and C3), and the rows without a cost.
      const totals = rows.slice(-2);
      expect(totals.map((r) => [r[0], r[col('onHand')], r[col('valueAtCost')] ?? null])).toEqual([
        ['合计', 124, 604],
        ['合计', 8, null],
      ]);
    });
  });

  it('the monthly job writes every report of the month, in both languages, as the API answers', async () => {
    const job = SCHEDULED_JOBS.find((j) => j.name === 'reports');
    expect(job).toMatchObject({ period: 'month' });
    const ctx = jobContext(stack.db, {
      period: '2026-11',
      periodStart: new Date('2026-11-01T00:00:00Z'),
      periodEnd: new Date('2026-12-01T00:00:00Z'),
    });
    try {
      const result = await job!.run(ctx);
      expect(result.counts).toEqual({ files: 16 });
      expect(result.files).toEqual(
        expect.arrayContaining([
          'settlement-customer-2026-11.zh-CN.xlsx',
          'settlement-customer-2026-11.en.xlsx',
          'execution-2026-11.en.xlsx',
          'slow-movers-2026-11.zh-CN.xlsx',
        ]),
      );
      const json = await get('/api/reports/settlement?from=2026-11-01&to=2026-11-30&language=zh-CN');
      const file = new Response(
        readFileSync(path.join(ctx.outputDir, 'settlement-customer-2026-11.zh-CN.xlsx')),
        {
          headers: { 'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
        },
      );
      const rows = await workbookRows(file);
      expect(rows[1]).toEqual(json.columns.map((c: any) => c.header));
      expect(rows.slice(2, 4).map((r) => [r[0], r[3], r[4], r[9]])).toEqual(
        json.items.map((r: any) => [r.customer.code, r.orders, r.quantity, r.net / 100]),
      );
      const execution = await get('/api/reports/execution?from=2026-11-01&to=2026-11-30');
      const lines = await workbookRows(
        new Response(readFileSync(path.join(ctx.outputDir, 'execution-2026-11.en.xlsx')), {
          headers: { 'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
        }),
      );
      // R-3, R-2 and R-1's two lines, then the blank row and the totals.
      expect(lines).toHaveLength(2 + execution.items.length + 2);
      expect(execution.items).toHaveLength(4);
    } finally {
      rmSync(ctx.outputDir, { recursive: true, force: true });
    }
  });

  it('needs the admin token, and the world still holds every invariant', async () => {
    expect((await stack.api('GET', '/api/reports/settlement', undefined, { token: null })).status).toBe(401);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });
});
