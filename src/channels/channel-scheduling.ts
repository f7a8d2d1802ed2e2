import { getConnector } from '../../connectors/registry.js';
import { dbTime } from '../db/connection.js';
import { ChannelAuthError } from '../errors/channel-auth-error.js';
import { ConflictError, UpstreamError } from '../errors/domain-errors.js';
import { PermanentError } from '../errors/permanent-error.js';
import { RateLimitedError } from '../errors/rate-limited-error.js';
import { stockPushes, stockPushSeconds, stockPushSkus } from '../metrics.js';
import { type ChannelContext, connectorOf, getChannel } from './channel-context.js';
import {
  CHANNEL_SKUS,
  CHANNELS,
  type Channel,
  channelKey,
  clearChannelFailing,
  recordChannelError,
} from './channel-store.js';
import { connectorContext } from './connector-runtime.js';
import { pullDeliveries } from './delivery-pull.js';
import { PullBusyError, PullLeaseLostError, type PullSummary, pullChannel } from './pull.js';
import {
  emptyPushSummary,
  markResync,
  PushBusyError,
  type PushSummary,
  pushChannelStock,
} from './stock-push.js';

/**
 * Pulls now (an administrator's sync, or the scheduled pull). ConflictError for a disabled
 * channel, one without order pull, or while another pull of it runs. A 401/403 from the channel
 * marks it failing; any error is recorded in its status and thrown as an UpstreamError (code
 * `channel_rate_limited` with `details.retryAfterMs` when the channel asked us to wait).
 */
export async function pullNow(ctx: ChannelContext, id: number): Promise<PullSummary> {
  const channel = await getChannel(ctx, id);
  const connector = connectorOf(channel);
  if (!channel.enabled) throw new ConflictError('channel_disabled', `channel ${id} is disabled`);
  if (!connector.manifest.capabilities.includes('orderPull'))
    throw new ConflictError('not_supported', `${channel.type} channels do not pull orders`);
  let summary: PullSummary;
  try {
    summary = await pullChannel(ctx.db, channel, connector, connectorContext(ctx, channel), (ids) =>
      ctx.enqueueOrders(ids),
    );
  } catch (err) {
    if (err instanceof PullBusyError) throw new ConflictError('pull_in_progress', err.message);
    if (err instanceof PullLeaseLostError) {
      // Not the channel's fault: this pull stalled past its lease and another one took over.
      ctx.log.warn({ channelId: id, err: err.message }, 'pull stopped: its lease was taken over');
      throw new ConflictError('pull_in_progress', err.message);
    }
    const auth = err instanceof ChannelAuthError;
    await recordChannelError(ctx.db, id, `pull: ${(err as Error).message}`, { failing: auth });
    if (err instanceof RateLimitedError) {
      // The channel said how long to wait: whoever runs the pull again (the job) waits that long.
      throw new UpstreamError('channel_rate_limited', `pull failed: ${err.message}`, {
        retryAfterMs: err.waitMs,
      });
    }
    throw new UpstreamError(
      auth ? 'channel_auth_failed' : 'channel_error',
      `pull failed: ${(err as Error).message}`,
    );
  }
  if (summary.errors.length > 0) {
    await recordChannelError(
      ctx.db,
      id,
      `pull: ${summary.errors.length} order(s) not applied, first ${summary.errors[0]!.externalId}: ${summary.errors[0]!.error}`,
    );
  }
  // Delivery reports whose webhooks were missed. A failure here leaves them to the next pull; the
  // orders pulled stand.
  try {
    const deliveries = await pullDeliveries(ctx, channel);
    if (deliveries) summary.deliveries = deliveries;
  } catch (err) {
    ctx.log.warn({ channelId: id, err: (err as Error).message }, 'delivery reports not pulled');
    await recordChannelError(ctx.db, id, `deliveries: ${(err as Error).message}`, {
      failing: err instanceof ChannelAuthError,
    });
  }
  return summary;
}

/**
 * Pushes the channel's pending stock now (the push job, a resync, the CLI). Skipped for a
 * disabled or failing channel or one without stock push; ConflictError while another push of it
 * runs. A 401/403 marks the channel failing; other errors are recorded and thrown (the job retries).
 */
export async function pushNow(ctx: ChannelContext, id: number): Promise<PushSummary & { skipped?: string }> {
  const started = performance.now();
  const channel = await getChannel(ctx, id);
  const label = channelKey(channel);
  try {
    const summary = await pushChannel(ctx, channel);
    stockPushes.inc({ channel: label, outcome: summary.skipped ? 'skipped' : 'pushed' });
    if (!summary.skipped) {
      stockPushSeconds.observe({ channel: label }, (performance.now() - started) / 1000);
      stockPushSkus.inc({ channel: label, result: 'accepted' }, summary.accepted);
      stockPushSkus.inc({ channel: label, result: 'rejected' }, summary.rejected.length);
      stockPushSkus.inc({ channel: label, result: 'deferred' }, summary.deferred.length);
    }
    return summary;
  } catch (err) {
    const busy = err instanceof ConflictError;
    stockPushes.inc({ channel: label, outcome: busy ? 'busy' : 'failed' });
    if (!busy) stockPushSeconds.observe({ channel: label }, (performance.now() - started) / 1000);
    throw err;
  }
}

/** The push itself (pushNow adds the metrics around it). */
async function pushChannel(
  ctx: ChannelContext,
  channel: Channel,
): Promise<PushSummary & { skipped?: string }> {
  const id = channel.id;
  const connector = connectorOf(channel);
  const empty = emptyPushSummary(id);

  if (!channel.enabled) return { ...empty, skipped: 'channel_disabled' };
  if (channel.failingReason) return { ...empty, skipped: 'channel_failing' };
  if (!connector.manifest.capabilities.includes('stockPush')) return { ...empty, skipped: 'not_supported' };
  try {
    const summary = await pushChannelStock(ctx.db, channel, connector, connectorContext(ctx, channel));
    if (summary.accepted > 0) await clearChannelFailing(ctx.db, id);
    if (summary.rejected.length > 0) {
      const first = summary.rejected[0]!;
      await recordChannelError(
        ctx.db,
        id,
        `push: ${summary.rejected.length} SKU(s) refused, first ${first.sku}: ${first.reason}`,
      );
    }
    if (summary.stillPending > 0) await ctx.requestPush(id);
    return summary;
  } catch (err) {
    if (err instanceof PushBusyError) throw new ConflictError('push_in_progress', err.message);
    const auth = err instanceof ChannelAuthError;
    await recordChannelError(ctx.db, id, `push: ${(err as Error).message}`, { failing: auth });
    if (auth) return { ...empty, skipped: 'channel_auth_failed' };
    // Another attempt will not help (e.g. no Shopify location configured): the SKUs stay pending
    // until the settings change, which queues a push again.
    if (err instanceof PermanentError) return { ...empty, skipped: err.reason };
    throw err;
  }
}

/** Marks every mapped SKU of the channel to be sent, changed or not, and queues the push. */
export async function resync(
  ctx: ChannelContext,
  id: number,
): Promise<{ channelId: number; pending: number }> {
  const channel = await getChannel(ctx, id);
  if (!channel.enabled) throw new ConflictError('channel_disabled', `channel ${id} is disabled`);
  if (!connectorOf(channel).manifest.capabilities.includes('stockPush'))
    throw new ConflictError('not_supported', `${channel.type} channels do not take stock`);
  const pending = await markResync(ctx.db, id);
  await ctx.requestPush(id);
  return { channelId: id, pending };
}

/**
 * Channels with stock waiting to be pushed for longer than `olderThanMs` (their push job was lost,
 * or they were marked by a nightly resync): the scheduler queues their pushes.
 */
export async function duePushes(
  ctx: Pick<ChannelContext, 'db'>,
  olderThanMs: number,
  now = new Date(),
): Promise<number[]> {
  const rows = await ctx
    .db(CHANNEL_SKUS)
    .where('push_pending', true)
    .where('pending_since', '<', dbTime(new Date(now.getTime() - olderThanMs)))
    .whereIn('channel_id', ctx.db(CHANNELS).where({ enabled: true }).whereNull('failing_reason').select('id'))
    .distinct('channel_id');
  return rows.map((r) => Number(r.channel_id)).sort((a, b) => a - b);
}

/** Channels due for their scheduled pull: enabled, not failing, pull capable, next pull time reached. */
export async function duePulls(ctx: Pick<ChannelContext, 'db'>, now = new Date()): Promise<number[]> {
  const rows = await ctx
    .db(CHANNELS)
    .where({ enabled: true })
    .whereNull('failing_reason')
    .andWhere((q) => q.whereNull('next_pull_at').orWhere('next_pull_at', '<=', dbTime(now)))
    .select('id', 'type');
  return rows
    .filter((r) => {
      try {
        return getConnector(String(r.type)).manifest.capabilities.includes('orderPull');
      } catch {
        return false;
      }
    })
    .map((r) => Number(r.id));
}
