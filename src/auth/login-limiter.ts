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
 * logins are refused — a correct password too.
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

  /** Seconds until a login from this address for this e-mail may be tried; 0: now. */
  async blockedFor(address: string, email: string): Promise<number> {
    const [a, e] = await Promise.all([
      this.#address.blockedFor(address),
      this.#email.blockedFor(email.trim().toLowerCase()),
    ]);
    return Math.max(a, e);
  }

  async fail(address: string, email: string): Promise<void> {
    await Promise.all([this.#address.fail(address), this.#email.fail(email.trim().toLowerCase())]);
  }
}
