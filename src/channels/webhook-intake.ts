import type { ConnectorDefinition, Headers, NormalizedOrder } from '../../connectors/contract.js';
import { getConnector } from '../../connectors/registry.js';
import { type OrderEventKind, receiveChannelEvent } from './apply-order.js';
import type { ChannelContext } from './channel-context.js';
import { findChannel } from './channel-store.js';

export interface WebhookAnswer {
  status: 200 | 401 | 404;
  body: Record<string, unknown>;
}

/**
 * A webhook delivery: 404 for an unknown or disabled channel (or one without webhooks), 401 for a
 * bad or missing signature (nothing stored), else the event is stored and applied, and 200.
 */
export async function receiveWebhook(
  ctx: Pick<ChannelContext, 'db' | 'log' | 'secretKey' | 'enqueueOrders'>,
  id: number,
  rawBody: Buffer,
  headers: Headers,
): Promise<WebhookAnswer> {
  const channel = await findChannel(ctx.db, ctx.secretKey, id);
  const connector = channel ? getConnector(channel.type) : null;
  if (!channel || !connector || !channel.enabled || !connector.manifest.capabilities.includes('webhooks')) {
    return {
      status: 404,
      body: { error: { code: 'not_found', message: `no enabled channel ${id} takes webhooks` } },
    };
  }
  const verified = connector.verifyWebhook(rawBody, headers, channel.settings);
  if (!verified.valid) {
    ctx.log.warn({ channelId: id, reason: verified.reason }, 'webhook refused');
    return {
      status: 401,
      body: { error: { code: 'invalid_webhook', message: `webhook refused: ${verified.reason}` } },
    };
  }
  const env = verified.envelope;
  if (env.kind === 'ping' || env.kind === 'ignored') {
    return { status: 200, body: { status: 'ignored', topic: env.topic } };
  }
  const result = await receiveChannelEvent(ctx.db, channel, {
    deliveryId: env.deliveryId,
    topic: env.topic,
    kind: env.kind,
    externalId: env.externalOrderId,
    rawPayload: rawBody.toString('utf8'),
    ...readOrder(connector, env.payload, env.kind),
  });
  await ctx.enqueueOrders(result.toProcess);
  return {
    status: 200,
    body: { status: result.outcome, orderId: result.orderId, eventId: result.eventId },
  };
}

/**
 * Reads the order from a payload. A deletion often carries little more than the order's id, so
 * a deletion that is not a whole order is no error: its id is enough.
 */
export function readOrder(
  connector: ConnectorDefinition<unknown>,
  payload: unknown,
  kind: OrderEventKind,
): { order: NormalizedOrder | null; readError?: string } {
  try {
    return { order: connector.normalizeOrder(payload) };
  } catch (err) {
    return kind === 'order.delete' ? { order: null } : { order: null, readError: (err as Error).message };
  }
}
