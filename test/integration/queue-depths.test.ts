import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { QUEUE_COUNTS_TTL_MS, registry, watchQueues } from '../../src/metrics.js';
import { producerConnection } from '../../src/queue/redis.js';
import { TEST_REDIS_URL } from '../helpers/db.js';
import { parseMetrics, sampleValue } from '../helpers/prometheus.js';

const prefix = `sbtest-${randomBytes(4).toString('hex')}`;
let redis: Redis;
let orders: Queue;
let events: Queue;

const depth = async (queue: string, state: string) =>
  sampleValue(parseMetrics(await registry.metrics()), 'stockbridge_queue_jobs', { queue, state });

beforeAll(async () => {
  redis = producerConnection(TEST_REDIS_URL);
  await new Promise<void>((resolve) =>
    redis.status === 'ready' ? resolve() : redis.once('ready', () => resolve()),
  );
  orders = new Queue('orders', { connection: redis, prefix });
  events = new Queue('events', { connection: redis, prefix });
});

afterEach(() => {
  vi.useRealTimers();
  watchQueues([]);
});

afterAll(async () => {
  for (const q of [orders, events]) await q.obliterate({ force: true }).catch(() => {});
  await Promise.all([orders.close(), events.close()]);
  redis.disconnect();
});

describe('queue depths at scrape time', () => {
  it('reads the job counts from Redis, and reuses them for scrapes within the cache time', async () => {
    await orders.add('process', { orderId: 1 });
    await orders.add('process', { orderId: 2 });
    await orders.add('process', { orderId: 3 }, { delay: 600_000 });
    const reads = vi.spyOn(orders, 'getJobCounts');
    vi.useFakeTimers({ toFake: ['Date'] });
    watchQueues([orders, events]);

    expect(await depth('orders', 'waiting')).toBe(2);
    expect(await depth('orders', 'delayed')).toBe(1);
    expect(await depth('events', 'waiting')).toBe(0);
    expect(reads).toHaveBeenCalledTimes(1);

    await orders.add('process', { orderId: 4 });
    // Within the cache time: the same figures, no second read.
    expect(await depth('orders', 'waiting')).toBe(2);
    expect(reads).toHaveBeenCalledTimes(1);

    vi.setSystemTime(Date.now() + QUEUE_COUNTS_TTL_MS + 1);
    expect(await depth('orders', 'waiting')).toBe(3);
    expect(reads).toHaveBeenCalledTimes(2);
  });

  it('leaves the depths out, and still answers, when Redis cannot be reached', async () => {
    const down = producerConnection('redis://127.0.0.1:1', { retryStrategy: () => null });
    down.on('error', () => {});
    const unreachable = new Queue('orders', { connection: down, prefix });
    unreachable.on('error', () => {});
    try {
      watchQueues([unreachable]);
      const samples = parseMetrics(await registry.metrics());
      expect(samples.filter((s) => s.name === 'stockbridge_queue_jobs')).toEqual([]);
      expect(sampleValue(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    } finally {
      await unreachable.close().catch(() => {});
      down.disconnect();
    }
  });
});
