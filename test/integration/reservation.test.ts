import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants } from '../helpers/invariants.js';
import { createStack, orderBody, seedCatalog, type TestStack } from '../helpers/stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await createStack();
  stack.startWorker(16);
  await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['HOT']);
  const r = await stack.api('POST', '/api/stock/receipts', {
    warehouse: 'main',
    reference: 'initial',
    lines: [{ sku: 'HOT', quantity: 50 }],
  });
  expect(r.status).toBe(201);
});

afterAll(async () => {
  await stack?.close();
});

async function statusesByExternalId(): Promise<Map<string, string>> {
  const rows = await stack.db('orders').select('external_id', 'status');
  return new Map(rows.map((r) => [r.external_id, r.status]));
}

describe('200 concurrent one-unit orders against 50 on hand', () => {
  it('confirms exactly 50 and backorders 150, never overselling', async () => {
    const posts = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        stack.api(
          'POST',
          '/api/orders',
          orderBody(`c-${String(i).padStart(3, '0')}`, [{ sku: 'HOT', quantity: 1 }]),
        ),
      ),
    );
    expect(posts.every((p) => p.status === 202 && p.body.status === 'received')).toBe(true);
    await stack.settle();

    const statuses = [...(await statusesByExternalId()).values()];
    expect(statuses.filter((s) => s === 'confirmed')).toHaveLength(50);
    expect(statuses.filter((s) => s === 'backordered')).toHaveLength(150);
    const stock = await stack.api('GET', '/api/stock/HOT');
    expect(stock.body).toMatchObject({ sku: 'HOT', onHand: 50, reserved: 50, available: 0 });
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('a receipt of 30 confirms the 30 oldest backorders', async () => {
    const waitingBefore = await stack.db('orders').where({ status: 'backordered' }).orderBy('id').pluck('id');
    const r = await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: 'R-30',
      lines: [{ sku: 'HOT', quantity: 30 }],
    });
    expect(r.status).toBe(201);
    expect([...r.body.filledOrders].sort((a: number, b: number) => a - b)).toEqual(
      waitingBefore.slice(0, 30),
    );

    const confirmed = await stack.db('orders').whereIn('id', waitingBefore.slice(0, 30)).pluck('status');
    expect(new Set(confirmed)).toEqual(new Set(['confirmed']));
    const still = await stack.db('orders').whereIn('id', waitingBefore.slice(30)).pluck('status');
    expect(new Set(still)).toEqual(new Set(['backordered']));
    const stock = await stack.api('GET', '/api/stock/HOT');
    expect(stock.body).toMatchObject({ onHand: 80, reserved: 80, available: 0 });

    const detail = await stack.api('GET', `/api/orders/${waitingBefore[0]}`);
    expect(detail.body.history.map((h: { to: string }) => h.to)).toEqual([
      'received',
      'backordered',
      'confirmed',
    ]);
    expect(detail.body.lines[0]).toMatchObject({ ordered: 1, reserved: 1, backordered: 0 });
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('the same receipt posted again counts once; different lines under its reference are refused', async () => {
    const again = await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: 'R-30',
      lines: [{ sku: 'HOT', quantity: 30 }],
    });
    expect(again.status).toBe(200);
    expect(again.body.duplicate).toBe(true);
    const other = await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: 'R-30',
      lines: [{ sku: 'HOT', quantity: 31 }],
    });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('duplicate_reference');
    expect((await stack.api('GET', '/api/stock/HOT')).body.onHand).toBe(80);
  });

  it('cancelling a confirmed order frees a unit that the oldest waiting backorder takes', async () => {
    const [oldestWaiting] = await stack
      .db('orders')
      .where({ status: 'backordered' })
      .orderBy('id')
      .limit(1)
      .pluck('id');
    const [someConfirmed] = await stack
      .db('orders')
      .where({ status: 'confirmed' })
      .orderBy('id', 'desc')
      .limit(1)
      .pluck('id');
    const r = await stack.api('POST', `/api/orders/${someConfirmed}/cancel`, {
      reason: 'customer changed mind',
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'cancelled', filledOrders: [oldestWaiting] });

    const cancelled = await stack.api('GET', `/api/orders/${someConfirmed}`);
    expect(cancelled.body.lines[0]).toMatchObject({ ordered: 1, reserved: 0, cancelled: 1 });
    expect(cancelled.body.history.at(-1)).toMatchObject({
      from: 'confirmed',
      to: 'cancelled',
      reason: 'customer changed mind',
    });
    expect((await stack.api('GET', `/api/orders/${oldestWaiting}`)).body.status).toBe('confirmed');
    expect((await stack.api('GET', '/api/stock/HOT')).body).toMatchObject({
      onHand: 80,
      reserved: 80,
      available: 0,
    });

    const again = await stack.api('POST', `/api/orders/${someConfirmed}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('invalid_transition');
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('stores and reserves the same order posted 5 times concurrently once', async () => {
    const body = orderBody('dup-1', [{ sku: 'HOT', quantity: 2 }]);
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: 'R-dup',
      lines: [{ sku: 'HOT', quantity: 200 }],
    });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => stack.api('POST', '/api/orders', body)),
    );
    const ids = new Set(results.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.status === 202)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(4);
    await stack.settle();
    const [id] = [...ids];
    expect(
      await stack.db('orders').where({ channel: 'api', external_id: 'dup-1' }).count({ n: '*' }),
    ).toEqual([{ n: 1 }]);
    const movements = await stack.db('stock_movements').where({ ref_type: 'order', ref_id: String(id) });
    expect(movements.map((m) => m.d_reserved)).toEqual([2]);
    expect(
      await stack
        .db('inbound_events')
        .where({ channel: 'api', delivery_id: 'order:dup-1' })
        .count({ n: '*' }),
    ).toEqual([{ n: 1 }]);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });
});
