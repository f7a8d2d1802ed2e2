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
      { code: 'main', priority: 1 },
      { code: 'spare', priority: 2 },
    ],
    ['LOW'],
  );
  const sku = await stack.api('PUT', '/api/skus/LOW', {
    name: 'Low',
    unitPrice: 100,
    currency: 'EUR',
    reorderPoint: 5,
  });
  expect(sku.status).toBe(200);
  await stack.api('POST', '/api/stock/receipts', {
    warehouse: 'main',
    reference: 'r0',
    lines: [{ sku: 'LOW', quantity: 10 }],
  });
});

afterAll(async () => {
  await stack?.close();
});

let n = 0;
async function order(quantity: number) {
  const r = await stack.api('POST', '/api/orders', orderBody(`low-${n++}`, [{ sku: 'LOW', quantity }]));
  await stack.settle();
  // The relay hands stock changes to the low-stock check.
  while ((await stack.relay.publishOutbox()) > 0) {
    // drain
  }
  return r.body.id as number;
}

const alerts = async () =>
  (await stack.api('GET', '/api/alerts?sku=LOW')).body.items as {
    available: number;
    warehouse: string | null;
  }[];

describe('low-stock alerts', () => {
  it('raise exactly one alert on crossing below, none while staying below, one more after rising and falling again', async () => {
    await order(4); // 6 left
    expect(await alerts()).toEqual([]);
    const crossing = await order(2); // 4 left: below 5
    expect((await alerts()).map((a) => a.available)).toEqual([4]);
    await order(1); // 3 left: still below, no new alert
    expect(await alerts()).toHaveLength(1);

    const detail = await stack.api('GET', `/api/orders/${crossing}`);
    expect(detail.body.warnings).toEqual([{ code: 'low_stock', sku: 'LOW', available: 4, reorderPoint: 5 }]);
    const low = await stack.api('GET', '/api/stock?below=reorder');
    expect(low.body.items).toEqual([{ sku: 'LOW', onHand: 10, reserved: 7, available: 3, reorderPoint: 5 }]);

    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: 'r1',
      lines: [{ sku: 'LOW', quantity: 10 }],
    });
    while ((await stack.relay.publishOutbox()) > 0) {
      // drain
    }
    expect(await alerts()).toHaveLength(1); // 13 available: re-armed, nothing raised
    expect((await stack.api('GET', '/api/stock?below=reorder')).body.items).toEqual([]);
    await order(9); // 4 left: crosses again
    expect((await alerts()).map((a) => a.available)).toEqual([4, 4]);
    const raised = await stack.db('outbox').where({ topic: 'alert.raised' }).count({ n: '*' });
    expect(raised).toEqual([{ n: 2 }]);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('watches a reorder point set for one warehouse on its own', async () => {
    const set = await stack.api('PUT', '/api/stock/LOW/warehouses/spare/reorder-point', { reorderPoint: 1 });
    expect(set.status).toBe(200);
    await order(1); // touches the SKU; spare holds 0 < 1
    const items = await alerts();
    expect(items[0]).toMatchObject({ warehouse: 'spare', available: 0 });
    expect(
      (await stack.api('PUT', '/api/stock/LOW/warehouses/nowhere/reorder-point', { reorderPoint: 1 })).status,
    ).toBe(422);
    expect((await stack.api('GET', '/api/stock?below=nothing')).status).toBe(400);
  });
});
