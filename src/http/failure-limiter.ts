import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/**
 * Counts a client's failures (wrong status links) in a fixed window and says when the client has
 * had too many. The window starts at the client's first failure and lasts `windowSeconds`.
 */
export interface FailureLimiter {
  /** Seconds until the client may try again (its window ends), or 0 when it may now. */
  blockedFor(client: string): Promise<number>;
  /** Counts one failure of the client. */
  fail(client: string): Promise<void>;
  /**
   * Counts an attempt before it is tried, in one step (so parallel attempts cannot all pass one
   * check): 0 when this attempt is within the limit, else the seconds until the window ends.
   */
  take(client: string): Promise<number>;
  /** Takes back one attempt counted by `take` (it succeeded, or it was refused by another limit). */
  release(client: string): Promise<void>;
}

export interface FailureLimitOptions {
  /** Failures a client may have per window; the next request is refused. Default 20. */
  limit?: number;
  /** Length of the window in seconds. Default 900 (15 minutes). */
  windowSeconds?: number;
}

const DEFAULT_LIMIT = 20;
const DEFAULT_WINDOW_SECONDS = 900;

// Client addresses are personal data: Redis keeps a hash of them, not the address.
const clientKey = (client: string) => createHash('sha256').update(client).digest('base64url').slice(0, 22);

/**
 * Failures counted in Redis, shared by every api process: one key per client (`INCR`, expiring at
 * the end of the window, set when the key is made).
 */
export function redisFailureLimiter(
  redis: Redis | Cluster,
  keyPrefix: string,
  { limit = DEFAULT_LIMIT, windowSeconds = DEFAULT_WINDOW_SECONDS }: FailureLimitOptions = {},
): FailureLimiter {
  const key = (client: string) => `${keyPrefix}:${clientKey(client)}`;
  return {
    async blockedFor(client) {
      const k = key(client);
      const [[, count], [, ttl]] = (await redis.multi().get(k).pttl(k).exec()) as [
        [unknown, string | null],
        [unknown, number],
      ];
      if (Number(count ?? 0) < limit) return 0;
      return ttl > 0 ? Math.ceil(ttl / 1000) : windowSeconds;
    },
    async fail(client) {
      const k = key(client);
      await redis.multi().set(k, 0, 'EX', windowSeconds, 'NX').incr(k).exec();
    },
    async take(client) {
      const k = key(client);
      const [, [, count], [, ttl]] = (await redis
        .multi()
        .set(k, 0, 'EX', windowSeconds, 'NX')
        .incr(k)
        .pttl(k)
        .exec()) as [unknown, [unknown, number], [unknown, number]];
      if (count <= limit) return 0;
      return ttl > 0 ? Math.ceil(ttl / 1000) : windowSeconds;
    },
    async release(client) {
      // Only an existing count goes down: a window that ended stays ended (no key without expiry).
      await redis.eval(
        "if redis.call('exists', KEYS[1]) == 1 and tonumber(redis.call('get', KEYS[1])) > 0 then return redis.call('decr', KEYS[1]) end return 0",
        1,
        key(client),
      );
    },
  };
}

/** Failures counted in this process only (no Redis): for tests and single-process setups. */
export function memoryFailureLimiter(
  { limit = DEFAULT_LIMIT, windowSeconds = DEFAULT_WINDOW_SECONDS }: FailureLimitOptions = {},
  now: () => number = Date.now,
): FailureLimiter {
  const windows = new Map<string, { count: number; endsAt: number }>();
  const current = (client: string) => {
    const w = windows.get(client);
    if (w && w.endsAt <= now()) {
      windows.delete(client);
      return undefined;
    }
    return w;
  };
  const count = (client: string) => {
    if (windows.size > 10_000) for (const c of [...windows.keys()]) current(c);
    let w = current(client);
    if (w) w.count += 1;
    else {
      w = { count: 1, endsAt: now() + windowSeconds * 1000 };
      windows.set(client, w);
    }
    return w;
  };
  return {
    async blockedFor(client) {
      const w = current(client);
      return w && w.count >= limit ? Math.ceil((w.endsAt - now()) / 1000) : 0;
    },
    async fail(client) {
      count(client);
    },
    async take(client) {
      const w = count(client);
      return w.count <= limit ? 0 : Math.max(1, Math.ceil((w.endsAt - now()) / 1000));
    },
    async release(client) {
      const w = current(client);
      if (w && w.count > 0) w.count -= 1;
    },
  };
}

/**
 * `primary` (Redis) while it answers, `fallback` (this process's memory) when it fails: a Redis
 * outage costs the limit its sharing between processes, never the page itself.
 */
export function failingOver(
  primary: FailureLimiter,
  fallback: FailureLimiter,
  onError: (err: Error) => void = () => {},
): FailureLimiter {
  const either =
    <K extends keyof FailureLimiter>(method: K) =>
    async (client: string) => {
      try {
        return await primary[method](client);
      } catch (err) {
        onError(err as Error);
        return fallback[method](client);
      }
    };
  return {
    blockedFor: either('blockedFor'),
    fail: either('fail'),
    take: either('take'),
    release: either('release'),
  } as FailureLimiter;
}
