import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTime } from '../../src/db/connection.js';
import { createApp } from '../../src/http/app.js';
import { intakeOrder } from '../../src/orders/intake.js';
import { createQueues } from '../../src/queue/queues.js';
import { producerConnection } from '../../src/queue/redis.js';
import { Relay } from '../../src/queue/relay.js';
import { TEST_REDIS_URL } from '../helpers/db.js';
import { checkInvariants } from '../helpers/invariants.js';
import {
  ADMIN_TOKEN,
  createStack,
  orderBody,
  seedCatalog,
  silentLog,
  type TestStack,
} from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await createStack();
  await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['K1', 'K2', 'K3']);
  await stack.api('POST', '/api/stock/receipts', {
    warehouse: 'main',
    reference: 'start',
    lines: [
      { sku: 'K1', quantity: 500 },
      { sku: 'K2', quantity: 500 },
      { sku: 'K3', quantity: 100 },
    ],
  });
});

afterAll(async () => {
  await stack?.close();
});

describe('Redis down at intake', () => {
  it('stores the order, answers 202, and the relay queues it when Redis is back', async () => {
    // A producer pointed at a port where no Redis listens: every add fails at once.
    const deadRedis = producerConnection('redis://127.0.0.1:1', {
      retryStrategy: () => null,
      lazyConnect: true,
    });
    deadRedis.on('error', () => {});
    const deadQueues = createQueues(deadRedis, stack.prefix);
    const app = createApp({
      db: stack.db,
      log: silentLog,
      adminToken: ADMIN_TOKEN,
      enqueueOrders: (ids) => deadQueues.enqueueOrders(ids),
      checkRedis: async () => void (await deadRedis.ping()),
    });
    const res = await app.request('/api/orders', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(orderBody('while-redis-down', [{ sku: 'K1', quantity: 2 }])),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: number };
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: { redis: { ok: boolean } } }).checks.redis.ok).toBe(false);
    await deadQueues.close().catch(() => {});
    deadRedis.disconnect();

    expect((await stack.db('orders').where({ id }).first()).status).toBe('received');
    expect(await stack.queues.orders.getJob(`order-${id}`)).toBeUndefined();

    const worker = stack.startWorker(2);
    const moved = await stack.relay.requeueReceived();
    expect(moved).toBeGreaterThanOrEqual(1);
    await stack.settle();
    expect((await stack.db('orders').where({ id }).first()).status).toBe('confirmed');
    await worker.close();
  });

  it('intake never loses the order when the enqueue throws', async () => {
    const result = await intakeOrder(
      stack.db,
      async () => {
        throw new Error('connection refused');
      },
      {
        channel: 'api',
        deliveryId: 'x-1',
        topic: 'orders/create',
        rawPayload: '{}',
        order: orderBody('enqueue-fails', [{ sku: 'K1', quantity: 1 }]),
      },
    );
    expect(result).toMatchObject({ created: true, status: 'received' });
    expect(await stack.db('orders').where({ external_id: 'enqueue-fails' }).first()).toBeDefined();
  });
});

describe('outbox relay', () => {
  it('hands every unpublished row to its topic handler once and marks it published', async () => {
    const seen: number[] = [];
    const relay = new Relay({
      db: stack.db,
      log: silentLog,
      enqueueOrders: async () => {},
      graceMs: 0,
      handlers: { 'stock.changed': async (rows) => void seen.push(...rows.map((r) => r.id)) },
    });
    const unpublished = await stack
      .db('outbox')
      .whereNull('published_at')
      .where({ topic: 'stock.changed' })
      .pluck('id');
    expect(unpublished.length).toBeGreaterThan(0);
    while ((await relay.publishOutbox()) > 0) {
      // drain
    }
    expect(seen.sort((a, b) => a - b)).toEqual(unpublished.map(Number).sort((a, b) => a - b));
    expect(await stack.db('outbox').whereNull('published_at').count({ n: '*' })).toEqual([{ n: 0 }]);
    expect(await relay.publishOutbox()).toBe(0);
  });

  it('a second relay waits for the first one’s batch instead of overtaking it (messages of one order stay in order)', async () => {
    // Drain what the stack's earlier tests left, so that the two rows below are the only ones.
    const drain = new Relay({ db: stack.db, log: silentLog, enqueueOrders: async () => {}, graceMs: 0 });
    while ((await drain.publishOutbox()) > 0) {
      // drain
    }
    const now = dbTime();
    await stack.db('outbox').insert([
      { topic: 'alert.raised', payload: JSON.stringify({ step: 1 }), created_at: now },
      { topic: 'alert.raised', payload: JSON.stringify({ step: 2 }), created_at: now },
    ]);
    const handled: number[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let firstEntered = false;
    const relayOf = (block: boolean) =>
      new Relay({
        db: stack.db,
        log: silentLog,
        enqueueOrders: async () => {},
        graceMs: 0,
        batchSize: 1,
        handlers: {
          'alert.raised': async (rows) => {
            if (block) {
              firstEntered = true;
              await held;
            }
            handled.push(...rows.map((r) => Number(r.payload.step)));
            return undefined;
          },
        },
      });
    // The first relay takes step 1 and holds its batch (its transaction) open.
    const first = relayOf(true).publishOutbox();
    await waitFor(() => firstEntered, { message: 'the first relay holding step 1' });
    // The second must wait on step 1's row rather than skip it and publish step 2 first.
    const second = relayOf(false).publishOutbox();
    await waitFor(
      async () => {
        const [rows] = (await stack.db.raw(
          'SELECT COUNT(*) AS n FROM information_schema.INNODB_LOCK_WAITS',
        )) as [{ n: number }[]];
        return Number(rows[0]!.n) > 0;
      },
      { message: 'the second relay waiting for the first one’s rows' },
    );
    expect(handled).toEqual([]);
    release();
    await Promise.all([first, second]);
    expect(handled).toEqual([1, 2]);
  });
});

describe('kill -9 of the worker mid-stream', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sb-kill-'));
  const spawnWorker = (): ChildProcess =>
    spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start', '--roles', 'worker'], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      env: {
        ...process.env,
        DATABASE_URL: stack.database.url,
        REDIS_URL: TEST_REDIS_URL,
        STOCKBRIDGE_QUEUE_PREFIX: stack.prefix,
        STOCKBRIDGE_DATA_DIR: dataDir,
        STOCKBRIDGE_ADMIN_TOKEN: ADMIN_TOKEN,
        STOCKBRIDGE_JOB_LOCK_MS: '2000',
        STOCKBRIDGE_RELAY_INTERVAL_MS: '200',
        STOCKBRIDGE_RELAY_GRACE_MS: '3000',
        STOCKBRIDGE_WORKER_CONCURRENCY: '8',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });

  it('processes every acknowledged order exactly once after a restart', async () => {
    let child = spawnWorker();
    const ids: number[] = [];
    // Orders keep arriving while the worker runs; it is killed part-way through. Half of them are
    // posted before the kill, the rest only once it is done, so that the kill lands part-way
    // however fast the worker or the posting goes.
    let killed!: () => void;
    const afterKill = new Promise<void>((resolve) => (killed = resolve));
    const posting = (async () => {
      for (let i = 0; i < 400; i++) {
        if (i === 200) await afterKill;
        const sku = ['K1', 'K2', 'K3'][i % 3]!;
        const r = await stack.api(
          'POST',
          '/api/orders',
          orderBody(`kill-${i}`, [
            { sku, quantity: 1 },
            { sku: 'K1', quantity: 1 },
          ]),
        );
        expect(r.status).toBe(202);
        ids.push(r.body.id);
      }
    })();
    const processedCount = async () =>
      Number(
        (
          (await stack
            .db('orders')
            .whereIn(
              'external_id',
              Array.from({ length: 400 }, (_, i) => `kill-${i}`),
            )
            .whereNot('status', 'received')
            .count({ n: '*' })) as { n: number }[]
        )[0]!.n,
      );
    try {
      await waitFor(async () => (await processedCount()) >= 60, {
        timeoutMs: 60_000,
        intervalMs: 10,
        message: 'the worker to process 60 orders',
      });
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    } finally {
      killed();
    }
    const atKill = await processedCount();
    await posting;
    expect(atKill).toBeGreaterThanOrEqual(60);
    expect(atKill).toBeLessThanOrEqual(200);

    child = spawnWorker();
    try {
      await stack.settle(150_000);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    expect(ids).toHaveLength(400);
    const orders = await stack.db('orders').whereIn('id', ids).select('id', 'status');
    expect(orders.every((o) => o.status === 'confirmed' || o.status === 'backordered')).toBe(true);
    // Exactly once: one transition out of `received` per order, one reservation per line.
    const transitions = await stack
      .db('order_events')
      .whereIn('order_id', ids)
      .where('from_status', 'received')
      .select('order_id')
      .count({ n: '*' })
      .groupBy('order_id');
    expect(transitions).toHaveLength(400);
    expect(transitions.every((t) => Number(t.n) === 1)).toBe(true);
    const reservedByOrder = await stack
      .db('stock_movements')
      .where({ ref_type: 'order', reason: 'reservation' })
      .whereIn('ref_id', ids.map(String))
      .select('ref_id')
      .sum({ n: 'd_reserved' })
      .groupBy('ref_id');
    const linesByOrder = await stack
      .db('order_lines')
      .whereIn('order_id', ids)
      .select('order_id')
      .sum({ n: 'reserved' })
      .groupBy('order_id');
    const ledger = new Map((reservedByOrder as any[]).map((r) => [Number(r.ref_id), Number(r.n)]));
    for (const l of linesByOrder as any[]) expect(ledger.get(Number(l.order_id)) ?? 0).toBe(Number(l.n));
    expect(await checkInvariants(stack.db)).toEqual([]);
    // Two worker processes start from source and 400 orders go through: on a busy machine that takes
    // minutes; the waits above carry their own deadlines.
  }, 300_000);
});
