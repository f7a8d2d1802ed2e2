import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateLatest, migrateRollback, pendingMigrations } from '../../src/db/migrate.js';
import { checkInvariants } from '../helpers/invariants.js';
import { createStack, orderBody, seedCatalog, type TestStack } from '../helpers/stack.js';

/** The same core flows on the embedded SQLite default that `npm start` uses without DATABASE_URL. */
describe.each([
  ['SQLite (embedded default)', true],
  ['MariaDB', false],
])('core flows on %s', (_name, sqlite) => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await createStack({ sqlite });
    stack.startWorker(4);
    await seedCatalog(
      stack,
      [
        { code: 'a', priority: 1 },
        { code: 'b', priority: 2 },
      ],
      ['S1', 'S2'],
    );
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('reserves, backorders, fills on receipt, ships, cancels and keeps every invariant', async () => {
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'a',
      reference: 'r1',
      lines: [{ sku: 'S1', quantity: 4 }],
    });
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'b',
      reference: 'r1',
      lines: [{ sku: 'S1', quantity: 2 }],
    });
    const posts = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        stack.api('POST', '/api/orders', orderBody(`o${i}`, [{ sku: 'S1', quantity: 1 }])),
      ),
    );
    expect(posts.every((p) => p.status === 202)).toBe(true);
    await stack.settle();
    const statuses = await stack.db('orders').orderBy('id').pluck('status');
    expect(statuses.filter((s: string) => s === 'confirmed')).toHaveLength(6);
    expect(statuses.filter((s: string) => s === 'backordered')).toHaveLength(4);

    const receipt = await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'b',
      reference: 'r2',
      lines: [{ sku: 'S1', quantity: 3 }],
    });
    expect(receipt.body.filledOrders).toHaveLength(3);
    const first = posts[0]!.body.id;
    const shipped = await stack.api('POST', `/api/orders/${first}/shipments`, {});
    expect(shipped.body.status).toBe('shipped');
    const waiting = await stack.db('orders').where({ status: 'backordered' }).pluck('id');
    expect(waiting).toHaveLength(1);
    const confirmed = await stack
      .db('orders')
      .where({ status: 'confirmed' })
      .orderBy('id', 'desc')
      .first('id');
    const cancel = await stack.api('POST', `/api/orders/${confirmed.id}/cancel`);
    expect(cancel.body.filledOrders).toEqual(waiting.map(Number));
    expect((await stack.api('GET', '/api/stock/S1')).body).toMatchObject({
      onHand: 8,
      reserved: 8,
      available: 0,
    });
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('holds an unknown SKU and answers duplicates with the same order', async () => {
    const a = await stack.api('POST', '/api/orders', orderBody('hold-1', [{ sku: 'NOPE', quantity: 1 }]));
    const b = await stack.api('POST', '/api/orders', orderBody('hold-1', [{ sku: 'NOPE', quantity: 1 }]));
    expect(b.status).toBe(200);
    expect(b.body.id).toBe(a.body.id);
    await stack.settle();
    expect((await stack.api('GET', `/api/orders/${a.body.id}`)).body).toMatchObject({
      status: 'on_hold',
      holdReason: 'unknown_sku',
    });
  });

  it('migrations run down and up again', async () => {
    await stack.queues.orders.pause();
    const rolledBack = await migrateRollback(stack.db, true);
    expect(rolledBack.length).toBeGreaterThan(0);
    expect((await pendingMigrations(stack.db)).length).toBe(rolledBack.length);
    expect(await migrateLatest(stack.db)).toEqual(rolledBack.slice().reverse());
    expect(await pendingMigrations(stack.db)).toEqual([]);
    await stack.queues.orders.resume();
  });
});
