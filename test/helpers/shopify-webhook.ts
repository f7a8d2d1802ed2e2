import { createHmac } from 'node:crypto';

/** One line of a Shopify order body. */
export interface ShopifyLine {
  sku: string | null;
  variantId: string;
  productId?: string;
  quantity: number;
  price?: string;
}

/**
 * A Shopify order webhook body (REST-shaped), written as text so that ids beyond 2^53 stay exact,
 * the way Shopify sends them.
 */
export function shopifyOrderBody(
  id: string,
  lines: ShopifyLine[],
  options:
    | string
    | {
        updatedAt?: string;
        createdAt?: string;
        cancelledAt?: string;
        email?: string;
        customerId?: string;
      } = {},
): string {
  const o = typeof options === 'string' ? { updatedAt: options } : options;
  const items = lines.map(
    (l, i) =>
      `{"id":${id}${i},"sku":${l.sku === null ? 'null' : JSON.stringify(l.sku)},"variant_id":${l.variantId},` +
      `"product_id":${l.productId ?? '7700000000000000001'},"title":"Item ${i}","quantity":${l.quantity},` +
      `"price":"${l.price ?? '19.90'}"}`,
  );
  const customer = o.customerId
    ? `"customer":{"id":${o.customerId},"first_name":"Li","last_name":"Wei","email":"li.wei@example.com"},`
    : '';
  return (
    `{"id":${id},"admin_graphql_api_id":"gid://shopify/Order/${id}","name":"#${id.slice(-4)}",` +
    `"currency":"EUR","created_at":"${o.createdAt ?? '2026-11-20T10:00:00Z'}",` +
    `"updated_at":"${o.updatedAt ?? '2026-11-20T10:00:00Z'}",` +
    `"cancelled_at":${o.cancelledAt ? `"${o.cancelledAt}"` : 'null'},"email":"${o.email ?? 'buyer@example.com'}",` +
    `${customer}"line_items":[${items.join(',')}]}`
  );
}

/** Delivers a signed webhook to a daemon over HTTP, the way Shopify does; returns the status. */
export async function deliverShopifyWebhook(
  baseUrl: string,
  channelId: number,
  options: { secret: string; shopDomain: string; topic: string; body: string; eventId: string },
): Promise<number> {
  const res = await fetch(`${baseUrl}/webhooks/${channelId}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': options.topic,
      'x-shopify-shop-domain': options.shopDomain,
      'x-shopify-event-id': options.eventId,
      'x-shopify-webhook-id': `wh-${options.eventId}`,
      'x-shopify-hmac-sha256': createHmac('sha256', options.secret).update(options.body).digest('base64'),
    },
    body: options.body,
  });
  await res.arrayBuffer();
  return res.status;
}

/**
 * A Shopify channel made through the admin API (pulls hourly, so none run during a test) with one
 * SKU in stock and mapped to a variant; the stack's catalogue gets warehouse `main` and the SKU.
 */
export async function shopWithOneSku(
  stack: {
    api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  },
  seed: (sku: string) => Promise<void>,
  o: { name: string; domain: string; secret: string; sku: string; variantId: string; stock: number },
): Promise<number> {
  await seed(o.sku);
  const check = (what: string, res: { status: number; body: unknown }) => {
    if (res.status >= 300) throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    return res;
  };
  check(
    'stock receipt',
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: 'start',
      lines: [{ sku: o.sku, quantity: o.stock }],
    }),
  );
  const shop = check(
    'channel',
    await stack.api('POST', '/api/channels', {
      type: 'shopify',
      name: o.name,
      settings: {
        shopDomain: o.domain,
        accessToken: 'shpat_test_token_0123456789abcdef',
        webhookSecret: o.secret,
        apiBaseUrl: 'https://shopify.test/admin/api/2026-10',
        pullIntervalSeconds: 3600,
      },
    }),
  );
  const shopId = Number((shop.body as { id: number }).id);
  check(
    'sku mapping',
    await stack.api('PUT', `/api/channels/${shopId}/skus/${o.sku}`, { variantId: o.variantId }),
  );
  return shopId;
}
