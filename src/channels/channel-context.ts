import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ConnectorDefinition } from '../../connectors/contract.js';
import type { HttpClientOptions } from '../../connectors/http/client.js';
import type { RateLimiter } from '../../connectors/http/rate-limiter.js';
import { getConnector } from '../../connectors/registry.js';
import type { Db } from '../db/connection.js';
import { notFound } from '../errors/domain-errors.js';
import { type Channel, findChannel } from './channel-store.js';
import { type EnqueueEvents, EventBatcher } from './event-batcher.js';

export interface ChannelContextOptions {
  db: Db;
  log: Logger;
  /** STOCKBRIDGE_SECRET_KEY: seals the channels' secret settings. */
  secretKey: Buffer;
  /** Base of the webhook URLs shown to administrators (STOCKBRIDGE_PUBLIC_URL). */
  publicUrl: string;
  /** Shared rate limits across processes; without it, limits hold per process only. */
  redis?: Redis | Cluster;
  /** Queue prefix, also the prefix of the rate limiters' Redis keys. Default `stockbridge`. */
  prefix?: string;
  /** Queues processing of stored orders (may throw when Redis is down: the relay catches up). */
  enqueueOrders: (orderIds: number[]) => Promise<void>;
  /**
   * Queues the applying of stored webhook events (the events queue). Without it (or with Redis
   * down) the event relay queues them.
   */
  enqueueEvents?: EnqueueEvents;
  /** Queues a debounced stock push of the channel (the channels queue); without it, pushes run only when asked. */
  requestPush?: (channelId: number) => Promise<void>;
  /** Overrides for the channels' HTTP client (tests: short backoff). */
  http?: Partial<Pick<HttpClientOptions, 'retries' | 'minDelayMs' | 'maxDelayMs' | 'timeoutMs' | 'sleep'>>;
}

/** What every channel function works with. Made once per process by `createChannelContext`. */
export interface ChannelContext {
  readonly db: Db;
  readonly log: Logger;
  readonly secretKey: Buffer;
  readonly publicUrl: string;
  readonly redis: Redis | Cluster | undefined;
  readonly prefix: string;
  readonly http: ChannelContextOptions['http'];
  /** Rate limiters of this process by channel id, used when there is no Redis. */
  readonly memoryLimiters: Map<number, RateLimiter>;
  /** Stores webhook deliveries in groups (one commit each) and queues their applying. */
  readonly events: EventBatcher;
  /**
   * Channels as webhooks see them, kept for a second per process (a change made through this
   * process is seen at once; one made through another process within a second).
   */
  readonly webhookChannels: Map<number, { channel: Channel | null; at: number }>;
  /** Queues processing of stored orders; a failure is logged, not thrown (the relay queues them). */
  enqueueOrders(orderIds: number[]): Promise<void>;
  /** Queues a debounced push of the channel; a failure is logged, not thrown (the push sweep queues it). */
  requestPush(channelId: number): Promise<void>;
}

export function createChannelContext(o: ChannelContextOptions): ChannelContext {
  return {
    db: o.db,
    log: o.log,
    secretKey: o.secretKey,
    publicUrl: o.publicUrl,
    redis: o.redis,
    prefix: o.prefix ?? 'stockbridge',
    http: o.http,
    memoryLimiters: new Map(),
    events: new EventBatcher(o.db, o.enqueueEvents, o.log),
    webhookChannels: new Map(),
    async enqueueOrders(orderIds) {
      if (orderIds.length === 0) return;
      try {
        await o.enqueueOrders(orderIds);
      } catch (err) {
        o.log.warn(
          { orderIds, err: (err as Error).message },
          'orders stored but not queued; the relay will queue them',
        );
      }
    },
    async requestPush(channelId) {
      try {
        await o.requestPush?.(channelId);
      } catch (err) {
        o.log.warn(
          { channelId, err: (err as Error).message },
          'push not queued; the push sweep will queue it',
        );
      }
    },
  };
}

/** The channel, or NotFoundError. */
export async function getChannel(
  ctx: Pick<ChannelContext, 'db' | 'secretKey'>,
  id: number,
): Promise<Channel> {
  const channel = await findChannel(ctx.db, ctx.secretKey, id);
  if (!channel) throw notFound(`channel ${id}`);
  return channel;
}

export const connectorOf = (channel: Pick<Channel, 'type'>): ConnectorDefinition<unknown> =>
  getConnector(channel.type);
