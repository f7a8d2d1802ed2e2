import { randomBytes } from 'node:crypto';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { ChannelService } from '../../src/channels/channel-service.js';
import type { Db } from '../../src/db/connection.js';
import { createApp } from '../../src/http/app.js';
import { fillBackorders } from '../../src/orders/backorders.js';
import { outboxHandlers } from '../../src/outbox/handlers.js';
import { startEventWorker } from '../../src/queue/event-worker.js';
import type { IntakePriority } from '../../src/queue/intake-priority.js';
import { startOrderWorker } from '../../src/queue/order-worker.js';
import { createQueues, type Queues } from '../../src/queue/queues.js';
import { producerConnection, workerConnection } from '../../src/queue/redis.js';
import { Relay } from '../../src/queue/relay.js';
import { createSqliteDatabase, createTestDatabase, TEST_REDIS_URL, type TestDatabase } from './db.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/** Stock changes within this window reach a channel as one push (the daemon's default). */
export const PUSH_DEBOUNCE_MS = 1000;

export interface TestStack {
  database: TestDatabase;
  db: Db;
  prefix: string;
  queues: Queues;
  relay: Relay;
  app: ReturnType<typeof createApp>;
  /** Channel administration, webhooks, pulls (HTTP with short backoff; rate limits in Redis). */
  channels: ChannelService;
  /** The key channel secrets are sealed with in this stack. */
  secretKey: Buffer;
  /** Calls the Hono app the way a client would, with the admin token unless `token: null`. */
  api(
    method: string,
    path: string,
    body?: unknown,
    options?: { token?: string | null; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any }>;
  /** Order and event workers; `priority`: the event worker's applying gives way to intake (as in a one-process daemon). */
  startWorker(concurrency?: number, options?: { priority?: IntakePriority }): Worker;
  /** Waits until no order is `received` and the order queue is empty. */
  settle(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export const silentLog = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** A database, a queue prefix, the HTTP app and (on demand) workers, all private to one test file. */
export async function createStack(options: { poolMax?: number; sqlite?: boolean } = {}): Promise<TestStack> {
  const database = options.sqlite ? await createSqliteDatabase() : await createTestDatabase(options);
  const { db } = database;
  const prefix = `sbtest-${randomBytes(4).toString('hex')}`;
  const producer: Redis = producerConnection(TEST_REDIS_URL);
  await new Promise<void>((resolve) =>
    producer.status === 'ready' ? resolve() : producer.once('ready', () => resolve()),
  );
  const queues = createQueues(producer, prefix);
  const enqueueOrders = (ids: number[]) => queues.enqueueOrders(ids);
  const secretKey = randomBytes(32);
  const channels = new ChannelService({
    db,
    log: silentLog,
    secretKey,
    publicUrl: 'https://stockbridge.example.com',
    redis: producer,
    prefix,
    enqueueOrders,
    enqueueEvents: (ids) => queues.enqueueEvents(ids),
    http: { minDelayMs: 5, maxDelayMs: 20, retries: 3, timeoutMs: 5000 },
    requestPush: (channelId) => queues.enqueuePush(channelId, PUSH_DEBOUNCE_MS),
  });
  const app = createApp({
    db,
    log: silentLog,
    adminToken: ADMIN_TOKEN,
    enqueueOrders,
    channels,
    secretKey,
    statusPage: { secretKey, publicUrl: 'https://stockbridge.example.com', redis: producer, prefix },
    checkRedis: async () => void (await producer.ping()),
  });
  const relay = new Relay({
    db,
    log: silentLog,
    enqueueOrders,
    enqueueEvents: (ids) => queues.enqueueEvents(ids),
    graceMs: 0,
    handlers: outboxHandlers({
      requestPush: async (ids) => {
        for (const id of ids) await queues.enqueuePush(id, PUSH_DEBOUNCE_MS);
      },
      fillBackorders: (skuIds) => fillBackorders(db, skuIds, 'relay'),
      requestFulfilment: (channelId, shipmentId) => queues.enqueueFulfilment(channelId, shipmentId),
      requestCancellation: (channelId, orderId) => queues.enqueueCancellation(channelId, orderId),
    }),
  });
  const workers: Worker[] = [];
  const connections: Redis[] = [producer];

  const stack: TestStack = {
    database,
    db,
    prefix,
    queues,
    relay,
    app,
    channels,
    secretKey,
    async api(method, path, body, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      const token = opts.token === undefined ? ADMIN_TOKEN : opts.token;
      if (token) headers.authorization = `Bearer ${token}`;
      let payload: string | undefined;
      if (body !== undefined) {
        payload = typeof body === 'string' ? body : JSON.stringify(body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await app.request(path, { method, headers, body: payload });
      return { status: res.status, body: await jsonOrText(res) };
    },
    startWorker(concurrency = 16, { priority } = {}) {
      const conn = workerConnection(TEST_REDIS_URL);
      connections.push(conn);
      const w = startOrderWorker({
        db,
        connection: conn,
        prefix,
        log: silentLog,
        concurrency,
        lockDurationMs: 30_000,
      });
      workers.push(w);
      // Webhook events are applied by their own worker, as in the daemon's worker role.
      workers.push(
        startEventWorker({ connection: conn, prefix, channels, log: silentLog, concurrency, priority }),
      );
      return w;
    },
    async settle(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const [row] = (await db('orders').where('status', 'received').count({ n: '*' })) as { n: number }[];
        const n = Number(row?.n ?? 0);
        const counts = await queues.orders.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        const eventCounts = await queues.events.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        const pending = [...Object.values(counts), ...Object.values(eventCounts)].reduce((a, b) => a + b, 0);
        if (n === 0 && pending === 0) return;
        if (Date.now() > deadline)
          throw new Error(`not settled: ${n} orders received, ${pending} jobs pending`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await queues.orders.obliterate({ force: true }).catch(() => {});
      await queues.maintenance.obliterate({ force: true }).catch(() => {});
      await queues.channels.obliterate({ force: true }).catch(() => {});
      await queues.events.obliterate({ force: true }).catch(() => {});
      await queues.close();
      for (const c of connections) c.disconnect();
      await database.drop();
    },
  };
  return stack;
}

/** Sets up warehouses and SKUs through the API. */
export async function seedCatalog(
  stack: TestStack,
  warehouses: { code: string; priority: number }[],
  skus: string[],
): Promise<void> {
  for (const w of warehouses) {
    const r = await stack.api('PUT', `/api/warehouses/${w.code}`, { name: w.code, priority: w.priority });
    if (r.status >= 300) throw new Error(`seed warehouse: ${JSON.stringify(r.body)}`);
  }
  for (const s of skus) {
    const r = await stack.api('PUT', `/api/skus/${s}`, {
      name: `SKU ${s}`,
      unitPrice: 1000,
      currency: 'EUR',
    });
    if (r.status >= 300) throw new Error(`seed sku: ${JSON.stringify(r.body)}`);
  }
}

export const orderBody = (
  externalId: string,
  lines: { sku: string; quantity: number }[],
  extra: Record<string, unknown> = {},
) => ({
  externalId,
  currency: 'EUR',
  lines: lines.map((l) => ({ ...l, unitPrice: 1000 })),
  ...extra,
});

/** An answer's body: parsed JSON, or the text itself when it is not JSON. */
export async function jsonOrText(res: Response): Promise<any> {
  const text = await res.text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text;
  }
}
