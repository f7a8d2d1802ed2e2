import { z } from 'zod';
import { isSafeChannelUrl, SAFE_URL_MESSAGE } from '../http/safe-url.js';
import { pullSettingsShape } from '../shared/pull-settings.js';

export const wooCommerceSettingsSchema = z.object({
  /**
   * The shop's base URL (where WordPress answers, including a sub-directory if it has one), e.g.
   * `https://shop.example.com`. The API base is `${siteUrl}/wp-json/wc/v3`, so pointing it at a
   * proxy or a test server moves every call. Must be https (plain http only to localhost):
   * WooCommerce takes Basic auth and query-string keys over HTTPS only.
   */
  siteUrl: z
    .string()
    .trim()
    .refine(isSafeChannelUrl, SAFE_URL_MESSAGE)
    .transform((u) => u.replace(/\/+$/, '')),
  /** REST API consumer key, `ck_...` (secret). */
  consumerKey: z.string().trim().min(1, 'must not be empty'),
  /** REST API consumer secret, `cs_...` (secret). */
  consumerSecret: z.string().trim().min(1, 'must not be empty'),
  /** The secret set on the WooCommerce webhooks, which signs their deliveries (secret). */
  webhookSecret: z.string().min(1, 'must not be empty'),
  ...pullSettingsShape,
  /**
   * Requests per second we allow ourselves against this site. WooCommerce is self-hosted and
   * documents no limit, so this protects the shop's server; raise it for a strong host. Default 5.
   */
  requestsPerSecond: z.number().positive().max(1000).default(5),
  /**
   * How the consumer key and secret are sent: `basic` (HTTP Basic auth, the default) or `query`
   * (`consumer_key`/`consumer_secret` query parameters, for servers that drop the Authorization
   * header, e.g. some Apache/CGI set-ups).
   */
  authMode: z.enum(['basic', 'query']).default('basic'),
  /**
   * Whether units of a refund that had shipped go back on hand when they become a return.
   * WooCommerce's refunds do not say whether the shop restocked them ("Restock refunded items"), so
   * this says it for every refund of the channel. Default false: they are written off.
   */
  restockOnRefund: z.boolean().default(false),
  /**
   * What a shipment of ours does to the WooCommerce order: `complete` (the default) sets it to
   * `completed` once it has shipped in full (WooCommerce then e-mails the buyer), with a note with
   * the tracking for each shipment; `note_only` adds the note and leaves the status alone.
   */
  fulfilmentStatus: z.enum(['complete', 'note_only']).default('complete'),
  /** Whether orders we cancel are set `cancelled` on WooCommerce too. Default false. */
  sendCancellations: z.boolean().default(false),
});

export type WooCommerceSettings = z.infer<typeof wooCommerceSettingsSchema>;

/** `${siteUrl}/wp-json/wc/v3`, without a trailing slash. */
export function wooCommerceBaseUrl(settings: Pick<WooCommerceSettings, 'siteUrl'>): string {
  return `${settings.siteUrl.replace(/\/+$/, '')}/wp-json/wc/v3`;
}

/** Basic auth in `basic` mode; in `query` mode no credential header (see `wooCommerceAuthParams`). */
export function wooCommerceAuthHeaders(
  settings: Pick<WooCommerceSettings, 'consumerKey' | 'consumerSecret' | 'authMode'>,
): Record<string, string> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (settings.authMode === 'basic') {
    const token = Buffer.from(`${settings.consumerKey}:${settings.consumerSecret}`, 'utf8').toString(
      'base64',
    );
    headers.Authorization = `Basic ${token}`;
  }
  return headers;
}

/**
 * The query parameters that carry the credentials in `query` mode (empty in `basic` mode). Every
 * request the connector sends goes through `wooRequest`, which adds them; the shared HTTP client
 * keeps parameter values named like credentials out of its error messages.
 */
export function wooCommerceAuthParams(
  settings: Pick<WooCommerceSettings, 'consumerKey' | 'consumerSecret' | 'authMode'>,
): Record<string, string> {
  return settings.authMode === 'query'
    ? { consumer_key: settings.consumerKey, consumer_secret: settings.consumerSecret }
    : {};
}
