import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueDueInvoices } from '../../src/billing/invoicing-run.js';
import { checkInvariants } from '../helpers/invariants.js';
import { createStack, seedCatalog, silentLog, type TestStack } from '../helpers/stack.js';

const today = () => new Date().toISOString().slice(0, 10);

/**
 * Units that came back before their shipment was invoiced are not invoiced (README "Returns
 * before invoicing"); a return after invoicing still makes a credit note. The invariants check
 * both ways: nothing billed beyond what shipped, and net of credit notes nothing beyond what was
 * kept.
 */
describe('returns before invoicing (MariaDB)', () => {
  let stack: TestStack;
  let dir: string;
  let seq = 0;
  const run = () =>
    issueDueInvoices(stack.db, {
      period: today(),
      timeZone: 'UTC',
      outputDir: path.join(dir, String(++seq)),
      log: silentLog,
    });

  async function placeOrder(customer: string, lines: { sku: string; quantity: number }[], extra = {}) {
    const res = await stack.api('POST', '/api/orders', {
      externalId: `R-${++seq}`,
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
  const giveBack = async (orderId: number, sku: string, quantity: number) => {
    const res = await stack.api('POST', `/api/orders/${orderId}/returns`, {
      lines: [{ sku, quantity }],
      restock: true,
    });
    expect(res.status).toBe(201);
    return res.body as { creditNotes: string[] };
  };
  /** Units of `sku` per shipment on invoices, and on credit notes, of an order. */
  const billed = async (orderId: number) => {
    const lines = await stack
      .db('invoice_lines as il')
      .join('invoices as i', 'i.id', 'il.invoice_id')
      .where('il.order_id', orderId)
      .select('i.type', 'il.shipment_id', 'il.sku', 'il.quantity')
      .orderBy('il.id');
    return lines.map((l) => [
      l.type,
      l.shipment_id === null ? null : Number(l.shipment_id),
      l.sku,
      l.quantity,
    ]);
  };

  beforeAll(async () => {
    stack = await createStack();
    dir = mkdtempSync(path.join(tmpdir(), 'sb-invoice-returns-'));
    await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['CUP', 'PLATE']);
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: 'opening',
      lines: [
        { sku: 'CUP', quantity: 1000 },
        { sku: 'PLATE', quantity: 1000 },
      ],
    });
    for (const [code, body] of [
      ['SHIP1', { name: 'Ship Co', language: 'en' }],
      ['ORDER1', { name: 'Prepay Ltd', language: 'en', invoicePolicy: 'on_order' }],
    ] as const)
      expect((await stack.api('PUT', `/api/customers/${code}`, body)).status).toBe(201);
    stack.startWorker(2);
  });
  afterAll(async () => {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes units returned before invoicing off the latest shipment first, and invoices the rest once', async () => {
    const o = await placeOrder('SHIP1', [
      { sku: 'CUP', quantity: 5 },
      { sku: 'PLATE', quantity: 2 },
    ]);
    const s1 = await ship(o, [{ sku: 'CUP', quantity: 2 }]);
    const s2 = await ship(o);
    // Two cups come back before any invoice: the second shipment's 3 cups absorb them.
    expect((await giveBack(o, 'CUP', 2)).creditNotes).toEqual([]);
    const first = await run();
    expect(first.counts).toEqual({ invoices: 2, shipments: 2, lines: 3 });
    expect(await billed(o)).toEqual([
      ['invoice', s1, 'CUP', 2],
      ['invoice', s2, 'CUP', 1],
      ['invoice', s2, 'PLATE', 2],
    ]);
    expect((await run()).counts.invoices).toBe(0);
    expect(await checkInvariants(stack.db)).toEqual([]);

    // A return after invoicing is credited as before.
    const back = await giveBack(o, 'PLATE', 1);
    expect(back.creditNotes).toHaveLength(1);
    expect((await billed(o)).at(-1)).toEqual(['credit_note', null, 'PLATE', 1]);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('a return between two shipments’ invoices: what the next shipment can absorb is not invoiced, the rest is credited', async () => {
    const o = await placeOrder('SHIP1', [{ sku: 'CUP', quantity: 5 }]);
    const s1 = await ship(o, [{ sku: 'CUP', quantity: 2 }]);
    expect((await run()).counts.invoices).toBe(1);
    const s2 = await ship(o);
    // 4 back: the uninvoiced second shipment (3) takes 3; 1 of the invoiced first is credited.
    const back = await giveBack(o, 'CUP', 4);
    expect(back.creditNotes).toHaveLength(1);
    const next = await run();
    expect(next.counts.invoices).toBe(0);
    expect(await billed(o)).toEqual([
      ['invoice', s1, 'CUP', 2],
      ['credit_note', null, 'CUP', 1],
    ]);
    expect(s2).toBeGreaterThan(s1);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('a shipment returned in full before invoicing bills only the shipping it keeps', async () => {
    const o = await placeOrder('SHIP1', [{ sku: 'PLATE', quantity: 2 }], { shipping: 500 });
    const s = await ship(o);
    await giveBack(o, 'PLATE', 2);
    const r = await run();
    expect(r.counts).toEqual({ invoices: 1, shipments: 1, lines: 0 });
    const inv = await stack.db('invoices').where({ order_id: o }).first('shipping', 'subtotal');
    expect(inv).toMatchObject({ shipping: 500, subtotal: 0 });
    expect(await billed(o)).toEqual([]);
    expect(s).toBeGreaterThan(0);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('an on_order invoice leaves out units that shipped and came back before it was issued', async () => {
    const o = await placeOrder('ORDER1', [{ sku: 'CUP', quantity: 4 }]);
    await ship(o);
    await giveBack(o, 'CUP', 1);
    const r = await run();
    expect(r.counts.invoices).toBe(1);
    expect(await billed(o)).toEqual([['invoice', null, 'CUP', 3]]);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('the invariants report units invoiced beyond what was kept', async () => {
    const o = await placeOrder('SHIP1', [{ sku: 'CUP', quantity: 3 }]);
    await ship(o);
    expect((await run()).counts.invoices).toBe(1);
    expect(await checkInvariants(stack.db)).toEqual([]);
    // A return recorded behind the system's back: no credit note for it.
    const line = await stack.db('order_lines').where({ order_id: o }).first('id');
    await stack.db('order_lines').where({ id: line.id }).update({ returned: 2 });
    try {
      expect(await checkInvariants(stack.db)).toContain(
        `order line ${line.id}: 3 invoiced net of credit notes, 3 shipped − 2 returned`,
      );
    } finally {
      await stack.db('order_lines').where({ id: line.id }).update({ returned: 0 });
    }
    expect(await checkInvariants(stack.db)).toEqual([]);
  });
});
