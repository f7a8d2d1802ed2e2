import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordOrder } from '../../src/orders/intake.js';
import { OrderBatcher } from '../../src/orders/order-batcher.js';
import { processOrders } from '../../src/orders/processing.js';
import { checkInvariants } from '../helpers/invariants.js';
import { createStack, orderBody, seedCatalog, type TestStack } from '../helpers/stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await createStack();
  await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['P1', 'P2']);
  await stack.api('POST', '/api/stock/receipts', {
    warehouse: 'main',
    reference: 'r',
    lines: [
      { sku: 'P1', quantity: 3 },
      { sku: 'P2', quantity: 100 },
    ],
  });
});

afterAll(async () => {
  await stack?.close();
});

const take = async (externalId: string, lines: { sku: string; quantity: number }[]) =>
  (
    await recordOrder(stack.db, {
      channel: 'batch',
      deliveryId: externalId,
      topic: 'orders/create',
      rawPayload: '{}',
      order: orderBody(externalId, lines),
    })
  ).orderId;

describe('processing orders in groups', () => {
  it('allocates a group oldest first against shared stock, holds bad orders, skips processed ones', async () => {
    const a = await take('g-a', [{ sku: 'P1', quantity: 2 }]);
    const b = await take('g-b', [
      { sku: 'P1', quantity: 2 },
      { sku: 'P2', quantity: 1 },
    ]);
    const c = await take('g-c', [{ sku: 'NOPE', quantity: 1 }]);
    const results = await processOrders(stack.db, [c, b, a]);
    expect(results.map((r) => [r.orderId, r.status])).toEqual([
      [c, 'on_hold'],
      [b, 'backordered'],
      [a, 'confirmed'],
    ]);
    const lineB = await stack.db('order_lines').where({ order_id: b, sku_code: 'P1' }).first();
    expect([lineB.reserved, lineB.backordered]).toEqual([1, 1]);
    const again = await processOrders(stack.db, [a, b]);
    expect(again.every((r) => r.changed === false)).toBe(true);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('one order that breaks its group does not stop the others', async () => {
    const good1 = await take('p-good-1', [{ sku: 'P2', quantity: 1 }]);
    const poison = await take('p-poison', [{ sku: 'P2', quantity: 1 }]);
    const good2 = await take('p-good-2', [{ sku: 'P2', quantity: 1 }]);
    // Unreadable stored data makes this order's processing throw.
    await stack.db('orders').where({ id: poison }).update({ intake_problems: '{not json' });
    const batcher = new OrderBatcher(stack.db);
    const outcomes = await Promise.allSettled([good1, poison, good2].map((id) => batcher.submit(id)));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await stack.db('orders').whereIn('id', [good1, good2]).pluck('status')).toEqual([
      'confirmed',
      'confirmed',
    ]);
    expect((await stack.db('orders').where({ id: poison }).first()).status).toBe('received');
    await stack.db('orders').where({ id: poison }).update({ intake_problems: null });
    expect((await batcher.submit(poison)).status).toBe('confirmed');
    expect(await checkInvariants(stack.db)).toEqual([]);
  });
});
