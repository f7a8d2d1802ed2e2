import type { Headers, WebhookKind, WebhookVerification } from '../contract.js';
import { bodyHash, headerValue, hmacSha256Base64, signatureMatches } from '../shared/webhook.js';
import { parseJsonKeepingBigIds } from './json.js';
import { shopifyIdString } from './normalize.js';

const KIND_BY_TOPIC: Readonly<Record<string, WebhookKind>> = {
  'orders/create': 'order.upsert',
  'orders/updated': 'order.upsert',
  'orders/cancelled': 'order.cancel',
  'orders/delete': 'order.delete',
  // One refund alone (its `order_id` names the order): refunded units that shipped become a return.
  'refunds/create': 'order.refund',
  // Delivery reports of a fulfilment (its `order_id` names the order): read with normalizeDelivery.
  'fulfillment_events/create': 'order.delivery',
  'fulfillments/update': 'order.delivery',
};

/** A header by name, case-insensitively, also under the newer name without `x-`. */
const header = (headers: Headers, name: string) => headerValue(headers, name, name.replace(/^x-/i, ''));

/**
 * Verifies a Shopify webhook: base64(HMAC-SHA256(raw body, app client secret)) against
 * `X-Shopify-Hmac-Sha256`, in constant time, then reads the envelope. The body is parsed so that
 * ids beyond 2^53 keep every digit. `deliveryId` is `X-Shopify-Event-Id` (shared by the
 * deliveries of one merchant action), else `X-Shopify-Webhook-Id`, else a hash of the body;
 * for `refunds/create` and the delivery topics, prefixed with the topic.
 */
export function verifyShopifyWebhook(
  rawBody: Buffer,
  headers: Headers,
  settings: { webhookSecret: string },
): WebhookVerification {
  if (!settings.webhookSecret) return { valid: false, reason: 'webhook_secret_not_configured' };
  const sent = header(headers, 'x-shopify-hmac-sha256');
  if (!sent) return { valid: false, reason: 'missing_signature' };
  const expected = hmacSha256Base64(settings.webhookSecret, rawBody);
  if (!signatureMatches(sent, expected)) return { valid: false, reason: 'invalid_signature' };

  let payload: unknown;
  try {
    payload = parseJsonKeepingBigIds(rawBody.toString('utf8'));
  } catch {
    return { valid: false, reason: 'invalid_json' };
  }

  const topic = header(headers, 'x-shopify-topic') ?? '';
  const kind: WebhookKind = KIND_BY_TOPIC[topic] ?? 'ignored';
  const delivered =
    header(headers, 'x-shopify-event-id') ?? header(headers, 'x-shopify-webhook-id') ?? bodyHash(rawBody);
  // One refund fires `refunds/create` and `orders/updated` under one event id: kept apart, so that
  // the order's update (its current quantities) is never taken for a repeat of the refund.
  // A delivery report likewise shares its event id with the fulfilment's other topics.
  const deliveryId =
    kind === 'order.refund' || kind === 'order.delivery' ? `${topic}:${delivered}` : delivered;

  let externalOrderId: string | null = null;
  if (kind !== 'ignored') {
    const body = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : {};
    externalOrderId =
      kind === 'order.refund' || kind === 'order.delivery'
        ? shopifyIdString(body.order_id)
        : (shopifyIdString(body.admin_graphql_api_id) ?? shopifyIdString(body.id));
    if (!externalOrderId) return { valid: false, reason: 'missing_order_id' };
  }

  return { valid: true, envelope: { topic, kind, deliveryId, externalOrderId, payload } };
}
