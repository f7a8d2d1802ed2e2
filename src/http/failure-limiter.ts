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
  return {
    async blockedFor(client) {
      const w = current(client);
      return w && w.count >= limit ? Math.ceil((w.endsAt - now()) / 1000) : 0;
    },
    async fail(client) {
      if (windows.size > 10_000) for (const c of [...windows.keys()]) current(c);
      const w = current(client);
      if (w) w.count += 1;
      else windows.set(client, { count: 1, endsAt: now() + windowSeconds * 1000 });
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
  return { blockedFor: either('blockedFor'), fail: either('fail') } as FailureLimiter;
}
