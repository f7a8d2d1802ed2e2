import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants } from '../helpers/invariants.js';
import { createStack, orderBody, seedCatalog, type TestStack } from '../helpers/stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await createStack();
  stack.startWorker(4);
  await seedCatalog(
    stack,
    [
      { code: 'north', priority: 1 },
      { code: 'south', priority: 2 },
    ],
    ['A', 'B'],
  );
  await stack.api('POST', '/api/stock/receipts', {
    warehouse: 'north',
    reference: 'n1',
    lines: [
      { sku: 'A', quantity: 3 },
      { sku: 'B', quantity: 10 },
    ],
  });
  await stack.api('POST', '/api/stock/receipts', {
    warehouse: 'south',
    reference: 's1',
    lines: [{ sku: 'A', quantity: 5 }],
  });
});

afterAll(async () => {
  await stack?.close();
});

const counts = async () => {
  const tables = ['orders', 'order_lines', 'inbound_events', 'stock_movements', 'order_events'];
  return Object.fromEntries(
    await Promise.all(
      tables.map(async (t) => [t, Number(((await stack.db(t).count({ n: '*' })) as { n: number }[])[0]!.n)]),
    ),
  );
};

describe('health', () => {
  it('answers /healthz and /readyz without a token', async () => {
    expect(await stack.api('GET', '/healthz', undefined, { token: null })).toEqual({
      status: 200,
      body: { status: 'ok' },
    });
    const ready = await stack.api('GET', '/readyz', undefined, { token: null });
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({
      database: { ok: true },
      migrations: { ok: true },
      redis: { ok: true },
    });
  });
});

describe('bad input changes nothing', () => {
  it('401 without or with a wrong token', async () => {
    const none = await stack.api('GET', '/api/orders', undefined, { token: null });
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('unauthorized');
    const wrong = await stack.api('POST', '/api/orders', orderBody('x', [{ sku: 'A', quantity: 1 }]), {
      token: 'not-the-token',
    });
    expect(wrong.status).toBe(401);
    expect(await stack.db('orders').where({ external_id: 'x' }).first()).toBeUndefined();
  });

  it('400 on malformed JSON, 422 naming every bad field, 413 over 1 MB', async () => {
    const before = await counts();
    const malformed = await stack.api('POST', '/api/orders', '{"externalId": "m1", ');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('invalid_json');

    const invalid = await stack.api('POST', '/api/orders', {
      externalId: '',
      currency: 'euro',
      lines: [{ sku: 'A', quantity: 0, unitPrice: 1.5 }],
    });
    expect(invalid.status).toBe(422);
    expect(invalid.body.error.code).toBe('validation_failed');
    const paths = invalid.body.error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(
      expect.arrayContaining(['externalId', 'currency', 'lines.0.quantity', 'lines.0.unitPrice']),
    );

    const huge = await stack.api('POST', '/api/orders', {
      ...orderBody('big', [{ sku: 'A', quantity: 1 }]),
      pad: 'x'.repeat(1024 * 1024),
    });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('payload_too_large');
    expect(await counts()).toEqual(before);
  });

  it('404 for unknown orders, SKUs and routes; 400 for a bad id', async () => {
    expect((await stack.api('GET', '/api/orders/999999')).status).toBe(404);
    expect((await stack.api('GET', '/api/stock/NOPE')).body.error.code).toBe('not_found');
    expect((await stack.api('GET', '/api/nothing-here')).status).toBe(404);
    expect((await stack.api('GET', '/api/orders/abc')).status).toBe(400);
  });

  it('refuses an adjustment below reserved or below zero with 409, changing nothing', async () => {
    const before = await stack.api('GET', '/api/stock/B');
    const r = await stack.api('POST', '/api/stock/adjustments', {
      warehouse: 'north',
      reason: 'count',
      lines: [{ sku: 'B', delta: -11 }],
    });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('insufficient_stock');
    const unknown = await stack.api('POST', '/api/stock/adjustments', {
      warehouse: 'nowhere',
      reason: 'count',
      lines: [{ sku: 'B', delta: 1 }],
    });
    expect(unknown.status).toBe(422);
    expect((await stack.api('GET', '/api/stock/B')).body).toEqual(before.body);
  });
});

describe('orders through their life', () => {
  it('allocates across warehouses by priority and ships per line', async () => {
    expect((await stack.api('PUT', '/api/customers/C1', { name: 'Acme' })).status).toBe(201);
    const post = await stack.api(
      'POST',
      '/api/orders',
      orderBody(
        'multi-1',
        [
          { sku: 'A', quantity: 6 },
          { sku: 'B', quantity: 4 },
        ],
        { customer: { code: 'C1', name: 'Acme' } },
      ),
    );
    expect(post.status).toBe(202);
    await stack.settle();
    const order = await stack.api('GET', `/api/orders/${post.body.id}`);
    expect(order.body.status).toBe('confirmed');
    expect(order.body.customer).toMatchObject({ code: 'C1', name: 'Acme' });
    const a = await stack.api('GET', '/api/stock/A');
    expect(a.body.warehouses).toEqual([
      { warehouse: 'north', onHand: 3, reserved: 3, available: 0 },
      { warehouse: 'south', onHand: 5, reserved: 3, available: 2 },
    ]);

    const tooMany = await stack.api('POST', `/api/orders/${post.body.id}/shipments`, {
      lines: [{ sku: 'A', quantity: 7 }],
    });
    expect(tooMany.status).toBe(409);
    expect(tooMany.body.error.code).toBe('insufficient_reserved');
    const notOnOrder = await stack.api('POST', `/api/orders/${post.body.id}/shipments`, {
      lines: [{ sku: 'Z', quantity: 1 }],
    });
    expect(notOnOrder.status).toBe(422);

    const first = await stack.api('POST', `/api/orders/${post.body.id}/shipments`, {
      lines: [{ sku: 'A', quantity: 4 }],
      carrier: 'DHL',
      trackingNumber: 'T1',
    });
    expect(first.status).toBe(201);
    expect(first.body.status).toBe('partially_shipped');
    // 3 from north (first priority), then 1 from south.
    expect((await stack.api('GET', '/api/stock/A')).body.warehouses).toEqual([
      { warehouse: 'north', onHand: 0, reserved: 0, available: 0 },
      { warehouse: 'south', onHand: 4, reserved: 2, available: 2 },
    ]);
    const deliverEarly = await stack.api('POST', `/api/orders/${post.body.id}/status`, {
      status: 'delivered',
    });
    expect(deliverEarly.status).toBe(409);

    const rest = await stack.api('POST', `/api/orders/${post.body.id}/shipments`, {});
    expect(rest.status).toBe(201);
    expect(rest.body.status).toBe('shipped');
    expect(rest.body.lines).toEqual([
      { sku: 'A', quantity: 2 },
      { sku: 'B', quantity: 4 },
    ]);
    expect(
      (await stack.api('POST', `/api/orders/${post.body.id}/status`, { status: 'delivered' })).body.status,
    ).toBe('delivered');
    expect(
      (await stack.api('POST', `/api/orders/${post.body.id}/status`, { status: 'completed' })).body.status,
    ).toBe('completed');
    expect((await stack.api('POST', `/api/orders/${post.body.id}/cancel`)).status).toBe(409);

    const final = await stack.api('GET', `/api/orders/${post.body.id}`);
    expect(final.body.lines).toEqual([
      {
        lineNo: 1,
        sku: 'A',
        ordered: 6,
        reserved: 0,
        backordered: 0,
        shipped: 6,
        cancelled: 0,
        returned: 0,
        unitPrice: 1000,
        // No price list applies: the order's own price, nothing to check it against.
        orderUnitPrice: 1000,
        checkedPrice: null,
        priceRuleId: null,
        priceVariance: null,
        // Drawn on no sales contract.
        contract: null,
        promotions: [],
      },
      {
        lineNo: 2,
        sku: 'B',
        ordered: 4,
        reserved: 0,
        backordered: 0,
        shipped: 4,
        cancelled: 0,
        returned: 0,
        unitPrice: 1000,
        orderUnitPrice: 1000,
        checkedPrice: null,
        priceRuleId: null,
        priceVariance: null,
        // Drawn on no sales contract.
        contract: null,
        promotions: [],
      },
    ]);
    expect(final.body.history.map((h: { to: string }) => h.to)).toEqual([
      'received',
      'confirmed',
      'partially_shipped',
      'shipped',
      'delivered',
      'completed',
    ]);
    expect(final.body.shipments).toHaveLength(2);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('holds an order with an unknown SKU, with a machine-readable reason, and processes it once released', async () => {
    const post = await stack.api(
      'POST',
      '/api/orders',
      orderBody('unknown-1', [
        { sku: 'NEW', quantity: 1 },
        { sku: 'B', quantity: 1 },
      ]),
    );
    await stack.settle();
    const held = await stack.api('GET', `/api/orders/${post.body.id}`);
    expect(held.body).toMatchObject({ status: 'on_hold', holdReason: 'unknown_sku' });
    expect(held.body.holdDetails).toEqual([
      expect.objectContaining({ code: 'unknown_sku', sku: 'NEW', lineNo: 1 }),
    ]);
    expect(
      await stack.db('stock_movements').where({ ref_type: 'order', ref_id: String(post.body.id) }),
    ).toEqual([]);

    await stack.api('PUT', '/api/skus/NEW', { name: 'New thing', unitPrice: 500, currency: 'EUR' });
    const released = await stack.api('POST', `/api/orders/${post.body.id}/release`);
    expect(released.body.status).toBe('received');
    await stack.settle();
    const after = await stack.api('GET', `/api/orders/${post.body.id}`);
    expect(after.body.status).toBe('backordered');
    expect(after.body.holdReason).toBeNull();
    expect(after.body.history.map((h: { to: string }) => h.to)).toEqual([
      'received',
      'on_hold',
      'received',
      'backordered',
    ]);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('lists orders newest first with a stable cursor', async () => {
    for (let i = 0; i < 5; i++)
      await stack.api('POST', '/api/orders', orderBody(`page-${i}`, [{ sku: 'B', quantity: 1 }]));
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : '';
      const page = await stack.api('GET', `/api/orders?channel=api&limit=2${q}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((o: { id: number }) => o.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    const all = await stack.db('orders').where({ channel: 'api' }).orderBy('id', 'desc').pluck('id');
    expect(seen).toEqual(all);
    const one = await stack.api('GET', '/api/orders?externalId=page-3');
    expect(one.body.items).toHaveLength(1);
    expect(one.body.items[0]).toMatchObject({ channel: 'api', externalId: 'page-3' });
    expect((await stack.api('GET', '/api/orders?status=bogus')).status).toBe(400);
    expect((await stack.api('GET', '/api/orders?cursor=%%%')).status).toBe(400);
    await stack.settle();
  });
});
