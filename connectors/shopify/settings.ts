import { z } from 'zod';
import { isSafeChannelUrl, SAFE_URL_MESSAGE } from '../http/safe-url.js';
import { pullSettingsShape } from '../shared/pull-settings.js';

/** The Admin API version this connector is written and tested against. */
export const DEFAULT_API_VERSION = '2026-10';

/** GraphQL Admin API cost points restored per second, by the shop's plan. */
export const POINTS_PER_SECOND = { standard: 100, advanced: 200, plus: 1000 } as const;

export const shopifySettingsSchema = z.object({
  /** The shop's permanent domain, e.g. `example.myshopify.com`. */
  shopDomain: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9][a-z0-9-]*\.myshopify\.com$/, 'must be the shop’s myshopify.com domain'),
  /** Admin API access token (secret). */
  accessToken: z.string().trim().min(1, 'must not be empty'),
  /** The app's client secret, which signs webhooks (secret). */
  webhookSecret: z.string().min(1, 'must not be empty'),
  /** Admin API version, `YYYY-MM`. */
  apiVersion: z
    .string()
    .regex(/^(\d{4}-(01|04|07|10)|unstable)$/, 'must be a version such as 2026-10')
    .default(DEFAULT_API_VERSION),
  /**
   * Replaces `https://{shopDomain}/admin/api/{apiVersion}` (proxies, tests). The access token goes
   * there: https only (plain http only to localhost), and changing it needs the token again.
   */
  apiBaseUrl: z
    .string()
    .trim()
    .refine(isSafeChannelUrl, SAFE_URL_MESSAGE)
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  /** Location whose `available` quantity we set: `gid://shopify/Location/123` (or `123`). Needed to push stock. */
  locationId: z
    .string()
    .trim()
    .regex(/^(gid:\/\/shopify\/Location\/)?\d+$/, 'must be a location id such as gid://shopify/Location/123')
    .optional(),
  ...pullSettingsShape,
  /** The shop's plan, which sets the API rate: standard 100, advanced 200, plus 1000 points/second. */
  plan: z.enum(['standard', 'advanced', 'plus']).default('standard'),
  /** Whether Shopify e-mails the buyer when a shipment of ours becomes a fulfilment there. Default true. */
  fulfilmentNotifyCustomer: z.boolean().default(true),
  /** Whether orders we cancel are cancelled on Shopify too (no refund, no restock there). Default false. */
  sendCancellations: z.boolean().default(false),
});

export type ShopifySettings = z.infer<typeof shopifySettingsSchema>;

export function shopifyBaseUrl(settings: ShopifySettings): string {
  const base = settings.apiBaseUrl ?? `https://${settings.shopDomain}/admin/api/${settings.apiVersion}`;
  return base.replace(/\/+$/, '');
}

export function shopifyAuthHeaders(settings: ShopifySettings): Record<string, string> {
  return { 'X-Shopify-Access-Token': settings.accessToken, Accept: 'application/json' };
}
