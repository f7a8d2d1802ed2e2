import type {
  ConnectorDefinition,
  DeliveryReport,
  Headers,
  NormalizedOrder,
  RefundOfOrder,
  WebhookReceipt,
  WebhookReply,
} from '../../connectors/contract.js';
import { getConnector } from '../../connectors/registry.js';
import { webhookVerificationsFailed } from '../metrics.js';
import type { OrderEventKind } from './apply-order.js';
import type { ChannelContext } from './channel-context.js';
import { type Channel, channelKey, findChannel } from './channel-store.js';

export interface WebhookAnswer {
  status: 200 | 401 | 404;
  /** An object is sent as JSON, a string as it is (see `contentType`). */
  body: string | Record<string, unknown>;
  contentType?: string;
}

/** Today's answer to a verified delivery: `{status, eventId}`, or `{status: "ignored", topic}`. */
export function defaultWebhookReply(receipt: WebhookReceipt): WebhookReply {
  return receipt.status === 'ignored'
    ? { body: { status: 'ignored', topic: receipt.topic } }
    : { body: { status: receipt.status, eventId: receipt.eventId } };
}

/** The 200 answering a verified delivery, shaped by the connector when it says how. */
function replyTo(
  connector: ConnectorDefinition<unknown>,
  receipt: WebhookReceipt,
  settings: unknown,
): WebhookAnswer {
  const reply = connector.webhookReply?.(receipt, settings) ?? defaultWebhookReply(receipt);
  return { status: 200, body: reply.body, ...(reply.contentType ? { contentType: reply.contentType } : {}) };
}

/** How long a process trusts its copy of a channel for webhooks (ms). */
const CHANNEL_TTL_MS = 1000;

async function webhookChannel(
  ctx: Pick<ChannelContext, 'db' | 'secretKey' | 'webhookChannels'>,
  id: number,
): Promise<Channel | null> {
  const cached = ctx.webhookChannels.get(id);
  if (cached && Date.now() - cached.at < CHANNEL_TTL_MS) return cached.channel;
  const channel = await findChannel(ctx.db, ctx.secretKey, id);
  ctx.webhookChannels.set(id, { channel, at: Date.now() });
  return channel;
}

/**
 * A webhook delivery: 404 for an unknown or disabled channel (or one without webhooks), 401 for a
 * bad or missing signature (nothing stored). A verified delivery is stored — together with the
 * others arriving at the same moment, in one commit — and answered 200 after that commit:
 * `accepted` (it will be applied by a worker, in order of arrival) or `duplicate` (this delivery
 * was stored and applied before), in the body the connector shapes (`webhookReply`; by default
 * `{status, eventId}` as JSON). Applying it (reading the order, mapping SKUs, creating,
 * amending or cancelling the order) happens in the worker; its outcome shows on the event
 * (`GET /api/inbound-events`).
 */
export async function receiveWebhook(
  ctx: Pick<ChannelContext, 'db' | 'log' | 'secretKey' | 'webhookChannels' | 'events'>,
  id: number,
  rawBody: Buffer,
  headers: Headers,
): Promise<WebhookAnswer> {
  const channel = await webhookChannel(ctx, id);
  const connector = channel ? getConnector(channel.type) : null;
  if (!channel || !connector || !channel.enabled || !connector.manifest.capabilities.includes('webhooks')) {
    return {
      status: 404,
      body: { error: { code: 'not_found', message: `no enabled channel ${id} takes webhooks` } },
    };
  }
  const verified = connector.verifyWebhook(rawBody, headers, channel.settings);
  if (!verified.valid) {
    webhookVerificationsFailed.inc({ channel: channelKey(channel) });
    ctx.log.warn({ channelId: id, reason: verified.reason }, 'webhook refused');
    return {
      status: 401,
      body: { error: { code: 'invalid_webhook', message: `webhook refused: ${verified.reason}` } },
    };
  }
  const env = verified.envelope;
  if (env.kind === 'ping' || env.kind === 'ignored') {
    return replyTo(connector, { status: 'ignored', eventId: null, topic: env.topic }, channel.settings);
  }
  const stored = await ctx.events.submit({
    channel: channelKey(channel),
    deliveryId: env.deliveryId,
    topic: env.topic,
    kind: env.kind,
    externalId: env.externalOrderId,
    rawPayload: rawBody.toString('utf8'),
  });
  const status = stored.applied ? 'duplicate' : 'accepted';
  return replyTo(connector, { status, eventId: stored.eventId, topic: env.topic }, channel.settings);
}

/**
 * Reads the order from a payload. A deletion often carries little more than the order's id, so
 * a deletion that is not a whole order is no error: its id is enough.
 */
export function readOrder(
  connector: ConnectorDefinition<unknown>,
  payload: unknown,
  kind: OrderEventKind,
): { order: NormalizedOrder | null; refund?: RefundOfOrder; delivery?: DeliveryReport; readError?: string } {
  try {
    if (kind === 'order.delivery') {
      if (!connector.normalizeDelivery)
        return { order: null, readError: 'the connector reads no delivery reports' };
      return { order: null, delivery: connector.normalizeDelivery(payload) };
    }
    if (kind === 'order.refund') {
      if (!connector.normalizeRefund) return { order: null, readError: 'the connector reads no refunds' };
      return { order: null, refund: connector.normalizeRefund(payload) };
    }
    return { order: connector.normalizeOrder(payload) };
  } catch (err) {
    return kind === 'order.delete' ? { order: null } : { order: null, readError: (err as Error).message };
  }
}
