import { describe, expect, it } from 'vitest';
import { bucketFor, createMemoryRateLimiter } from '../../../connectors/http/rate-limiter.js';

function fakeClock() {
  let t = 1_000_000;
  const waits: number[] = [];
  return {
    waits,
    now: () => t,
    sleep: async (ms: number) => {
      waits.push(ms);
      t += ms;
    },
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe('createMemoryRateLimiter', () => {
  it('lets a burst through at once, then paces at the rate', async () => {
    const clock = fakeClock();
    const limiter = createMemoryRateLimiter({ ratePerSecond: 10, burst: 3 }, clock);
    for (let i = 0; i < 5; i++) await limiter.acquire();
    // 3 free, then one every 100 ms.
    expect(clock.waits).toEqual([100, 100]);
  });

  it('refills while idle, never above the burst', async () => {
    const clock = fakeClock();
    const limiter = createMemoryRateLimiter({ ratePerSecond: 10, burst: 2 }, clock);
    await limiter.acquire(2);
    clock.advance(10_000);
    await limiter.acquire(2);
    expect(clock.waits).toEqual([]);
    await limiter.acquire(1);
    expect(clock.waits).toEqual([100]);
  });

  it('charges the cost', async () => {
    const clock = fakeClock();
    const limiter = createMemoryRateLimiter({ ratePerSecond: 100, burst: 100 }, clock);
    await limiter.acquire(100);
    await limiter.acquire(50);
    expect(clock.waits).toEqual([500]);
  });

  it('gives back what a request did not cost (never above the burst), and takes more without waiting', async () => {
    const clock = fakeClock();
    const limiter = createMemoryRateLimiter({ ratePerSecond: 10, burst: 100 }, clock);
    await limiter.acquire(100);
    await limiter.adjust(-60);
    await limiter.acquire(60);
    expect(clock.waits).toEqual([]);
    await limiter.adjust(-1000);
    await limiter.acquire(100);
    expect(clock.waits).toEqual([]);
    await limiter.adjust(20);
    expect(clock.waits).toEqual([]);
    await limiter.acquire(1);
    // 20 units of debt plus this one, at 10 a second.
    expect(clock.waits).toEqual([2100]);
  });

  it('a rate below one a second lets one request through, then one every 1/rate seconds', async () => {
    const clock = fakeClock();
    const limiter = createMemoryRateLimiter(bucketFor(0.5), clock);
    await limiter.acquire();
    await limiter.acquire();
    expect(clock.waits).toEqual([2000]);
    expect(bucketFor(0.5, 3)).toEqual({ ratePerSecond: 0.5, burst: 3 });
    expect(bucketFor(5)).toEqual({ ratePerSecond: 5, burst: 5 });
  });

  it('rejects nonsense options', () => {
    expect(() => createMemoryRateLimiter({ ratePerSecond: 0, burst: 1 })).toThrow(RangeError);
    expect(() => createMemoryRateLimiter({ ratePerSecond: 1, burst: 0 })).toThrow(RangeError);
  });
});
