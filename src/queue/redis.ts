import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { type Config, parseRedisNode, redactUrl } from '../config.js';

/** One Redis (`redis://` URL) or the seed nodes of a Redis Cluster. */
export type RedisTarget = string | { cluster: readonly string[] };

/** What the daemon talks to: a single Redis, or a Redis Cluster (same commands, routed by key). */
export type RedisConnection = Redis | Cluster;

/** The Redis the configuration names: the cluster when `REDIS_CLUSTER_NODES` is set. */
export function redisTargetOf(config: Pick<Config, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>): RedisTarget {
  return config.REDIS_CLUSTER_NODES?.length ? { cluster: config.REDIS_CLUSTER_NODES } : config.REDIS_URL;
}

/** Where a target points, without passwords, for logs and error messages. */
function describeRedisTarget(target: RedisTarget): string {
  if (typeof target === 'string') return redactUrl(target);
  return `cluster ${target.cluster.map((n) => redactUrl(/^rediss?:\/\//.test(n) ? n : `redis://${n}`)).join(',')}`;
}

/**
 * A cluster client: seed nodes, and per-node options (credentials and TLS of the first node that
 * gives them, plus `perNode`). `cluster` options apply to the cluster client itself.
 */
function clusterClient(
  nodes: readonly string[],
  perNode: RedisOptions,
  cluster: Omit<ClusterOptions, 'redisOptions'> = {},
): Cluster {
  const parsed = nodes.map((n) => {
    const node = parseRedisNode(n);
    if (!node) throw new Error(`not a Redis node: ${describeRedisTarget({ cluster: [n] })}`);
    return node;
  });
  const auth = parsed.find((n) => n.password !== undefined || n.username !== undefined);
  const tls = parsed.some((n) => n.tls);
  return new Cluster(
    parsed.map(({ host, port }) => ({ host, port })),
    {
      ...cluster,
      redisOptions: {
        ...(auth?.username ? { username: auth.username } : {}),
        ...(auth?.password ? { password: auth.password } : {}),
        ...(tls ? { tls: {} } : {}),
        ...perNode,
      },
    },
  );
}

/**
 * A connection for BullMQ workers: blocking commands need `maxRetriesPerRequest: null`, and the
 * client keeps reconnecting while Redis is away.
 */
export function workerConnection(target: string, extra?: RedisOptions): Redis;
export function workerConnection(target: RedisTarget, extra?: RedisOptions): RedisConnection;
export function workerConnection(target: RedisTarget, extra: RedisOptions = {}): RedisConnection {
  const options: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true, ...extra };
  if (typeof target === 'string') return new Redis(target, options);
  return clusterClient(target.cluster, options);
}

/**
 * A connection for producers (the API adding jobs): fails fast instead of queueing commands while
 * Redis is down, so that a request is answered from MySQL alone and the relay enqueues later.
 */
export function producerConnection(target: string, extra?: RedisOptions): Redis;
export function producerConnection(target: RedisTarget, extra?: RedisOptions): RedisConnection;
export function producerConnection(target: RedisTarget, extra: RedisOptions = {}): RedisConnection {
  const options: RedisOptions = {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    ...extra,
  };
  if (typeof target === 'string') return new Redis(target, options);
  // The cluster client has an offline queue of its own, used while it learns the slots.
  return clusterClient(target.cluster, options, { enableOfflineQueue: false });
}

/**
 * Resolves true once the connection can take commands (a cluster: once it knows the slots), or
 * false after `timeoutMs` (producers fail fast until then; the relay catches up).
 */
export function redisReady(connection: RedisConnection, timeoutMs = 5000): Promise<boolean> {
  if (connection.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      connection.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    connection.once('ready', onReady);
  });
}

export class RedisUnreachableError extends Error {
  override name = 'RedisUnreachableError';
}

/**
 * Checks once, with a time limit, that Redis answers (a cluster: that it reports
 * `cluster_state:ok`). Used at start-up so that a missing Redis stops the daemon with a useful
 * message instead of a hang or a reconnect loop.
 */
export async function assertRedisReachable(target: RedisTarget, timeoutMs = 3000): Promise<void> {
  const once = { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: timeoutMs };
  const client: RedisConnection =
    typeof target === 'string'
      ? new Redis(target, { ...once, enableOfflineQueue: false, retryStrategy: () => null })
      : clusterClient(
          target.cluster,
          { ...once, retryStrategy: () => null },
          {
            lazyConnect: true,
            enableOfflineQueue: false,
            clusterRetryStrategy: () => null,
          },
        );
  client.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        await client.connect();
        if (client instanceof Cluster) {
          const info = String(await client.cluster('INFO'));
          if (!/cluster_state:ok/.test(info)) throw new Error('the cluster does not report cluster_state:ok');
        } else {
          await client.ping();
        }
      })(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    throw new RedisUnreachableError(
      `Redis is not reachable at ${describeRedisTarget(target)} (${(err as Error).message}).\n` +
        'Start one locally with:\n' +
        '  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no\n' +
        'or point REDIS_URL at a running Redis (e.g. REDIS_URL=redis://host:6379)' +
        ', or REDIS_CLUSTER_NODES at a Redis Cluster (e.g. REDIS_CLUSTER_NODES=host1:6379,host2:6379).',
    );
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}
