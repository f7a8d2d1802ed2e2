import type { Cluster, Redis } from 'ioredis';
import {
  type FailureLimiter,
  type FailureLimitOptions,
  failingOver,
  memoryFailureLimiter,
  redisFailureLimiter,
} from '../http/failure-limiter.js';

export interface LoginLimitOptions {
  /** Failed logins per client address per window. Default 30 per 15 minutes. */
  perAddress?: FailureLimitOptions;
  /** Failed logins per e-mail address per window. Default 10 per 15 minutes. */
  perEmail?: FailureLimitOptions;
}

/**
 * Failed logins counted per client address and per e-mail address, in Redis so every api process
 * shares the count (in this process's memory while Redis fails). While either is over its limit,
 * logins are refused — a correct password too. An attempt is counted before its password is
 * checked and given back when it succeeds.
 */
export class LoginLimiter {
  readonly #address: FailureLimiter;
  readonly #email: FailureLimiter;

  constructor(
    redis: Redis | Cluster | undefined,
    prefix: string,
    {
      perAddress = { limit: 30, windowSeconds: 900 },
      perEmail = { limit: 10, windowSeconds: 900 },
    }: LoginLimitOptions = {},
    onRedisError: (err: Error) => void = () => {},
  ) {
    const make = (name: string, options: FailureLimitOptions) => {
      const memory = memoryFailureLimiter(options);
      return redis
        ? failingOver(
            redisFailureLimiter(redis, `${prefix}:login-failures:${name}`, options),
            memory,
            onRedisError,
          )
        : memory;
    };
    this.#address = make('address', perAddress);
    this.#email = make('email', perEmail);
  }

  /**
   * Counts a login attempt from this address for this e-mail BEFORE its password is checked (one
   * atomic INCR per counter, so parallel attempts cannot all pass a check made before any of them
   * failed). 0: go ahead; else the seconds to wait, and this attempt is not counted. A successful
   * login gives its count back (`succeeded`), so only failures use up the limit.
   */
  async attempt(address: string, email: string): Promise<number> {
    const e = email.trim().toLowerCase();
    const [a, m] = await Promise.all([this.#address.take(address), this.#email.take(e)]);
    if (a === 0 && m === 0) return 0;
    // Refused: neither counter keeps this attempt (a sprayer blocked on its address does not use up
    // its victims' per-e-mail limit).
    await this.succeeded(address, email);
    return Math.max(a, m);
  }

  /** The attempt counted by `attempt` succeeded: it does not count as a failure. */
  async succeeded(address: string, email: string): Promise<void> {
    await Promise.all([this.#address.release(address), this.#email.release(email.trim().toLowerCase())]);
  }
}
