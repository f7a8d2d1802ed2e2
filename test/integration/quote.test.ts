import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTime } from '../../src/db/connection.js';
import { type AnyOrderRule, ORDER_RULES } from '../../src/orders/order-rules.js';
import { checkInvariants } from '../helpers/invariants.js';
import { interceptChannelHttp } from '../helpers/nock.js';
import { createStack, seedCatalog, type TestStack } from '../helpers/stack.js';

interceptChannelHttp({ strict: true });

describe.each([
  ['MariaDB', false],
  ['SQLite', true],
])('POST /api/orders/quote on %s', (_name, sqlite) => {
  let stack: TestStack;
  let seq = 0;

  /** Rows in the tables an order, its customer or its stock touches: a quote must change none. */
  const footprint = async () => {
    const out: Record<string, number> = {};
    for (const t of [
      'orders',
      'order_lines',
      'order_events',
      'order_allocations',
      'stock_movements',
      'customers',
      'outbox',
      'inbound_events',
    ])
      out[t] = Number((await stack.db(t).count({ n: '*' }))[0]!.n);
    out.reserved = Number((await stack.db('stock_levels').sum({ n: 'reserved' }))[0]!.n ?? 0);
    return out;
  };

  /** Quotes a body, then posts it as an order and waits for processing: both answers. */
  const quoteThenOrder = async (body: Record<string, unknown>) => {
    const before = await footprint();
    const quote = await stack.api('POST', '/api/orders/quote', body);
    expect(quote.status).toBe(200);
    expect(await footprint()).toEqual(before);
    const posted = await stack.api('POST', '/api/orders', body);
    expect(posted.status).toBe(202);
    await stack.settle();
    const order = (await stack.api('GET', `/api/orders/${posted.body.id}`)).body;
    const allocations = await stack
      .db('order_allocations as a')
      .join('order_lines as ol', 'ol.id', 'a.order_line_id')
      .join('warehouses as w', 'w.id', 'a.warehouse_id')
      .where('ol.order_id', posted.body.id)
      .orderBy(['ol.line_no', 'w.priority'])
      .select('ol.line_no', 'w.code', 'a.reserved');
    return { quote: quote.body, order, allocations };
  };

  const body = (lines: Record<string, unknown>[], extra: Record<string, unknown> = {}) => ({
    externalId: `Q-${++seq}`,
    currency: 'EUR',
    customer: { code: 'ACME' },
    lines,
    ...extra,
  });

  beforeAll(async () => {
    stack = await createStack({ sqlite });
    await seedCatalog(
      stack,
      [
        { code: 'main', priority: 1 },
        { code: 'annex', priority: 2 },
      ],
      ['GEAR', 'BOLT', 'NUT'],
    );
    for (const [warehouse, lines] of [
      [
        'main',
        [
          { sku: 'GEAR', quantity: 30 },
          { sku: 'BOLT', quantity: 5 },
          { sku: 'NUT', quantity: 100 },
        ],
      ],
      ['annex', [{ sku: 'GEAR', quantity: 20 }]],
    ] as const) {
      const r = await stack.api('POST', '/api/stock/receipts', {
        warehouse,
        reference: `open-${warehouse}`,
        lines,
      });
      expect(r.status).toBe(201);
    }
    const now = dbTime();
    await stack
      .db('customers')
      .insert({ code: 'ACME', name: 'Acme', customer_group: 'default', created_at: now, updated_at: now });
    expect(
      (await stack.api('PUT', '/api/price-lists/STD', { name: 'Standard', currency: 'EUR' })).status,
    ).toBe(201);
    expect(
      (
        await stack.api('PUT', '/api/price-lists/STD/items', {
          items: [
            { sku: 'GEAR', price: 5000 },
            { sku: 'GEAR', price: 4500, minQuantity: 10 },
            { sku: 'BOLT', price: 200 },
          ],
        })
      ).status,
    ).toBe(200);
    expect((await stack.api('POST', '/api/price-lists/STD/assignments', { default: true })).status).toBe(201);
    stack.startWorker(2);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('quotes a quantity-break price and a reservation across warehouses, as processing then decides', async () => {
    const { quote, order, allocations } = await quoteThenOrder(body([{ sku: 'GEAR', quantity: 40 }]));
    expect(quote).toMatchObject({
      status: 'confirmed',
      holdReason: null,
      problems: [],
      pricePolicy: 'enforce',
      customer: { code: 'ACME', known: true },
      totalAmount: 40 * 4500,
      rules: {},
      existingOrder: null,
    });
    expect(quote.lines).toEqual([
      {
        lineNo: 1,
        sku: 'GEAR',
        quantity: 40,
        known: true,
        price: {
          carried: null,
          checked: 4500,
          unitPrice: 4500,
          variance: null,
          rule: { itemId: expect.any(Number), priceList: 'STD', level: 'default' },
        },
        stock: {
          available: 50,
          warehouses: [
            { warehouse: 'main', available: 30 },
            { warehouse: 'annex', available: 20 },
          ],
        },
        reservation: {
          reserved: 40,
          backordered: 0,
          warehouses: [
            { warehouse: 'main', quantity: 30 },
            { warehouse: 'annex', quantity: 10 },
          ],
        },
      },
    ]);
    expect(order.status).toBe(quote.status);
    expect(order.totalAmount).toBe(quote.totalAmount);
    expect(order.lines[0]).toMatchObject({
      unitPrice: 4500,
      checkedPrice: 4500,
      priceRuleId: quote.lines[0].price.rule.itemId,
    });
    expect(allocations.map((a: any) => [a.code, Number(a.reserved)])).toEqual(
      quote.lines[0].reservation.warehouses.map((w: any) => [w.warehouse, w.quantity]),
    );
    // Quoting the stored order's body again says so.
    const again = await stack.api('POST', '/api/orders/quote', {
      ...body([{ sku: 'GEAR', quantity: 1 }]),
      externalId: order.externalId,
    });
    expect(again.body.existingOrder).toEqual({ id: order.id, status: 'confirmed' });
  });

  it('quotes a hold for a line without a price, as processing then holds it', async () => {
    const { quote, order } = await quoteThenOrder(
      body([
        { sku: 'NUT', quantity: 2 },
        { sku: 'BOLT', quantity: 1 },
      ]),
    );
    expect(quote).toMatchObject({ status: 'on_hold', holdReason: 'no_price' });
    expect(quote.problems).toEqual([expect.objectContaining({ code: 'no_price', sku: 'NUT', lineNo: 1 })]);
    expect(quote.lines.map((l: any) => [l.sku, l.price.checked, l.price.rule?.priceList ?? null])).toEqual([
      ['NUT', null, null],
      ['BOLT', 200, 'STD'],
    ]);
    expect(order).toMatchObject({ status: 'on_hold', holdReason: 'no_price' });
    expect(order.holdDetails).toEqual(quote.problems);
  });

  it('quotes a backorder, as processing then backorders it', async () => {
    const { quote, order, allocations } = await quoteThenOrder(
      body([{ sku: 'BOLT', quantity: 8, unitPrice: 200 }]),
    );
    expect(quote.status).toBe('backordered');
    expect(quote.lines[0]).toMatchObject({
      price: { carried: 200, checked: 200, unitPrice: 200, variance: 0 },
      stock: { available: 5, warehouses: [{ warehouse: 'main', available: 5 }] },
      reservation: { reserved: 5, backordered: 3, warehouses: [{ warehouse: 'main', quantity: 5 }] },
    });
    expect(order.status).toBe('backordered');
    expect(order.lines[0]).toMatchObject({ reserved: 5, backordered: 3 });
    expect(allocations.map((a: any) => [a.code, Number(a.reserved)])).toEqual([['main', 5]]);
  });

  it('lists every reason it would be held, where processing stops at the first', async () => {
    const { quote, order } = await quoteThenOrder(
      body(
        [
          { sku: 'NOPE', quantity: 1 },
          { sku: 'NUT', quantity: 1 },
        ],
        { customer: { code: 'WHO' } },
      ),
    );
    expect(quote.status).toBe('on_hold');
    expect(quote.customer).toEqual({ code: 'WHO', known: false });
    const codes = quote.problems.map((p: any) => p.code);
    expect(codes).toContain('unknown_sku');
    expect(codes).toContain('no_price');
    expect(order.status).toBe('on_hold');
    expect(order.holdReason).toBe(quote.holdReason);
    expect(quote.problems).toEqual(expect.arrayContaining(order.holdDetails));
    // A bad body is refused as POST /api/orders refuses it.
    const bad = { currency: 'EUR', lines: [] };
    const refused = await stack.api('POST', '/api/orders/quote', bad);
    expect(refused.status).toBe(422);
    expect(refused.body).toEqual((await stack.api('POST', '/api/orders', bad)).body);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it("shows each order rule's info under its name, and its problems as hold reasons", async () => {
    const probe: AnyOrderRule = {
      name: 'probe',
      lockRank: 10,
      load: async (_tx, orders) => ({ seen: orders.length }),
      decide: (state, draft, ctx) => ({
        problems: draft.lines[0]!.ordered > 100 ? [{ code: 'credit_limit', message: 'over the limit' }] : [],
        info: { seen: state.seen, dryRun: ctx.dryRun, unitPrice: draft.lines[0]!.unitPrice },
      }),
      take: () => {
        throw new Error('a quote takes nothing');
      },
    };
    ORDER_RULES.push(probe);
    try {
      const ok = await stack.api('POST', '/api/orders/quote', body([{ sku: 'GEAR', quantity: 10 }]));
      expect(ok.body).toMatchObject({
        status: 'confirmed',
        rules: { probe: { seen: 1, dryRun: true, unitPrice: 4500 } },
      });
      const held = await stack.api(
        'POST',
        '/api/orders/quote',
        body([{ sku: 'NUT', quantity: 101, unitPrice: 5 }]),
      );
      expect(held.body).toMatchObject({
        status: 'on_hold',
        holdReason: 'credit_limit',
        rules: { probe: { seen: 1 } },
      });
    } finally {
      ORDER_RULES.splice(ORDER_RULES.indexOf(probe), 1);
    }
  });
});
