import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants } from '../helpers/invariants.js';
import { createStack, orderBody, seedCatalog, type TestStack } from '../helpers/stack.js';

describe.each([
  ['MariaDB', false],
  ['SQLite', true],
])('returns on %s', (_name, sqlite) => {
  let stack: TestStack;
  let seq = 0;

  const order = async (id: number) => (await stack.api('GET', `/api/orders/${id}`)).body;
  const stockIn = async (sku: string) => {
    const s = (await stack.api('GET', `/api/stock/${sku}`)).body;
    return Object.fromEntries(
      (s.warehouses as { warehouse: string; onHand: number; reserved: number }[]).map((w) => [
        w.warehouse,
        [w.onHand, w.reserved],
      ]),
    );
  };
  const receive = (warehouse: string, sku: string, quantity: number) =>
    stack.api('POST', '/api/stock/receipts', {
      warehouse,
      reference: `r-${++seq}`,
      lines: [{ sku, quantity }],
    });
  /** A confirmed order of these lines, shipped in full. */
  const shippedOrder = async (lines: { sku: string; quantity: number }[]) => {
    const created = await stack.api('POST', '/api/orders', orderBody(`RET-${++seq}`, lines));
    await stack.settle();
    expect((await order(created.body.id)).status).toBe('confirmed');
    expect((await stack.api('POST', `/api/orders/${created.body.id}/shipments`, {})).status).toBe(201);
    return Number(created.body.id);
  };

  beforeAll(async () => {
    stack = await createStack({ sqlite });
    await seedCatalog(
      stack,
      [
        { code: 'main', priority: 1 },
        { code: 'north', priority: 2 },
      ],
      ['CUP', 'PLATE', 'BOWL'],
    );
    stack.startWorker(4);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('puts restocked units back where they shipped from, and a waiting backorder takes them', async () => {
    await receive('main', 'CUP', 3);
    await receive('north', 'CUP', 2);
    const shipped = await shippedOrder([{ sku: 'CUP', quantity: 5 }]);
    expect(await stockIn('CUP')).toEqual({ main: [0, 0], north: [0, 0] });
    // Nothing left: the next order waits.
    const waiting = await stack.api(
      'POST',
      '/api/orders',
      orderBody(`RET-${++seq}`, [{ sku: 'CUP', quantity: 1 }]),
    );
    await stack.settle();
    expect((await order(waiting.body.id)).status).toBe('backordered');

    const back = await stack.api('POST', `/api/orders/${shipped}/returns`, {
      lines: [{ sku: 'CUP', quantity: 4 }],
      restock: true,
      reason: 'wrong colour',
    });
    expect(back.status).toBe(201);
    // main shipped 3 (it comes first), north the other 2.
    expect(back.body.lines).toEqual([
      { sku: 'CUP', quantity: 3, warehouse: 'main' },
      { sku: 'CUP', quantity: 1, warehouse: 'north' },
    ]);
    expect(back.body.filledOrders).toEqual([waiting.body.id]);
    expect((await order(waiting.body.id)).status).toBe('confirmed');
    expect(await stockIn('CUP')).toEqual({ main: [3, 1], north: [1, 0] });

    const after = await order(shipped);
    expect(after.status).toBe('shipped');
    expect(after.lines[0]).toMatchObject({ ordered: 5, shipped: 5, returned: 4 });
    expect(after.history.at(-1)).toMatchObject({ from: 'shipped', to: 'shipped' });
    expect(after.history.at(-1).reason).toContain('returned');
    const ledger = await stack.db('stock_movements').where({ reason: 'return' }).sum({ n: 'd_on_hand' });
    expect(Number(ledger[0]!.n)).toBe(4);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('refuses more than shipped and not yet returned, and an order that shipped nothing, changing nothing', async () => {
    await receive('main', 'PLATE', 10);
    const shipped = await shippedOrder([{ sku: 'PLATE', quantity: 2 }]);
    const tooMany = await stack.api('POST', `/api/orders/${shipped}/returns`, {
      lines: [{ sku: 'PLATE', quantity: 3 }],
      restock: true,
    });
    expect(tooMany.status).toBe(409);
    expect(tooMany.body.error).toMatchObject({ code: 'more_than_shipped', details: { returnable: 2 } });
    const other = await stack.api('POST', `/api/orders/${shipped}/returns`, {
      lines: [{ sku: 'BOWL', quantity: 1 }],
      restock: true,
    });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('not_on_order');

    const open = await stack.api(
      'POST',
      '/api/orders',
      orderBody(`RET-${++seq}`, [{ sku: 'PLATE', quantity: 1 }]),
    );
    await stack.settle();
    const notShipped = await stack.api('POST', `/api/orders/${open.body.id}/returns`, {
      lines: [{ sku: 'PLATE', quantity: 1 }],
      restock: true,
    });
    expect(notShipped.status).toBe(409);
    expect(notShipped.body.error.code).toBe('not_returnable');
    expect(
      (
        await stack.api('POST', '/api/orders/999999/returns', {
          lines: [{ sku: 'PLATE', quantity: 1 }],
          restock: true,
        })
      ).status,
    ).toBe(404);
    expect(
      (await stack.api('POST', `/api/orders/${shipped}/returns`, { lines: [], restock: true })).status,
    ).toBe(422);

    expect((await order(shipped)).lines[0].returned).toBe(0);
    expect(await stockIn('PLATE')).toEqual({ main: [8, 1] });
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('credits the returned units of an invoiced shipment against its invoice, keeping the shipping billed', async () => {
    await receive('main', 'CUP', 5);
    const created = await stack.api(
      'POST',
      '/api/orders',
      orderBody(`RET-${++seq}`, [{ sku: 'CUP', quantity: 3 }], { shipping: 500 }),
    );
    await stack.settle();
    const shipment = await stack.api('POST', `/api/orders/${created.body.id}/shipments`, {});
    expect(shipment.status).toBe(201);
    const invoice = await stack.api('POST', '/api/invoices', { shipment: shipment.body.shipmentId });
    expect(invoice.status).toBe(201);

    const back = await stack.api('POST', `/api/orders/${created.body.id}/returns`, {
      lines: [{ sku: 'CUP', quantity: 2 }],
      restock: true,
      reference: 'RMA-CN',
    });
    expect(back.status).toBe(201);
    expect(back.body.creditNotes).toHaveLength(1);
    const note = (await stack.api('GET', `/api/credit-notes/${back.body.creditNotes[0]}`)).body;
    expect(note.lines).toEqual([expect.objectContaining({ sku: 'CUP', quantity: 2 })]);
    // 2 × 10.00 back; the shipping stays billed.
    expect(note).toMatchObject({ total: 2000 });
    // A repeat of the return makes no second credit note.
    const again = await stack.api('POST', `/api/orders/${created.body.id}/returns`, {
      lines: [{ sku: 'CUP', quantity: 2 }],
      restock: true,
      reference: 'RMA-CN',
    });
    expect(again.body).toMatchObject({ duplicate: true, creditNotes: back.body.creditNotes });
    expect(await stack.db('invoices').where({ type: 'credit_note' }).count({ n: '*' })).toEqual([{ n: 1 }]);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('records a write-off without stock, counts a reference once, and refuses the reference with other lines', async () => {
    await receive('main', 'BOWL', 4);
    const shipped = await shippedOrder([{ sku: 'BOWL', quantity: 4 }]);
    const body = {
      lines: [{ sku: 'BOWL', quantity: 2 }],
      restock: false,
      reason: 'broken',
      reference: 'RMA-7',
    };
    const first = await stack.api('POST', `/api/orders/${shipped}/returns`, body);
    expect(first.status).toBe(201);
    expect(first.body.lines).toEqual([{ sku: 'BOWL', quantity: 2, warehouse: null }]);
    const again = await stack.api('POST', `/api/orders/${shipped}/returns`, body);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: first.body.id, duplicate: true, lines: first.body.lines });
    const reused = await stack.api('POST', `/api/orders/${shipped}/returns`, {
      ...body,
      lines: [{ sku: 'BOWL', quantity: 1 }],
    });
    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe('return_reference_reused');

    expect((await order(shipped)).lines[0].returned).toBe(2);
    // Written off: nothing back on hand.
    expect(await stockIn('BOWL')).toEqual({ main: [0, 0] });
    const list = (await stack.api('GET', `/api/orders/${shipped}/returns`)).body.items;
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ reference: 'RMA-7', restock: false, reason: 'broken', source: 'api' });

    // Into a warehouse named by the caller.
    const named = await stack.api('POST', `/api/orders/${shipped}/returns`, {
      lines: [{ sku: 'BOWL', quantity: 2 }],
      restock: true,
      warehouse: 'north',
    });
    expect(named.status).toBe(201);
    expect(await stockIn('BOWL')).toEqual({ main: [0, 0], north: [2, 0] });
    expect(await checkInvariants(stack.db)).toEqual([]);
  });
});
