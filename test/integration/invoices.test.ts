import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCreditNote } from '../../src/billing/credit-notes.js';
import { DOCUMENT_LABELS, type LabelKey } from '../../src/billing/documents.js';
import { pollIssuer, submitInvoices } from '../../src/billing/einvoicing.js';
import { issueDueInvoices } from '../../src/billing/invoicing-run.js';
import { type InvoiceDraft, postInvoices } from '../../src/billing/posting.js';
import type { Db } from '../../src/db/connection.js';
import { withTransaction } from '../../src/db/retry.js';
import { FakeEinvoiceProvider } from '../helpers/fake-einvoice.js';
import { block, waitForLockWaits } from '../helpers/interleave.js';
import { checkInvariants } from '../helpers/invariants.js';
import { createStack, seedCatalog, silentLog, type TestStack } from '../helpers/stack.js';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const today = () => new Date().toISOString().slice(0, 10);

/** A bare draft (no lines, nothing covered) issued in `year`, for numbering tests. */
const bareDraft = (year: number): InvoiceDraft => ({
  type: 'invoice',
  policy: 'on_shipment',
  billTo: { id: null, code: null, name: 'Numbering', taxId: null, billingAddress: null, language: 'en' },
  seller: {
    code: null,
    name: '',
    nameZh: null,
    taxId: null,
    address: null,
    phone: null,
    email: null,
    bankAccount: null,
  },
  orderId: null,
  period: null,
  creditsInvoiceId: null,
  reason: null,
  currency: 'EUR',
  pricesIncludeTax: false,
  issueDate: `${year}-06-30`,
  dueDate: `${year}-06-30`,
  totals: { subtotal: 0, discount: 0, shipping: 0, shippingTax: 0, tax: 0, total: 0 },
  lines: [],
  sources: [],
});

async function numbersOf(db: Db, year: number): Promise<number[]> {
  const rows = await db('invoices').where({ series: 'INV', year }).select('seq').orderBy('seq');
  return rows.map((r) => Number(r.seq));
}

/** The rows of a workbook as arrays of cell values (1-based columns as 0-based). */
async function sheetRows(data: Buffer | string): Promise<unknown[][]> {
  const wb = new ExcelJS.Workbook();
  if (typeof data === 'string') await wb.xlsx.readFile(data);
  else await wb.xlsx.load(data as unknown as ArrayBuffer);
  const ws = wb.worksheets[0]!;
  const out: unknown[][] = [];
  ws.eachRow((row) => {
    out.push((row.values as unknown[]).slice(1));
  });
  return out;
}
const valueAfter = (rows: unknown[][], label: string) => rows.find((r) => r[0] === label)?.[1];
const totalOf = (rows: unknown[][], label: string) => rows.find((r) => r[7] === label)?.[8];

describe('numbering (MariaDB)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createStack({ poolMax: 60 });
  });
  afterAll(async () => stack?.close());

  it('gives 50 concurrent postings the numbers 1..50, no gap, no repeat', async () => {
    // The 50 queue up behind a transaction holding the sequence row, then all go at once.
    await stack.db('invoice_sequences').insert({ series: 'INV', year: 2031, last_number: 0 });
    const blocker = await block(
      stack.db,
      "SELECT last_number FROM invoice_sequences WHERE series = 'INV' AND year = 2031 FOR UPDATE",
    );
    const postings = Array.from({ length: 50 }, () =>
      withTransaction(stack.db, (tx) => postInvoices(tx, [bareDraft(2031)])),
    );
    let failed: string | null = null;
    for (const p of postings) p.catch((err) => (failed = String(err)));
    await waitForLockWaits(stack.db, 50, { table: 'invoice_sequences', settled: () => failed });
    await blocker.commit();
    const posted = await Promise.all(postings);
    const numbers = posted.map((p) => p[0]!.number).sort();
    expect(numbers).toEqual(
      Array.from({ length: 50 }, (_, i) => `INV-2031-${String(i + 1).padStart(6, '0')}`),
    );
    expect(await numbersOf(stack.db, 2031)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('a posting that rolls back after taking its number consumes none', async () => {
    await expect(
      withTransaction(stack.db, (tx) =>
        postInvoices(tx, [bareDraft(2032), bareDraft(2032)], {
          afterNumbering: (numbers) => {
            expect(numbers).toEqual(['INV-2032-000001', 'INV-2032-000002']);
            throw new Error('forced failure after numbering');
          },
        }),
      ),
    ).rejects.toThrow('forced failure after numbering');
    expect(await numbersOf(stack.db, 2032)).toEqual([]);
    const [next] = await withTransaction(stack.db, (tx) => postInvoices(tx, [bareDraft(2032)]));
    expect(next!.number).toBe('INV-2032-000001');
    expect(await checkInvariants(stack.db)).toEqual([]);
  });
});

describe('numbering (embedded SQLite)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createStack({ sqlite: true });
  });
  afterAll(async () => stack?.close());

  it('numbers concurrent postings 1..n and a rolled-back posting consumes none', async () => {
    await Promise.all(
      Array.from({ length: 20 }, () =>
        withTransaction(stack.db, (tx) => postInvoices(tx, [bareDraft(2031)])),
      ),
    );
    await expect(
      withTransaction(stack.db, (tx) =>
        postInvoices(tx, [bareDraft(2031)], {
          afterNumbering: () => {
            throw new Error('forced');
          },
        }),
      ),
    ).rejects.toThrow('forced');
    const [after] = await withTransaction(stack.db, (tx) => postInvoices(tx, [bareDraft(2031)]));
    expect(after!.number).toBe('INV-2031-000021');
    expect(await numbersOf(stack.db, 2031)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('runs the invoicing of a shipment on SQLite', async () => {
    await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['S1']);
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: 'r1',
      lines: [{ sku: 'S1', quantity: 10 }],
    });
    stack.startWorker(2);
    const placed = await stack.api('POST', '/api/orders', {
      externalId: 'SQ-1',
      currency: 'EUR',
      lines: [{ sku: 'S1', quantity: 2, unitPrice: 1000 }],
    });
    await stack.settle();
    const ship = await stack.api('POST', `/api/orders/${placed.body.id}/shipments`);
    expect(ship.status).toBe(201);
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-inv-'));
    try {
      const run = await issueDueInvoices(stack.db, {
        period: today(),
        timeZone: 'UTC',
        outputDir: dir,
        log: silentLog,
      });
      expect(run.counts).toEqual({ invoices: 1, shipments: 1, lines: 1 });
      const again = await issueDueInvoices(stack.db, {
        period: today(),
        timeZone: 'UTC',
        outputDir: dir,
        log: silentLog,
      });
      expect(again.counts.invoices).toBe(0);
      expect(await checkInvariants(stack.db)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('invoices through the HTTP app (MariaDB)', () => {
  let stack: TestStack;
  let dir: string;
  const run = (period: string, extra: Partial<Parameters<typeof issueDueInvoices>[1]> = {}) =>
    issueDueInvoices(stack.db, {
      period,
      timeZone: 'UTC',
      outputDir: path.join(dir, period),
      log: silentLog,
      ...extra,
    });

  async function placeOrder(
    externalId: string,
    customer: string,
    lines: { sku: string; quantity: number }[],
    extra = {},
  ) {
    const res = await stack.api('POST', '/api/orders', {
      externalId,
      currency: 'EUR',
      customer: { code: customer },
      lines: lines.map((l) => ({ ...l, unitPrice: 1000 })),
      ...extra,
    });
    expect(res.status).toBe(202);
    await stack.settle();
    return Number(res.body.id);
  }
  async function ship(orderId: number, lines?: { sku: string; quantity: number }[]) {
    const res = await stack.api('POST', `/api/orders/${orderId}/shipments`, lines ? { lines } : undefined);
    expect(res.status).toBe(201);
    return Number(res.body.shipmentId);
  }
  const invoicesOfShipment = async (shipmentId: number) =>
    stack.db('invoice_lines').where({ shipment_id: shipmentId }).countDistinct({ n: 'invoice_id' }).first();

  beforeAll(async () => {
    stack = await createStack();
    dir = mkdtempSync(path.join(tmpdir(), 'sb-invoices-'));
    await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['A1', 'B2']);
    await stack.api('PUT', '/api/tax-rates/default/standard', { rateBasisPoints: 600 });
    expect(
      (await stack.api('PUT', '/api/tax-classes/standard/code', { code: '1090511990000000000' })).status,
    ).toBe(200);
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: 'opening',
      lines: [
        { sku: 'A1', quantity: 10_000 },
        { sku: 'B2', quantity: 10_000 },
      ],
    });
    await stack.db('companies').insert([
      {
        code: 'SB-CN',
        name: 'Stockbridge Trading (Hangzhou) Co., Ltd.',
        name_zh: '杭州仓桥贸易有限公司',
        tax_id: '91330100MA2B3C4D5E',
        address: '杭州市文三路 100 号',
        currency: 'CNY',
        created_at: '2026-01-01 00:00:00.000',
        updated_at: '2026-01-01 00:00:00.000',
      },
      {
        code: 'SB-EU',
        name: 'Stockbridge Europe B.V.',
        tax_id: 'NL123456789B01',
        address: 'Keizersgracht 1, Amsterdam',
        currency: 'EUR',
        created_at: '2026-01-01 00:00:00.000',
        updated_at: '2026-01-01 00:00:00.000',
      },
    ]);
    const customers: [string, Record<string, unknown>][] = [
      ['SHIP1', { name: 'Ship Co', language: 'en', company: 'SB-EU', paymentTermsDays: 30, taxId: 'NL999' }],
      [
        'MONTH1',
        {
          name: '杭州月结客户',
          language: 'zh-CN',
          company: 'SB-CN',
          invoicePolicy: 'periodic',
          taxId: '91330100AAAA',
        },
      ],
      ['ORDER1', { name: 'Prepay Ltd', language: 'en', invoicePolicy: 'on_order', paymentTermsDays: 7 }],
    ];
    for (const [code, body] of customers)
      expect((await stack.api('PUT', `/api/customers/${code}`, body)).status).toBe(201);
    stack.startWorker(4);
  });
  afterAll(async () => {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the invoice policy on the customer record', async () => {
    expect((await stack.api('GET', '/api/customers/MONTH1')).body.invoicePolicy).toBe('periodic');
    expect((await stack.api('GET', '/api/customers/SHIP1')).body.invoicePolicy).toBe('on_shipment');
    const bad = await stack.api('PUT', '/api/customers/BAD1', { name: 'x', invoicePolicy: 'weekly' });
    expect(bad.status).toBe(422);
    expect((await stack.api('GET', '/api/customers/BAD1')).status).toBe(404);
  });

  it('invoices each shipment once, whether the run runs twice or two run at once; shipping on the first', async () => {
    const a = await placeOrder(
      'S-1',
      'SHIP1',
      [
        { sku: 'A1', quantity: 3 },
        { sku: 'B2', quantity: 1 },
      ],
      { shipping: 500 },
    );
    const b = await placeOrder('S-2', 'SHIP1', [{ sku: 'A1', quantity: 1 }]);
    const s1 = await ship(a, [{ sku: 'A1', quantity: 1 }]);
    const s2 = await ship(a);
    const s3 = await ship(b);
    const [r1, r2] = await Promise.all([run(today()), run(today())]);
    const r3 = await run(today());
    expect(r1.counts.shipments + r2.counts.shipments + r3.counts.shipments).toBe(3);
    expect(r3.counts.invoices).toBe(0);
    for (const s of [s1, s2, s3]) expect(Number((await invoicesOfShipment(s))?.n)).toBe(1);

    // The two invoices of order a add up to its total; the first carries the shipping.
    const list = await stack.api('GET', `/api/invoices?customer=SHIP1&from=${today()}&to=${today()}`);
    expect(list.status).toBe(200);
    const ofA = list.body.items.filter((i: { orderId: number }) => i.orderId === a).reverse();
    expect(ofA).toHaveLength(2);
    expect(ofA[0].shipping).toBe(500);
    expect(ofA[1].shipping).toBe(0);
    const order = (await stack.api('GET', `/api/orders/${a}`)).body;
    const total = order.total ?? order.money?.total;
    expect(ofA[0].total + ofA[1].total).toBe(total);
    expect(ofA[0].dueDate > ofA[0].issueDate).toBe(true);
    expect(ofA[0].company.name).toBe('Stockbridge Europe B.V.');
    expect(ofA[0].einvoice).toMatchObject({ issuer: 'local', status: 'issued' });

    const one = await stack.api('GET', `/api/invoices/${ofA[0].number}`);
    expect(one.body.lines[0]).toMatchObject({
      sku: 'A1',
      quantity: 1,
      unitPrice: 1000,
      tax: 60,
      taxCode: '1090511990000000000',
    });
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('two daemons waiting on the same order invoice its shipment once', async () => {
    const o = await placeOrder('S-3', 'SHIP1', [{ sku: 'B2', quantity: 2 }]);
    const s = await ship(o);
    // Both runs find the shipment, then queue behind a transaction holding its order.
    const blocker = await block(stack.db, 'SELECT id FROM orders WHERE id = ? FOR UPDATE', [o]);
    const runs = [run(today()), run(today())];
    let failed: string | null = null;
    for (const r of runs) r.catch((err) => (failed = String(err)));
    await waitForLockWaits(stack.db, 2, { table: 'orders', settled: () => failed });
    await blocker.commit();
    const [r1, r2] = await Promise.all(runs);
    expect(r1!.counts.shipments + r2!.counts.shipments).toBe(1);
    expect(Number((await invoicesOfShipment(s))?.n)).toBe(1);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('writes the document in English, read back cell by cell', async () => {
    const list = await stack.api('GET', '/api/invoices?customer=SHIP1&limit=1');
    const inv = list.body.items[0];
    const res = await stack.app.request(`/api/invoices/${inv.number}?format=xlsx`, {
      headers: { authorization: 'Bearer test-admin-token-0123456789' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(XLSX);
    const rows = await sheetRows(Buffer.from(await res.arrayBuffer()));
    expect(rows[0]![0]).toBe('Stockbridge Europe B.V.');
    expect(rows.some((r) => r[0] === 'Invoice')).toBe(true);
    expect(valueAfter(rows, 'Number')).toBe(inv.number);
    expect(valueAfter(rows, 'Due date')).toBe(inv.dueDate);
    expect(valueAfter(rows, 'Name')).toBe('Ship Co');
    expect(rows.some((r) => r[1] === 'SKU' && r[3] === 'Tax classification code')).toBe(true);
    expect(totalOf(rows, 'Total')).toBe(inv.total / 100);
    // The run wrote the same document into its folder.
    const file = await sheetRows(path.join(dir, today(), `${inv.number}.xlsx`));
    expect(file).toEqual(rows);
  });

  it('a periodic customer gets one invoice for the month, in Chinese, on the last day of the month', async () => {
    const o1 = await placeOrder('M-1', 'MONTH1', [{ sku: 'A1', quantity: 2 }]);
    const o2 = await placeOrder('M-2', 'MONTH1', [{ sku: 'B2', quantity: 5 }]);
    const o3 = await placeOrder('M-3', 'MONTH1', [{ sku: 'A1', quantity: 1 }]);
    const [s1, s2, s3] = [await ship(o1), await ship(o2), await ship(o3)];
    // Two shipments in October, one in November.
    await stack.db('shipments').whereIn('id', [s1, s2]).update({ created_at: '2026-10-12 08:00:00.000' });
    await stack.db('shipments').where({ id: s3 }).update({ created_at: '2026-11-03 08:00:00.000' });
    expect((await run('2026-10-30')).counts.invoices).toBe(0);
    const october = await run('2026-10-31');
    expect(october.counts).toEqual({ invoices: 1, shipments: 2, lines: 2 });
    const again = await run('2026-10-31');
    expect(again.counts.invoices).toBe(0);
    const november = await run('2026-11-30');
    expect(november.counts).toEqual({ invoices: 1, shipments: 1, lines: 1 });

    const list = (await stack.api('GET', '/api/invoices?customer=MONTH1')).body.items;
    expect(list.map((i: { period: string }) => i.period)).toEqual(['2026-11', '2026-10']);
    const oct = (await stack.api('GET', `/api/invoices/${list[1].number}`)).body;
    expect(oct).toMatchObject({
      policy: 'periodic',
      issueDate: '2026-10-31',
      orderId: null,
      language: 'zh-CN',
    });
    expect(oct.lines.map((l: { sku: string; quantity: number }) => [l.sku, l.quantity])).toEqual([
      ['A1', 2],
      ['B2', 5],
    ]);
    const rows = await sheetRows(october.files[0]!);
    const zh = (k: LabelKey) => DOCUMENT_LABELS[k]['zh-CN'];
    expect(rows[0]![0]).toBe('杭州仓桥贸易有限公司');
    expect(valueAfter(rows, zh('taxId'))).toBe('91330100MA2B3C4D5E');
    expect(rows.some((r) => r[0] === zh('invoice'))).toBe(true);
    expect(valueAfter(rows, zh('number'))).toBe(oct.number);
    expect(valueAfter(rows, zh('period'))).toBe('2026-10');
    expect(valueAfter(rows, zh('name'))).toBe('杭州月结客户');
    expect(rows.some((r) => r[1] === zh('sku') && r[2] === zh('description'))).toBe(true);
    expect(totalOf(rows, zh('total'))).toBe(oct.total / 100);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('invoices an on_order customer once it is confirmed; a cancellation makes a credit note', async () => {
    const o = await placeOrder(
      'P-1',
      'ORDER1',
      [
        { sku: 'A1', quantity: 4 },
        { sku: 'B2', quantity: 2 },
      ],
      { shipping: 700 },
    );
    const first = await run(today());
    const mine = (await stack.api('GET', `/api/invoices?order=${o}`)).body.items;
    expect(mine).toHaveLength(1);
    expect(first.counts.invoices).toBeGreaterThanOrEqual(1);
    expect((await run(today())).counts.invoices).toBe(0);
    const inv = (await stack.api('GET', `/api/invoices/${mine[0].number}`)).body;
    expect(inv).toMatchObject({ policy: 'on_order', shipping: 700 });
    expect(inv.lines.map((l: { quantity: number }) => l.quantity)).toEqual([4, 2]);
    // Shipping its lines makes no second invoice.
    await ship(o, [{ sku: 'A1', quantity: 1 }]);
    expect((await run(today())).counts.invoices).toBe(0);

    const cancel = await stack.api('POST', `/api/orders/${o}/cancel`, {
      reason: 'customer changed their mind',
    });
    expect(cancel.status).toBe(200);
    const after = (await stack.api('GET', `/api/invoices/${inv.number}`)).body;
    expect(after.creditNotes).toHaveLength(1);
    const note = (await stack.api('GET', `/api/credit-notes/${after.creditNotes[0]}`)).body;
    expect(note).toMatchObject({
      type: 'credit_note',
      creditsInvoice: inv.number,
      reason: 'customer changed their mind',
    });
    expect(note.number).toMatch(/^CN-\d{4}-000001$/);
    // 3 of A1 and 2 of B2 never ship; the shipping stays (something shipped).
    expect(note.lines.map((l: { sku: string; quantity: number }) => [l.sku, l.quantity])).toEqual([
      ['A1', 3],
      ['B2', 2],
    ]);
    expect(note.shipping).toBe(0);
    // The invoice itself is as it was; only what is credited and open on it moved.
    const { credited, open, status, ...unchanged } = after;
    expect({ ...unchanged, creditNotes: [] }).toEqual({
      ...inv,
      creditNotes: [],
      credited: undefined,
      open: undefined,
      status: undefined,
    });
    expect({ credited, open, status }).toEqual({
      credited: note.total,
      open: inv.total - note.total,
      status: 'partly_paid',
    });
    expect((await stack.api('GET', `/api/invoices/${note.number}`)).status).toBe(404);
    expect(await checkInvariants(stack.db)).toEqual([]);
    // The next run writes the credit note's document.
    const next = await run(today());
    expect(next.files.map((f) => path.basename(f))).toContain(`${note.number}.xlsx`);
  });

  it('issues now for one shipment, credits part of it, and refuses bad requests without a change', async () => {
    const o = await placeOrder('N-1', 'SHIP1', [{ sku: 'A1', quantity: 5 }]);
    const s = await ship(o);
    const issued = await stack.api('POST', '/api/invoices', { shipment: s });
    expect(issued.status).toBe(201);
    expect(issued.body.document).toBe(`${issued.body.number}.xlsx`);
    expect((await stack.api('POST', '/api/invoices', { shipment: s })).status).toBe(409);
    expect((await stack.api('POST', '/api/invoices', { shipment: 999999 })).status).toBe(404);
    expect((await stack.api('POST', '/api/invoices', { order: o })).status).toBe(409);
    const count = async () => Number((await stack.db('invoices').count({ n: '*' }).first())?.n);
    const before = await count();
    const url = `/api/invoices/${issued.body.number}/credit-notes`;
    expect((await stack.api('POST', url, { lines: [{ sku: 'ZZ', quantity: 1 }], reason: 'x' })).status).toBe(
      422,
    );
    expect((await stack.api('POST', url, { lines: [{ sku: 'A1', quantity: 6 }], reason: 'x' })).status).toBe(
      422,
    );
    expect((await stack.api('POST', url, { lines: [{ sku: 'A1', quantity: 1 }] })).status).toBe(422);
    expect(await count()).toBe(before);
    const part = await stack.api('POST', url, { lines: [{ sku: 'A1', quantity: 2 }], reason: 'damaged' });
    expect(part.status).toBe(201);
    const rest = await stack.api('POST', url, { reason: 'all back' });
    expect(rest.status).toBe(201);
    expect(part.body.lines[0].quantity + rest.body.lines[0].quantity).toBe(5);
    expect(part.body.tax + rest.body.tax).toBe(issued.body.tax);
    expect(part.body.total + rest.body.total).toBe(issued.body.total);
    expect((await stack.api('POST', url, { reason: 'again' })).status).toBe(409);
    expect((await stack.api('GET', '/api/invoices/INV-1')).status).toBe(400);
    expect((await stack.api('GET', '/api/invoices/INV-2020-000001')).status).toBe(404);
    expect((await stack.api('GET', '/api/invoices?from=yesterday')).status).toBe(400);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('goes through a 数电票 provider: a duplicate serial makes no second invoice; a refused red letter leaves the credit note pending', async () => {
    const fake = new FakeEinvoiceProvider();
    const o = await placeOrder('E-1', 'SHIP1', [{ sku: 'B2', quantity: 3 }]);
    const s = await ship(o);
    await run(today(), { issuer: fake });
    const [line] = await stack.db('invoice_lines').where({ shipment_id: s }).select('invoice_id');
    const id = Number(line.invoice_id);
    const number = String((await stack.db('invoices').where({ id }).first('number')).number);
    let inv = (await stack.api('GET', `/api/invoices/${number}`)).body;
    expect(inv.einvoice).toMatchObject({
      issuer: 'fake-sdp',
      serial: `SB-${number}`,
      status: 'pending',
      platformNumber: null,
    });
    expect(fake.blue.get(`SB-${number}`)!.request.buyer.taxId).toBe('NL999');

    // The same serial again: the existing result, never a second invoice.
    fake.complete(`SB-${number}`);
    const issuedCount = fake.issuedNumbers.length;
    const again = await fake.issueBlue(fake.blue.get(`SB-${number}`)!.request);
    expect(again.status).toBe('issued');
    expect(fake.issuedNumbers.length).toBe(issuedCount);
    expect(await submitInvoices(stack.db, fake, [id])).toEqual({ issued: 0, pending: 0, failed: 0 });

    await pollIssuer(stack.db, fake);
    inv = (await stack.api('GET', `/api/invoices/${number}`)).body;
    expect(inv.einvoice.status).toBe('issued');
    expect(inv.einvoice.platformNumber).toMatch(/^\d{20}$/);
    expect(inv.number).toBe(number);

    // A red invoice the buyer refuses: the credit note stays pending with the reason.
    const refused = await issueCreditNote(stack.db, {
      invoiceNumber: number,
      lines: [{ sku: 'B2', quantity: 1 }],
      reason: 'price',
    });
    await submitInvoices(stack.db, fake, [refused.id]);
    let note = (await stack.api('GET', `/api/credit-notes/${refused.number}`)).body;
    expect(note.einvoice).toMatchObject({ status: 'pending', redLetterStatus: 'pending_confirmation' });
    expect(fake.red.get(`SB-${refused.number}`)!.request.originalPlatformNumber).toBe(
      inv.einvoice.platformNumber,
    );
    fake.refuse(`SB-${refused.number}`, '购买方不同意红字确认单 / buyer refused');
    await pollIssuer(stack.db, fake);
    note = (await stack.api('GET', `/api/credit-notes/${refused.number}`)).body;
    expect(note.einvoice).toMatchObject({
      status: 'pending',
      redLetterStatus: 'refused',
      message: '购买方不同意红字确认单 / buyer refused',
      platformNumber: null,
    });

    // One the buyer confirms: the red invoice is issued with its own platform number.
    const confirmed = await issueCreditNote(stack.db, {
      invoiceNumber: number,
      lines: [{ sku: 'B2', quantity: 1 }],
      reason: 'returned',
    });
    await submitInvoices(stack.db, fake, [confirmed.id]);
    fake.confirm(`SB-${confirmed.number}`);
    await pollIssuer(stack.db, fake);
    note = (await stack.api('GET', `/api/credit-notes/${confirmed.number}`)).body;
    expect(note.einvoice).toMatchObject({ status: 'issued', redLetterStatus: 'confirmed' });
    expect(note.einvoice.platformNumber).toMatch(/^\d{20}$/);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });
});
