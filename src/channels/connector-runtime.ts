import type {
  ConnectionTestResult,
  ConnectorContext,
  ConnectorDefinition,
} from '../../connectors/contract.js';
import { createHttpClient } from '../../connectors/http/client.js';
import {
  bucketFor,
  createMemoryRateLimiter,
  createRedisRateLimiter,
  type RateLimiter,
} from '../../connectors/http/rate-limiter.js';
import { channelHttpObserver } from '../metrics.js';
import { type ChannelContext, connectorOf, getChannel } from './channel-context.js';
import { type Channel, channelKey, clearChannelFailing, recordChannelError } from './channel-store.js';

/** The channel's rate limiter: shared through Redis when there is one, else this process's own. */
function limiterFor(
  ctx: ChannelContext,
  channel: Channel,
  connector: ConnectorDefinition<unknown>,
): RateLimiter {
  const limits = connector.limitsFor?.(channel.settings) ?? connector.manifest.limits;
  const bucket = bucketFor(limits.requestsPerSecond, limits.burst);
  if (ctx.redis) {
    return createRedisRateLimiter(ctx.redis, `${ctx.prefix}:ratelimit:channel:${channel.id}`, bucket);
  }
  let limiter = ctx.memoryLimiters.get(channel.id);
  if (!limiter) {
    limiter = createMemoryRateLimiter(bucket);
    ctx.memoryLimiters.set(channel.id, limiter);
  }
  return limiter;
}

/** What a connector gets to work with for this channel: its settings and the shared HTTP client. */
export function connectorContext(ctx: ChannelContext, channel: Channel): ConnectorContext<unknown> {
  const connector = connectorOf(channel);
  const secrets = connector.manifest.secretFields
    .map((k) => channel.settings[k])
    .filter((v): v is string => typeof v === 'string' && v.length > 0);
  const http = createHttpClient({
    ...ctx.http,
    baseURL: connector.baseUrl(channel.settings),
    headers: connector.authHeaders(channel.settings),
    limiter: limiterFor(ctx, channel, connector),
    secrets,
    observer: channelHttpObserver(channelKey(channel)),
  });
  return {
    channelId: channel.id,
    settings: channel.settings,
    http,
    log: ctx.log.child({ channelId: channel.id, channelType: channel.type }),
  };
}

/** Runs the connector's connection test; a failure is recorded on the channel, a success clears it. */
export async function testChannel(ctx: ChannelContext, id: number): Promise<ConnectionTestResult> {
  const channel = await getChannel(ctx, id);
  const connector = connectorOf(channel);
  let result: ConnectionTestResult;
  try {
    result = await connector.testConnection(connectorContext(ctx, channel));
  } catch (err) {
    result = { ok: false, message: (err as Error).message };
  }
  if (result.ok) await clearChannelFailing(ctx.db, id);
  else await recordChannelError(ctx.db, id, `connection test: ${result.message}`);
  return result;
}
