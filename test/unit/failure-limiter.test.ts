import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { clientAddress } from '../../src/http/client-address.js';
import { failingOver, memoryFailureLimiter } from '../../src/http/failure-limiter.js';

describe('the failure limiter (fixed window, in memory)', () => {
  it('refuses a client after its limit until its window ends, and no other client', async () => {
    let now = 1_000_000;
    const limiter = memoryFailureLimiter({ limit: 3, windowSeconds: 60 }, () => now);
    for (let i = 0; i < 3; i++) {
      expect(await limiter.blockedFor('a')).toBe(0);
      await limiter.fail('a');
      now += 1000;
    }
    // Three failures at 0 s, 1 s and 2 s: the window opened at the first one ends at 60 s.
    expect(await limiter.blockedFor('a')).toBe(57);
    expect(await limiter.blockedFor('b')).toBe(0);
    now += 56_500;
    expect(await limiter.blockedFor('a')).toBe(1);
    now += 500;
    expect(await limiter.blockedFor('a')).toBe(0);
    await limiter.fail('a');
    expect(await limiter.blockedFor('a')).toBe(0);
  });
});

describe('the client address', () => {
  const app = new Hono();
  app.get('/', (c) => c.text(clientAddress(c)));
  const of = async (forwardedFor?: string) =>
    (await app.request('/', { headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} })).text();

  it('is the last public address a proxy of ours saw, else the peer (local here)', async () => {
    expect(await of()).toBe('local');
    expect(await of('203.0.113.5')).toBe('203.0.113.5');
    expect(await of('198.51.100.1, 203.0.113.5')).toBe('203.0.113.5');
    expect(await of('198.51.100.1, 203.0.113.5, 10.0.0.2')).toBe('203.0.113.5');
    expect(await of('192.168.1.4, 10.0.0.2')).toBe('local');
    expect(await of('203.0.113.9, 2001:db8:1:2::5, 10.0.0.2')).toBe('2001:db8:1:2::/64');
    expect(await of('2001:db8:1:2:aaaa::7')).toBe('2001:db8:1:2::/64');
  });
});

describe('taking attempts before they are tried', () => {
  it('counts each attempt at once, refuses beyond the limit, gives back a released one', async () => {
    let now = 1_000_000;
    const limiter = memoryFailureLimiter({ limit: 2, windowSeconds: 60 }, () => now);
    expect(await Promise.all([limiter.take('a'), limiter.take('a'), limiter.take('a')])).toEqual([0, 0, 60]);
    await limiter.release('a');
    await limiter.release('a');
    expect(await limiter.take('a')).toBe(0);
    now += 60_000;
    await limiter.release('a');
    expect(await limiter.take('a')).toBe(0);
  });
});

describe('failing over to memory', () => {
  it('counts in memory while the shared store fails, and says so', async () => {
    const down = {
      blockedFor: async () => {
        throw new Error('redis down');
      },
      fail: async () => {
        throw new Error('redis down');
      },
      take: async (): Promise<number> => {
        throw new Error('redis down');
      },
      release: async () => {
        throw new Error('redis down');
      },
    };
    const errors: string[] = [];
    const limiter = failingOver(down, memoryFailureLimiter({ limit: 1, windowSeconds: 60 }), (e) =>
      errors.push(e.message),
    );
    expect(await limiter.blockedFor('a')).toBe(0);
    await limiter.fail('a');
    expect(await limiter.blockedFor('a')).toBeGreaterThan(0);
    expect(errors).toEqual(['redis down', 'redis down', 'redis down']);
  });
});
