import { Redis, type RedisOptions } from 'ioredis';
import { redactUrl } from '../config.js';

/**
 * A connection for BullMQ workers: blocking commands need `maxRetriesPerRequest: null`, and the
 * client keeps reconnecting while Redis is away.
 */
export function workerConnection(url: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...extra });
}

/**
 * A connection for producers (the API adding jobs): fails fast instead of queueing commands while
 * Redis is down, so that a request is answered from MySQL alone and the relay enqueues later.
 */
export function producerConnection(url: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    ...extra,
  });
}

export class RedisUnreachableError extends Error {
  override name = 'RedisUnreachableError';
}

/**
 * Checks once, with a time limit, that Redis answers. Used at start-up so that a missing Redis
 * stops the daemon with a useful message instead of a hang or a reconnect loop.
 */
export async function assertRedisReachable(url: string, timeoutMs = 3000): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs),
      ),
    ]);
  } catch (err) {
    throw new RedisUnreachableError(
      `Redis is not reachable at ${redactUrl(url)} (${(err as Error).message}).\n` +
        'Start one locally with:\n' +
        '  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no\n' +
        'or point REDIS_URL at a running Redis (e.g. REDIS_URL=redis://host:6379).',
    );
  } finally {
    client.disconnect();
  }
}
