import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/** Something that lets a request go when the channel's budget allows it. */
export interface RateLimiter {
  /** Resolves when `cost` units (default 1) may be spent; the units are taken on return. */
  acquire(cost?: number): Promise<void>;
  /**
   * Takes `units` more (positive) or gives `-units` back (negative) without waiting: a request
   * charged its requested cost learns what it really cost. The bucket never holds more than its burst.
   */
  adjust(units: number): Promise<void>;
}

export interface TokenBucketOptions {
  /** Units the bucket regains per second (the sustained rate). Must be > 0. */
  ratePerSecond: number;
  /**
   * Units the bucket holds when full: how many may go at once after a quiet spell. Must be >= 1
   * (one request must fit); see `bucketFor` for a rate below one per second.
   */
  burst: number;
}

/**
 * The bucket for a sustained rate and an optional burst: the burst defaults to one second's worth,
 * and is at least 1, so that a rate below one request per second (one every few seconds) lets one
 * request through at a time instead of none.
 */
export function bucketFor(ratePerSecond: number, burst?: number): TokenBucketOptions {
  return { ratePerSecond, burst: Math.max(1, burst ?? ratePerSecond) };
}

export interface RateLimiterTestHooks {
  /** Waits the given milliseconds. Default: setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  /** Epoch milliseconds (memory limiter only). Default: Date.now. */
  now?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function checkOptions({ ratePerSecond, burst }: TokenBucketOptions): void {
  if (!(Number.isFinite(ratePerSecond) && ratePerSecond > 0)) {
    throw new RangeError(`ratePerSecond must be a positive number, got ${ratePerSecond}`);
  }
  if (!(Number.isFinite(burst) && burst >= 1)) {
    throw new RangeError(`burst must be at least 1, got ${burst}`);
  }
}

function checkCost(cost: number): void {
  if (!(Number.isFinite(cost) && cost >= 0)) throw new RangeError(`cost must be >= 0, got ${cost}`);
}

/*
 * Atomic refill + take, on the Redis server's clock so that every process agrees on time.
 * The bucket may go into debt: a caller takes its units at once and is told how long to wait
 * (milliseconds) until the debt is paid back. Callers therefore queue in arrival order and each
 * needs exactly one round trip. The key expires once the bucket would be full again.
 *
 * KEYS[1] bucket key; ARGV[1] rate (units/second), ARGV[2] burst (units), ARGV[3] cost (units;
 * negative gives units back, never above the burst).
 * Returns the milliseconds to wait (0 = go now).
 */
const TOKEN_BUCKET_LUA = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate / 1000)
  ts = now
end
tokens = math.min(burst, tokens - cost)
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
if tokens >= 0 then
  return 0
end
return math.ceil(-tokens * 1000 / rate)
`;

const TOKEN_BUCKET_SHA = createHash('sha1').update(TOKEN_BUCKET_LUA).digest('hex');

/**
 * A token bucket in Redis, shared by every process that uses the same `key` (all workers calling
 * one channel). One small Lua script per acquisition: refill by elapsed time, take `cost`, answer
 * the wait. Costs are in the same units as `ratePerSecond` (requests, or e.g. Shopify cost points). *
 * The script touches its one key only, so it runs unchanged on a Redis Cluster (the client routes
 * it by the key); callers put the queue prefix in front, which on a cluster is a hash tag.
 */
export function createRedisRateLimiter(
  redis: Redis | Cluster,
  key: string,
  options: TokenBucketOptions,
  hooks: Pick<RateLimiterTestHooks, 'sleep'> = {},
): RateLimiter {
  checkOptions(options);
  const sleep = hooks.sleep ?? defaultSleep;
  const args = (cost: number) => [String(options.ratePerSecond), String(options.burst), String(cost)];

  async function take(cost: number): Promise<number> {
    try {
      return Number(await redis.evalsha(TOKEN_BUCKET_SHA, 1, key, ...args(cost)));
    } catch (err) {
      if (!(err instanceof Error) || !err.message.includes('NOSCRIPT')) throw err;
      return Number(await redis.eval(TOKEN_BUCKET_LUA, 1, key, ...args(cost)));
    }
  }

  return {
    async acquire(cost = 1) {
      checkCost(cost);
      if (cost === 0) return;
      const waitMs = await take(cost);
      if (waitMs > 0) await sleep(waitMs);
    },
    async adjust(units) {
      if (!Number.isFinite(units)) throw new RangeError(`units must be a number, got ${units}`);
      if (units !== 0) await take(units);
    },
  };
}

/**
 * The same token bucket in this process's memory: for unit tests and single-process use. Not
 * shared between processes.
 */
export function createMemoryRateLimiter(
  options: TokenBucketOptions,
  hooks: RateLimiterTestHooks = {},
): RateLimiter {
  checkOptions(options);
  const sleep = hooks.sleep ?? defaultSleep;
  const now = hooks.now ?? Date.now;
  let tokens = options.burst;
  let ts = now();

  const refill = () => {
    const t = now();
    if (t > ts) {
      tokens = Math.min(options.burst, tokens + ((t - ts) * options.ratePerSecond) / 1000);
      ts = t;
    }
  };

  return {
    async acquire(cost = 1) {
      checkCost(cost);
      if (cost === 0) return;
      refill();
      tokens -= cost;
      if (tokens < 0) await sleep(Math.ceil((-tokens * 1000) / options.ratePerSecond));
    },
    async adjust(units) {
      if (!Number.isFinite(units)) throw new RangeError(`units must be a number, got ${units}`);
      refill();
      tokens = Math.min(options.burst, tokens - units);
    },
  };
}
