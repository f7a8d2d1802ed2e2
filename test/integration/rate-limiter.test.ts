import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bucketFor, createRedisRateLimiter } from '../../connectors/http/rate-limiter.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
// setTimeout may fire a millisecond or two early relative to Date.now(); allow for it.
const TIMER_SLACK_MS = 15;

let a: Redis;
let b: Redis;
const keys: string[] = [];

function uniqueKey(): string {
  const key = `test:rate-limiter:${randomUUID()}`;
  keys.push(key);
  return key;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = Date.now();
  await fn();
  return Date.now() - start;
}

/**
 * A real sleep that also records what the limiter asked to wait. Elapsed time only grows on a busy
 * machine, so it is a fair lower bound; "it did not wait" or "it waited no longer than needed" is
 * told by the waits the limiter asked for, not by the clock.
 */
function recordedSleep(): { sleep: (ms: number) => Promise<void>; waits: number[]; total: () => number } {
  const waits: number[] = [];
  return {
    waits,
    total: () => waits.reduce((a, b) => a + b, 0),
    sleep: (ms) => {
      waits.push(ms);
      return new Promise((resolve) => setTimeout(resolve, ms));
    },
  };
}

beforeAll(async () => {
  a = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  b = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  await a.ping();
  await b.ping();
});

afterEach(async () => {
  if (keys.length > 0) await a.del(...keys.splice(0));
});

afterAll(async () => {
  await a.quit();
  await b.quit();
});

describe('createRedisRateLimiter', () => {
  it('lets the burst through at once', async () => {
    const clock = recordedSleep();
    const limiter = createRedisRateLimiter(a, uniqueKey(), { ratePerSecond: 10, burst: 5 }, clock);
    for (let i = 0; i < 5; i++) await limiter.acquire();
    expect(clock.waits).toEqual([]);
  });

  it('N acquisitions over the burst take at least (N - burst) / rate seconds', async () => {
    const clock = recordedSleep();
    const limiter = createRedisRateLimiter(a, uniqueKey(), { ratePerSecond: 20, burst: 5 }, clock);
    const ms = await timed(async () => {
      for (let i = 0; i < 15; i++) await limiter.acquire();
    });
    // 10 over the burst at 20 per second: 500 ms.
    expect(ms).toBeGreaterThanOrEqual(500 - TIMER_SLACK_MS);
    // The first five go at once; no more waiting is asked for than the rate needs (a slow machine
    // only refills the bucket meanwhile, so it asks for less). A few ms of rounding and early timers
    // per wait.
    expect(clock.waits.length).toBeLessThanOrEqual(10);
    expect(clock.total()).toBeLessThanOrEqual(500 + 5 * clock.waits.length);
  });

  it('concurrent acquisitions queue rather than all going at once', async () => {
    const limiter = createRedisRateLimiter(a, uniqueKey(), { ratePerSecond: 20, burst: 2 });
    const ms = await timed(() => Promise.all(Array.from({ length: 12 }, () => limiter.acquire())));
    expect(ms).toBeGreaterThanOrEqual(500 - TIMER_SLACK_MS);
  });

  it('two limiter instances on the same key share the budget', async () => {
    const key = uniqueKey();
    const one = createRedisRateLimiter(a, key, { ratePerSecond: 20, burst: 5 });
    const two = createRedisRateLimiter(b, key, { ratePerSecond: 20, burst: 5 });
    const ms = await timed(() =>
      Promise.all([
        (async () => {
          for (let i = 0; i < 10; i++) await one.acquire();
        })(),
        (async () => {
          for (let i = 0; i < 10; i++) await two.acquire();
        })(),
      ]),
    );
    // 20 in all, 15 over the shared burst of 5, at 20 per second: 750 ms. Separate budgets
    // would have needed only 250 ms.
    expect(ms).toBeGreaterThanOrEqual(750 - TIMER_SLACK_MS);
  });

  it('different keys do not share', async () => {
    const clock = recordedSleep();
    const one = createRedisRateLimiter(a, uniqueKey(), { ratePerSecond: 20, burst: 5 }, clock);
    const two = createRedisRateLimiter(b, uniqueKey(), { ratePerSecond: 20, burst: 5 }, clock);
    await Promise.all([
      (async () => {
        for (let i = 0; i < 5; i++) await one.acquire();
      })(),
      (async () => {
        for (let i = 0; i < 5; i++) await two.acquire();
      })(),
    ]);
    // Each key's own burst covers its five: nobody was asked to wait.
    expect(clock.waits).toEqual([]);
  });

  it('charges the cost and expires its key once the bucket is full again', async () => {
    const key = uniqueKey();
    const limiter = createRedisRateLimiter(a, key, { ratePerSecond: 100, burst: 100 });
    await limiter.acquire(100);
    const ms = await timed(() => limiter.acquire(30));
    expect(ms).toBeGreaterThanOrEqual(300 - TIMER_SLACK_MS);
    const ttl = await a.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2_300);
  });

  it('gives back units (never above the burst) and takes more, without waiting', async () => {
    const key = uniqueKey();
    const waits: number[] = [];
    const limiter = createRedisRateLimiter(
      a,
      key,
      { ratePerSecond: 1, burst: 100 },
      { sleep: async (ms) => void waits.push(ms) },
    );
    await limiter.acquire(100);
    await limiter.adjust(-70);
    await limiter.acquire(70);
    expect(waits).toEqual([]);
    await limiter.adjust(-1000);
    expect(Number(await a.hget(key, 'tokens'))).toBeLessThanOrEqual(100);
    await limiter.adjust(150);
    expect(waits).toEqual([]);
    expect(Number(await a.hget(key, 'tokens'))).toBeLessThan(0);
  });

  it('works at a rate below one unit a second: one at once, the next after 1/rate seconds', async () => {
    const waits: number[] = [];
    const limiter = createRedisRateLimiter(a, uniqueKey(), bucketFor(0.5), {
      sleep: async (ms) => void waits.push(ms),
    });
    await limiter.acquire();
    expect(waits).toEqual([]);
    await limiter.acquire();
    expect(waits).toHaveLength(1);
    // Two seconds, less the little the bucket refilled between the two calls.
    expect(waits[0]).toBeGreaterThan(1000);
    expect(waits[0]).toBeLessThanOrEqual(2000);
  });

  it('reloads its script after SCRIPT FLUSH', async () => {
    const limiter = createRedisRateLimiter(a, uniqueKey(), { ratePerSecond: 10, burst: 1 });
    await limiter.acquire();
    await a.script('FLUSH');
    await expect(limiter.acquire(0.01)).resolves.toBeUndefined();
  });
});
