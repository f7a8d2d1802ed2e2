import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { withTransaction } from '../../src/db/retry.js';
import { WriteBatch } from '../../src/db/write-batch.js';
import { block, track, waitForLockWaits, waitUntil } from '../helpers/interleave.js';
import { checkInvariants } from '../helpers/invariants.js';
import { interceptChannelHttp } from '../helpers/nock.js';
import { shopifyOrderBody } from '../helpers/shopify-webhook.js';
import { createStack, seedCatalog, type TestStack } from '../helpers/stack.js';

/*
 * Races forced, not hoped for: a blocker transaction holds a row, the writers under test start and
 * queue up behind it (seen in InnoDB's lock waits), the blocker lets go, and then the invariants
 * are checked. Each scenario is one the review reproduced against the code before "lock first".
 */

interceptChannelHttp({ strict: true });

const SECRET = 'shopify-lock-first-secret';
const VARIANT = '4400000000000000021';

let stack: TestStack;
let channelId: number;
let seq = 0;

function shopifyOrder(
  id: string,
  o: {
    updatedAt: string;
    quantity: number;
    cancelled?: boolean;
    customerId?: string;
    sku?: string;
    variantId?: string;
  },
) {
  return shopifyOrderBody(
    id,
    [
      {
        sku: o.sku ?? 'RACE',
        variantId: o.variantId ?? VARIANT,
        productId: '7700000000000000021',
        quantity: o.quantity,
        price: '10.00',
      },
    ],
    {
      updatedAt: o.updatedAt,
      createdAt: '2026-11-20T10:00:00+01:00',
      email: `buyer-${id}@example.com`,
      ...(o.cancelled ? { cancelledAt: o.updatedAt } : {}),
      ...(o.customerId ? { customerId: o.customerId } : {}),
    },
  );
}

/** Delivers a signed Shopify webhook and waits until its event has been applied. */
async function deliver(topic: string, body: string) {
  const eventId = `lf-${++seq}`;
  const res = await stack.app.request(`/webhooks/${channelId}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-shop-domain': 'lock-first.myshopify.com',
      'x-shopify-event-id': eventId,
      'x-shopify-webhook-id': `wh-${eventId}`,
      'x-shopify-hmac-sha256': createHmac('sha256', SECRET).update(body).digest('base64'),
    },
    body,
  });
  if (res.status !== 200) {
    const stored = await stack.db('inbound_events').where({ delivery_id: eventId }).first('error');
    expect.fail(`the webhook was answered ${res.status}: ${stored?.error ?? (await res.text())}`);
  }
  return waitUntil(async () => {
    const row = await stack.db('inbound_events').where({ delivery_id: eventId }).first();
    if (row?.processed_at) return row as { note: string; order_id: number; error: string | null };
    if (row?.error && row.attempts > 0)
      return row as { note: string; order_id: number; error: string | null };
    return undefined;
  }, `event ${eventId} applied`);
}

async function orderOf(externalId: string) {
  const row = await stack.db('orders').where({ external_id: externalId }).first('id');
  return (await stack.api('GET', `/api/orders/${row.id}`)).body;
}

async function newConfirmedOrder(externalId: string, quantity: number) {
  await deliver(
    'orders/create',
    shopifyOrder(externalId, { updatedAt: '2026-11-20T10:00:00+01:00', quantity }),
  );
  await stack.settle();
  const order = await orderOf(externalId);
  expect(order.status).toBe('confirmed');
  return order;
}

const lockOrderRow = (id: number) => block(stack.db, 'SELECT id FROM orders WHERE id = ? FOR UPDATE', [id]);

beforeAll(async () => {
  stack = await createStack();
  await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['RACE', 'CUST', 'FILL', 'RCPT']);
  await stack.api('POST', '/api/stock/receipts', {
    warehouse: 'main',
    reference: 'opening',
    lines: [
      { sku: 'RACE', quantity: 100 },
      { sku: 'CUST', quantity: 100 },
    ],
  });
  const created = await stack.api('POST', '/api/channels', {
    type: 'shopify',
    name: 'Lock-first shop',
    settings: {
      shopDomain: 'lock-first.myshopify.com',
      accessToken: 'shpat_lock_first_0123456789',
      webhookSecret: SECRET,
      apiBaseUrl: 'https://shopify.test/admin/api/2026-10',
      pullIntervalSeconds: 3600,
    },
  });
  expect(created.status).toBe(201);
  channelId = created.body.id;
  stack.startWorker(4);
});

afterAll(async () => {
  await stack.close();
});

beforeEach(async () => {
  expect(await checkInvariants(stack.db)).toEqual([]);
});

describe('order changes lock the order first (MariaDB, forced interleavings)', () => {
  it('a channel cancellation queued behind a shipment cancels only what did not ship', async () => {
    const order = await newConfirmedOrder('6100000000000000001', 5);
    const blocker = await lockOrderRow(order.id);
    const ship = track(
      stack.api('POST', `/api/orders/${order.id}/shipments`, { lines: [{ sku: 'RACE', quantity: 2 }] }),
    );
    await waitForLockWaits(stack.db, 1, { settled: () => (ship.done ? 'the shipment did not wait' : null) });
    const cancel = track(
      deliver(
        'orders/cancelled',
        shopifyOrder('6100000000000000001', {
          updatedAt: '2026-11-20T11:00:00+01:00',
          quantity: 5,
          cancelled: true,
        }),
      ),
    );
    await waitForLockWaits(stack.db, 2, {
      settled: () => (cancel.done ? 'the cancellation did not wait' : null),
    });
    await blocker.commit();
    const [shipped, cancelled] = await Promise.all([ship.promise, cancel.promise]);

    expect(shipped.status).toBe(201);
    expect(cancelled.note).toMatch(/^cancelled/);
    const after = await orderOf('6100000000000000001');
    expect(after.status).toBe('cancelled');
    expect(after.lines[0]).toMatchObject({
      ordered: 5,
      shipped: 2,
      cancelled: 3,
      reserved: 0,
      backordered: 0,
    });
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('a channel line update queued behind a shipment is not applied to the shipped order', async () => {
    const order = await newConfirmedOrder('6100000000000000002', 5);
    const blocker = await lockOrderRow(order.id);
    const ship = track(
      stack.api('POST', `/api/orders/${order.id}/shipments`, { lines: [{ sku: 'RACE', quantity: 2 }] }),
    );
    await waitForLockWaits(stack.db, 1, { settled: () => (ship.done ? 'the shipment did not wait' : null) });
    const update = track(
      deliver(
        'orders/updated',
        shopifyOrder('6100000000000000002', { updatedAt: '2026-11-20T11:00:00+01:00', quantity: 3 }),
      ),
    );
    await waitForLockWaits(stack.db, 2, { settled: () => (update.done ? 'the update did not wait' : null) });
    await blocker.commit();
    const [shipped, updated] = await Promise.all([ship.promise, update.promise]);

    expect(shipped.status).toBe(201);
    expect(updated.note).toMatch(/^not_applied/);
    const after = await orderOf('6100000000000000002');
    expect(after.status).toBe('partially_shipped');
    expect(after.lines[0]).toMatchObject({ ordered: 5, shipped: 2, reserved: 3 });
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('two cancellations of one order: one cancels, the other finds it cancelled', async () => {
    const order = await newConfirmedOrder('6100000000000000003', 4);
    const blocker = await lockOrderRow(order.id);
    const api = track(stack.api('POST', `/api/orders/${order.id}/cancel`, { reason: 'customer called' }));
    await waitForLockWaits(stack.db, 1, { settled: () => (api.done ? 'the API cancel did not wait' : null) });
    const channel = track(
      deliver(
        'orders/cancelled',
        shopifyOrder('6100000000000000003', {
          updatedAt: '2026-11-20T11:00:00+01:00',
          quantity: 4,
          cancelled: true,
        }),
      ),
    );
    await waitForLockWaits(stack.db, 2, {
      settled: () => (channel.done ? 'the channel cancel did not wait' : null),
    });
    await blocker.commit();
    const [byApi, byChannel] = await Promise.all([api.promise, channel.promise]);

    expect(byApi.status).toBe(200);
    expect(byChannel.note).toBe('unchanged: already cancelled');
    const history = (await stack.api('GET', `/api/orders/${order.id}`)).body.history;
    expect(history.filter((h: { to: string }) => h.to === 'cancelled')).toHaveLength(1);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('a receipt that fills a backorder does not trip over a shipment of that order', async () => {
    // 7 wanted, 4 in stock: 4 reserved, 3 backordered.
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: 'fill-opening',
      lines: [{ sku: 'FILL', quantity: 4 }],
    });
    const placed = await stack.api('POST', '/api/orders', {
      externalId: 'FILL-1',
      currency: 'EUR',
      lines: [{ sku: 'FILL', quantity: 7, unitPrice: 100 }],
    });
    expect(placed.status).toBe(202);
    await stack.settle();
    const order = (await stack.api('GET', `/api/orders/${placed.body.id}`)).body;
    expect(order.status).toBe('backordered');

    const blocker = await lockOrderRow(order.id);
    const ship = track(
      stack.api('POST', `/api/orders/${order.id}/shipments`, { lines: [{ sku: 'FILL', quantity: 4 }] }),
    );
    await waitForLockWaits(stack.db, 1, { settled: () => (ship.done ? 'the shipment did not wait' : null) });
    const receipt = track(
      stack.api('POST', '/api/stock/receipts', {
        warehouse: 'main',
        reference: 'fill-arrival',
        lines: [{ sku: 'FILL', quantity: 3 }],
      }),
    );
    await waitForLockWaits(stack.db, 2, {
      settled: () => (receipt.done ? 'the receipt did not wait' : null),
    });
    await blocker.commit();
    const [shipped, received] = await Promise.all([ship.promise, receipt.promise]);

    expect(shipped.status).toBe(201);
    expect(received.status).toBe(201);
    const after = (await stack.api('GET', `/api/orders/${order.id}`)).body;
    expect(after.lines[0]).toMatchObject({ ordered: 7, shipped: 4, reserved: 3, backordered: 0 });
    expect(after.status).toBe('partially_shipped');
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('a channel line update queued behind a backorder fill works on the lines the fill left', async () => {
    // 7 wanted, 4 in stock: 4 reserved, 3 backordered. Its own variant, so it maps to UPD.
    await seedCatalog(stack, [], ['UPD']);
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: 'upd-opening',
      lines: [{ sku: 'UPD', quantity: 4 }],
    });
    const externalId = '6100000000000000021';
    const line = { sku: 'UPD', variantId: '4400000000000000031' };
    await deliver(
      'orders/create',
      shopifyOrder(externalId, { updatedAt: '2026-11-20T10:00:00+01:00', quantity: 7, ...line }),
    );
    await stack.settle();
    const order = await orderOf(externalId);
    expect(order.status).toBe('backordered');
    expect(order.lines[0]).toMatchObject({ sku: 'UPD', ordered: 7, reserved: 4, backordered: 3 });

    const blocker = await lockOrderRow(order.id);
    let receipt: ReturnType<typeof track<Awaited<ReturnType<TestStack['api']>>>>;
    let update: ReturnType<typeof track<Awaited<ReturnType<typeof deliver>>>>;
    try {
      // One unit arrives: it fills one of the backordered units, and waits for the order.
      receipt = track(
        stack.api('POST', '/api/stock/receipts', {
          warehouse: 'main',
          reference: 'upd-arrival',
          lines: [{ sku: 'UPD', quantity: 1 }],
        }),
      );
      await waitForLockWaits(stack.db, 1, {
        table: 'orders',
        settled: () => (receipt.done ? 'the receipt did not wait' : null),
      });
      // The channel lowers the quantity to 6: the update queues behind the fill.
      update = track(
        deliver(
          'orders/updated',
          shopifyOrder(externalId, { updatedAt: '2026-11-20T11:00:00+01:00', quantity: 6, ...line }),
        ),
      );
      await waitForLockWaits(stack.db, 2, {
        table: 'orders',
        settled: () => (update.done ? 'the update did not wait' : null),
      });
    } finally {
      await blocker.commit();
    }
    const [received, updated] = await Promise.all([receipt.promise, update.promise]);

    expect(received.status).toBe(201);
    expect(updated.error).toBeNull();
    expect(updated.note).toMatch(/^updated/);
    expect(await checkInvariants(stack.db)).toEqual([]);
    // 5 units on hand, 6 wanted: whichever ran first, the order holds all 5 and waits for 1.
    const after = await orderOf(externalId);
    expect(after.lines[0]).toMatchObject({ ordered: 6, reserved: 5, backordered: 1, shipped: 0 });
    expect(after.status).toBe('backordered');
    expect((await stack.api('GET', '/api/stock/UPD')).body).toMatchObject({ onHand: 5, reserved: 5 });
  });

  it('a receipt that started before a shipment of the order it fills is not refused', async () => {
    // Line 1: 4 wanted, all reserved. Line 2: 3 wanted, 1 reserved, 2 backordered.
    await seedCatalog(stack, [], ['SHIPA', 'SHIPB']);
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: 'ship-opening',
      lines: [
        { sku: 'SHIPA', quantity: 4 },
        { sku: 'SHIPB', quantity: 1 },
      ],
    });
    const placed = await stack.api('POST', '/api/orders', {
      externalId: 'SHIPAB-1',
      currency: 'EUR',
      lines: [
        { sku: 'SHIPA', quantity: 4, unitPrice: 100 },
        { sku: 'SHIPB', quantity: 3, unitPrice: 100 },
      ],
    });
    expect(placed.status).toBe(202);
    await stack.settle();
    const order = (await stack.api('GET', `/api/orders/${placed.body.id}`)).body;
    expect(order.status).toBe('backordered');

    // Someone holds SHIPB's stock row: the receipt of 2 SHIPB starts and waits for it...
    const row = await stack
      .db('stock_levels as sl')
      .join('skus as s', 's.id', 'sl.sku_id')
      .join('warehouses as w', 'w.id', 'sl.warehouse_id')
      .where({ 's.code': 'SHIPB', 'w.code': 'main' })
      .first('sl.sku_id', 'sl.warehouse_id');
    const blocker = await block(
      stack.db,
      'SELECT * FROM stock_levels WHERE sku_id = ? AND warehouse_id = ? FOR UPDATE',
      [row.sku_id, row.warehouse_id],
    );
    let receipt: ReturnType<typeof track<Awaited<ReturnType<TestStack['api']>>>>;
    try {
      receipt = track(
        stack.api('POST', '/api/stock/receipts', {
          warehouse: 'main',
          reference: 'ship-arrival',
          lines: [{ sku: 'SHIPB', quantity: 2 }],
        }),
      );
      await waitForLockWaits(stack.db, 1, {
        table: 'stock_levels',
        settled: () => (receipt.done ? 'the receipt did not wait' : null),
      });
      // ...while line 1 ships (the order becomes partially_shipped) and commits.
      const shipped = await stack.api('POST', `/api/orders/${order.id}/shipments`, {
        lines: [{ sku: 'SHIPA', quantity: 4 }],
      });
      expect(shipped.status).toBe(201);
    } finally {
      await blocker.commit();
    }
    const received = await receipt.promise;

    expect(received.status).toBe(201);
    const after = (await stack.api('GET', `/api/orders/${order.id}`)).body;
    expect(after.status).toBe('partially_shipped');
    expect(
      after.lines.map((l: Record<string, unknown>) => [l.sku, l.shipped, l.reserved, l.backordered]),
    ).toEqual([
      ['SHIPA', 4, 0, 0],
      ['SHIPB', 0, 3, 0],
    ]);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('a channel order of a new buyer waits for the channel customer another order is creating and gets it; later orders of the buyer do not wait', async () => {
    const customerId = '8800000000000000001';
    const channel = `shopify:${channelId}`;
    // The channel's item is mapped to CUST beforehand (by a first order without a customer), so the
    // order below meets the blocker at the customer row and nowhere else.
    const line = { sku: 'CUST', variantId: '4400000000000000041' };
    await deliver(
      'orders/create',
      shopifyOrder('6100000000000000010', { updatedAt: '2026-11-20T09:00:00+01:00', quantity: 1, ...line }),
    );
    await stack.settle();
    // The blocker creates the buyer's channel customer and holds it uncommitted, as a first order would.
    const blocker = await block(
      stack.db,
      'INSERT INTO customers (channel, channel_customer_id, customer_group, name, created_at, updated_at) ' +
        "VALUES (?, ?, 'retail', 'Li Wei', '2026-11-20 09:00:00', '2026-11-20 09:00:00')",
      [channel, customerId],
    );
    const a = track(
      deliver(
        'orders/create',
        shopifyOrder('6100000000000000011', {
          updatedAt: '2026-11-20T10:00:00+01:00',
          quantity: 1,
          customerId,
          ...line,
        }),
      ),
    );
    try {
      await waitForLockWaits(stack.db, 1, {
        table: 'customers',
        settled: () => (a.done ? 'the order was applied without waiting for the customer row' : null),
      });
    } finally {
      await blocker.commit();
    }
    const ea = await a.promise;
    expect(ea.error).toBeNull();
    expect(ea.note).toBe('created');
    const customers = await stack.db('customers').where({ channel, channel_customer_id: customerId });
    expect(customers).toHaveLength(1);
    const owner = await stack.db('orders').where({ external_id: '6100000000000000011' }).first('customer_id');
    expect(Number(owner.customer_id)).toBe(Number(customers[0].id));

    // Once it exists, the buyer's orders do not serialise on it: an order of the same buyer still in
    // flight (its foreign key check holds a shared lock on the row, as the holder does) stops none.
    const holder = await block(stack.db, 'SELECT id FROM customers WHERE id = ? LOCK IN SHARE MODE', [
      customers[0].id,
    ]);
    try {
      const next = await deliver(
        'orders/create',
        shopifyOrder('6100000000000000012', {
          updatedAt: '2026-11-20T11:00:00+01:00',
          quantity: 1,
          customerId,
          ...line,
        }),
      );
      expect(next.note).toBe('created');
    } finally {
      await holder.rollback();
    }
    const second = await stack
      .db('orders')
      .where({ external_id: '6100000000000000012' })
      .first('customer_id');
    expect(Number(second.customer_id)).toBe(Number(customers[0].id));

    await stack.settle();
    expect(await checkInvariants(stack.db)).toEqual([]);
  });
});

describe('stock rows are created and locked in one statement', () => {
  it('twenty concurrent receipts of one SKU into a new warehouse row: all recorded, no deadlock', async () => {
    const { txRetries } = await import('../../src/db/retry.js');
    await stack.api('PUT', '/api/warehouses/annex', { name: 'annex', priority: 5 });
    txRetries.reset();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        stack.api('POST', '/api/stock/receipts', {
          warehouse: 'annex',
          reference: `rcpt-${i}`,
          lines: [{ sku: 'RCPT', quantity: 5 }],
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(txRetries.deadlocks).toBe(0);
    const stock = (await stack.api('GET', '/api/stock/RCPT')).body;
    expect(stock.onHand).toBe(100);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('receipts queued behind a held stock row: no deadlock when it lets go', async () => {
    const { txRetries } = await import('../../src/db/retry.js');
    const row = await stack
      .db('stock_levels as sl')
      .join('skus as s', 's.id', 'sl.sku_id')
      .join('warehouses as w', 'w.id', 'sl.warehouse_id')
      .where({ 's.code': 'RCPT', 'w.code': 'annex' })
      .first('sl.sku_id', 'sl.warehouse_id');
    txRetries.reset();
    const blocker = await block(
      stack.db,
      'SELECT * FROM stock_levels WHERE sku_id = ? AND warehouse_id = ? FOR UPDATE',
      [row.sku_id, row.warehouse_id],
    );
    // Fifteen of them: with the blocker and the test's own queries that is within the pool of 20.
    const receipts = Array.from({ length: 15 }, (_, i) =>
      track(
        stack.api('POST', '/api/stock/receipts', {
          warehouse: 'annex',
          reference: `held-${i}`,
          lines: [{ sku: 'RCPT', quantity: 1 }],
        }),
      ),
    );
    await waitForLockWaits(stack.db, 15, {
      settled: () => (receipts.some((r) => r.done) ? 'a receipt did not wait' : null),
    });
    await blocker.commit();
    const results = await Promise.all(receipts.map((r) => r.promise));
    expect(results.map((r) => r.status)).toEqual(Array(15).fill(201));
    expect(txRetries.deadlocks).toBe(0);
    expect((await stack.api('GET', '/api/stock/RCPT')).body.onHand).toBe(115);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });
});

describe('backorders are filled oldest first, in bounded batches', () => {
  it('one unit arriving locks only the oldest waiting order, not every waiting line', async () => {
    await seedCatalog(stack, [], ['WAIT']);
    const ids: number[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await stack.api('POST', '/api/orders', {
        externalId: `WAIT-${i}`,
        currency: 'EUR',
        lines: [{ sku: 'WAIT', quantity: 1, unitPrice: 100 }],
      });
      ids.push(r.body.id);
    }
    await stack.settle();
    // Someone holds the newest waiting order's line (an order being edited, say).
    const newest = ids[ids.length - 1]!;
    const blocker = await block(stack.db, 'SELECT * FROM order_lines WHERE order_id = ? FOR UPDATE', [
      newest,
    ]);
    const receipt = track(
      stack.api('POST', '/api/stock/receipts', {
        warehouse: 'main',
        reference: 'wait-1',
        lines: [{ sku: 'WAIT', quantity: 1 }],
      }),
    );
    // The receipt must finish while the blocker still holds the newest order's line. Only waits for
    // order lines count: a background job waiting a moment for the stock row the receipt holds is
    // not what this checks.
    await waitUntil(
      async () => {
        if (receipt.done) return true;
        const { lockWaits } = await import('../helpers/interleave.js');
        if ((await lockWaits(stack.db, 'order_lines')) > 0)
          throw new Error('the receipt waits for a line it does not need');
        return undefined;
      },
      'the receipt',
      20_000,
      150,
    );
    await blocker.commit();
    const result = await receipt.promise;
    expect(result.status).toBe(201);
    expect(result.body.filledOrders).toEqual([ids[0]]);
    const statuses = await stack.db('orders').whereIn('id', ids).orderBy('id').pluck('status');
    expect(statuses).toEqual(['confirmed', ...Array(11).fill('backordered')]);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('more waiting orders than one batch: every one that stock covers is filled, oldest first', async () => {
    const { fillBackorders } = await import('../../src/orders/backorders.js');
    await seedCatalog(stack, [], ['BATCH']);
    const ids: number[] = [];
    for (let i = 0; i < 30; i++) {
      const r = await stack.api('POST', '/api/orders', {
        externalId: `BATCH-${i}`,
        currency: 'EUR',
        lines: [{ sku: 'BATCH', quantity: 2, unitPrice: 100 }],
      });
      ids.push(r.body.id);
    }
    await stack.settle();
    // 50 units arrive (written straight to the stock row and the ledger, so that nothing fills yet).
    const sku = Number((await stack.db('skus').where({ code: 'BATCH' }).first('id')).id);
    const main = Number((await stack.db('warehouses').where({ code: 'main' }).first('id')).id);
    await stack.db('stock_levels').insert({
      sku_id: sku,
      warehouse_id: main,
      on_hand: 50,
      reserved: 0,
      updated_at: '2026-11-20 10:00:00',
    });
    await stack.db('stock_movements').insert({
      sku_id: sku,
      warehouse_id: main,
      d_on_hand: 50,
      d_reserved: 0,
      reason: 'receipt',
      ref_type: 'test',
      ref_id: 'batch-1',
      created_at: '2026-11-20 10:00:00',
    });
    // 30 orders of 2 wait: the 25 oldest are filled, 4 orders to a transaction.
    expect(await fillBackorders(stack.db, [sku], 'test', { ordersPerBatch: 4 })).toEqual(ids.slice(0, 25));
    // Nothing left to fill: a second run (as the relay's backstop would make) changes nothing.
    expect(await fillBackorders(stack.db, [sku], 'test', { ordersPerBatch: 4 })).toEqual([]);
    const statuses = await stack.db('orders').whereIn('id', ids).orderBy('id').pluck('status');
    expect(statuses).toEqual([...Array(25).fill('confirmed'), ...Array(5).fill('backordered')]);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });
});

describe('WriteBatch', () => {
  it('a guard that fails in a batch sent with the COMMIT still rolls the whole transaction back', async () => {
    await stack.db.schema.createTable('batch_probe', (t) => {
      t.integer('id').primary();
      t.integer('n').notNullable();
    });
    await stack.db('batch_probe').insert({ id: 1, n: 0 });
    await expect(
      withTransaction(stack.db, async (tx) => {
        const batch = new WriteBatch(tx);
        batch.addSql('UPDATE batch_probe SET n = n + 1 WHERE id = 1', []);
        batch.addSql('UPDATE batch_probe SET n = n + 1 WHERE id = 999', [], {
          affected: 1,
          error: () => new Error('guard failed'),
        });
        await batch.flush({ commit: true });
      }),
    ).rejects.toThrow('guard failed');
    expect((await stack.db('batch_probe').where({ id: 1 }).first()).n).toBe(0);
  });
});
