import type { Headers, WebhookKind, WebhookVerification } from '../contract.js';
import { bodyHash, headerValue as header, hmacSha256Base64, signatureMatches } from '../shared/webhook.js';
import { wooIdString } from './normalize.js';

const KIND_BY_TOPIC: Readonly<Record<string, WebhookKind>> = {
  'order.created': 'order.upsert',
  'order.updated': 'order.upsert',
  'order.restored': 'order.upsert',
  'order.deleted': 'order.delete',
};

/**
 * The body WooCommerce posts, unsigned, when a webhook is created or re-activated
 * (`WC_Webhook::deliver_ping`): `webhook_id=<id>`, form-encoded, and nothing else. The webhook is
 * only saved if this gets HTTP 200.
 */
const PING_BODY = /^webhook_id=(\d{1,20})$/;

/**
 * The creation ping, recognised only in its exact shape: no `X-WC-Webhook-*` header at all, a
 * form-encoded content type (or none), and a body of exactly `webhook_id=<digits>`. Returns the
 * webhook id, or null for anything else.
 */
function pingWebhookId(rawBody: Buffer, headers: Headers): string | null {
  const wcHeader = Object.entries(headers).some(
    ([key, value]) => key.toLowerCase().startsWith('x-wc-webhook-') && value !== undefined,
  );
  if (wcHeader) return null;
  const type = header(headers, 'content-type');
  if (type !== undefined && !/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) return null;
  if (rawBody.length > 40) return null;
  const m = PING_BODY.exec(rawBody.toString('latin1'));
  return m ? (m[1] as string) : null;
}

/**
 * Verifies a WooCommerce webhook: base64(HMAC-SHA256(raw body, webhook secret)) against
 * `X-WC-Webhook-Signature`, in constant time, then reads the envelope.
 *
 * - The unsigned creation ping (`webhook_id=<id>`, see `pingWebhookId`) is a valid envelope of kind
 *   `ping`, so that the core answers 200 and WooCommerce saves the webhook; any other unsigned
 *   request is refused.
 * - `order.created`, `order.updated`, `order.restored` are upserts, except an `order.updated` whose
 *   body has status `cancelled`, which is a cancel; `order.deleted` (moved to the trash, body
 *   `{"id": n}`) is a delete; every other topic is `ignored`.
 * - `deliveryId` is `X-WC-Webhook-Delivery-ID` plus a hash of the body. WooCommerce makes that
 *   header from the webhook id and the current second (`wp_hash($id . strtotime('now'))`), so two
 *   different deliveries of one webhook in the same second share it: alone it would drop the
 *   second as a duplicate. A repeat of the same body under the same header is still a duplicate.
 */
export function verifyWooCommerceWebhook(
  rawBody: Buffer,
  headers: Headers,
  settings: { webhookSecret: string },
): WebhookVerification {
  const sent = header(headers, 'x-wc-webhook-signature');
  if (!sent) {
    const webhookId = pingWebhookId(rawBody, headers);
    if (webhookId === null) return { valid: false, reason: 'missing_signature' };
    return {
      valid: true,
      envelope: {
        topic: 'ping',
        kind: 'ping',
        deliveryId: bodyHash(rawBody),
        externalOrderId: null,
        payload: { webhook_id: webhookId },
      },
    };
  }
  if (!settings.webhookSecret) return { valid: false, reason: 'webhook_secret_not_configured' };
  const expected = hmacSha256Base64(settings.webhookSecret, rawBody);
  if (!signatureMatches(sent, expected)) return { valid: false, reason: 'invalid_signature' };

  let payload: unknown;
  try {
    payload = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return { valid: false, reason: 'invalid_json' };
  }

  const topic = header(headers, 'x-wc-webhook-topic') ?? '';
  let kind: WebhookKind = KIND_BY_TOPIC[topic] ?? 'ignored';
  const body = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : {};
  if (topic === 'order.updated' && body.status === 'cancelled') kind = 'order.cancel';

  let externalOrderId: string | null = null;
  if (kind !== 'ignored') {
    externalOrderId = wooIdString(body.id);
    if (!externalOrderId) return { valid: false, reason: 'missing_order_id' };
  }

  const sentId = header(headers, 'x-wc-webhook-delivery-id');
  const deliveryId = sentId ? `${sentId.slice(0, 64)}:${bodyHash(rawBody)}` : bodyHash(rawBody);
  return { valid: true, envelope: { topic, kind, deliveryId, externalOrderId, payload } };
}
