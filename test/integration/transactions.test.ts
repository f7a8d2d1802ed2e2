import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRetryableTxError, withTransaction } from '../../src/db/retry.js';
import { IntakeBatcher } from '../../src/orders/intake-batcher.js';
import { createStack, orderBody, type TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await createStack();
  await stack.db.schema.createTable('tx_probe', (t) => {
    t.integer('id').primary();
    t.integer('n').notNullable();
  });
  await stack.db('tx_probe').insert([
    { id: 1, n: 0 },
    { id: 2, n: 0 },
  ]);
});

afterAll(async () => {
  await stack?.close();
});

describe('withTransaction', () => {
  it('retries a real deadlock (1213) as a whole transaction until both sides commit', async () => {
    let attempts = 0;
    const retried: number[] = [];
    // Each side locks one row, waits until the other has locked its row, then wants the other's.
    // (Retries find the barrier open.) Waiting for the other side with a deadline rather than a
    // fixed time: a side that gave up waiting early would take both rows without a deadlock.
    let arrived = 0;
    const barrier = async () => {
      arrived++;
      await waitFor(() => arrived >= 2, {
        timeoutMs: 30_000,
        intervalMs: 5,
        message: 'the other side to lock its row',
      });
    };
    const side = (first: number, second: number) =>
      withTransaction(
        stack.db,
        async (tx) => {
          attempts++;
          await tx('tx_probe').where({ id: first }).increment('n', 1);
          await barrier();
          await tx('tx_probe').where({ id: second }).increment('n', 1);
        },
        { onRetry: (err) => retried.push((err as { errno: number }).errno) },
      );
    await Promise.all([side(1, 2), side(2, 1)]);
    expect(retried).toContain(1213);
    expect(attempts).toBeGreaterThanOrEqual(3);
    // Both transactions committed exactly once in the end.
    expect(await stack.db('tx_probe').orderBy('id').pluck('n')).toEqual([2, 2]);
  });

  it('classifies deadlocks and lock-wait timeouts as retryable, nothing else', () => {
    expect(isRetryableTxError({ errno: 1213 })).toBe(true);
    expect(isRetryableTxError({ errno: 1205 })).toBe(true);
    expect(isRetryableTxError({ errno: 1062 })).toBe(false);
    expect(isRetryableTxError(new Error('x'))).toBe(false);
  });
});

describe('intake in groups', () => {
  it('stores orders that arrive together in one go, with their customers, duplicates sorted out', async () => {
    for (const i of [0, 1, 2, 3]) await stack.api('PUT', `/api/customers/C${i}`, { name: `Customer ${i}` });
    const enqueued: number[] = [];
    const intake = new IntakeBatcher(stack.db, async (ids) => void enqueued.push(...ids));
    const deliveries = Array.from({ length: 30 }, (_, i) => ({
      channel: 'grouped',
      deliveryId: `g-${i % 25}`,
      topic: 'orders/create',
      rawPayload: '{}',
      order: orderBody(`grouped-${i % 25}`, [{ sku: 'ANY', quantity: 1 + (i % 3) }], {
        customer: { code: `C${i % 4}`, name: `Customer ${i % 4}` },
      }),
    }));
    // The first 20 are all new (stored as one group); the last 10 bring 5 new ones and 5 repeats.
    const first = await Promise.all(deliveries.slice(0, 20).map((d) => intake.submit(d)));
    const rest = await Promise.all(deliveries.slice(20).map((d) => intake.submit(d)));
    const results = [...first, ...rest];
    expect(first.every((r) => r.created)).toBe(true);
    expect(rest.slice(5).map((r) => r.orderId)).toEqual(first.slice(0, 5).map((r) => r.orderId));
    expect(results.filter((r) => r.created)).toHaveLength(25);
    expect(new Set(results.map((r) => r.orderId)).size).toBe(25);
    expect(enqueued.sort((a, b) => a - b)).toEqual(
      [...new Set(results.map((r) => r.orderId))].sort((a, b) => a - b),
    );
    expect(await stack.db('orders').where({ channel: 'grouped' }).count({ n: '*' })).toEqual([{ n: 25 }]);
    expect(await stack.db('inbound_events').where({ channel: 'grouped' }).count({ n: '*' })).toEqual([
      { n: 25 },
    ]);
    const customers = await stack
      .db('customers')
      .whereIn('code', ['C0', 'C1', 'C2', 'C3'])
      .select('id', 'code');
    expect(customers).toHaveLength(4);
    const grouped = await stack
      .db('orders')
      .where({ channel: 'grouped' })
      .select('external_id', 'customer_id');
    const codeOf = new Map(customers.map((c) => [Number(c.id), c.code]));
    for (const o of grouped)
      expect(codeOf.get(Number(o.customer_id))).toBe(`C${Number(o.external_id.split('-')[1]) % 4}`);
    const one = await stack.db('orders').where({ channel: 'grouped', external_id: 'grouped-5' }).first();
    const lines = await stack.db('order_lines').where({ order_id: one.id });
    expect(lines.map((l) => [l.line_no, l.sku_code, l.ordered])).toEqual([[1, 'ANY', 3]]);
    const history = await stack.db('order_events').where({ order_id: one.id });
    expect(history.map((h) => [h.from_status, h.to_status])).toEqual([[null, 'received']]);
  });
});
