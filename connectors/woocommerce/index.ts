import { ChannelAuthError } from '../../src/errors/channel-auth-error.js';
import { PermanentError } from '../../src/errors/permanent-error.js';
import { type ConnectorContext, type ConnectorLimits, defineConnector } from '../contract.js';
import { pullScheduleOf } from '../shared/pull-settings.js';
import { cancelWooCommerceOrder, sendWooCommerceFulfilment } from './fulfilment.js';
import { normalizeWooCommerceOrder } from './normalize.js';
import { ORDERS_PAGE_SIZE, pullWooCommerceOrders } from './pull.js';
import { fetchWooCommerceOrders, listWooCommerceOrders } from './reconcile.js';
import { withRefundLines } from './refunds.js';
import { jsonBody, wooRequest } from './request.js';
import {
  type WooCommerceSettings,
  wooCommerceAuthHeaders,
  wooCommerceBaseUrl,
  wooCommerceSettingsSchema,
} from './settings.js';
import { pushWooCommerceStock, STOCK_BATCH_SIZE } from './stock.js';
import { verifyWooCommerceWebhook } from './webhook.js';

export { initialPullStart } from '../shared/pull-settings.js';
export { pullSince } from '../shared/time-cursor.js';
export { lineUnitPrice, wooDateToIso, wooIdString } from './normalize.js';
export { modifiedAfterParam } from './pull.js';
export { WooCommerceResponseError } from './request.js';
export type { WooCommerceSettings } from './settings.js';
export { wooCommerceAuthParams } from './settings.js';

/** Requests per second as the settings allow (WooCommerce documents no limit of its own). */
export function wooCommerceLimits(settings: Pick<WooCommerceSettings, 'requestsPerSecond'>): ConnectorLimits {
  return {
    requestsPerSecond: settings.requestsPerSecond,
    stockBatchSize: STOCK_BATCH_SIZE,
    pageSize: ORDERS_PAGE_SIZE,
  };
}

/** Reads one order (`GET orders?per_page=1`): proves the URL, the credentials and read access. */
async function testWooCommerceConnection(ctx: ConnectorContext<WooCommerceSettings>) {
  const where = wooCommerceBaseUrl(ctx.settings);
  try {
    const res = await wooRequest<unknown>(ctx, { method: 'GET', url: 'orders', params: { per_page: 1 } });
    let body: unknown;
    try {
      body = jsonBody(res.data, 'orders');
    } catch {
      body = undefined;
    }
    if (!Array.isArray(body)) {
      return {
        ok: false,
        message: `${where} did not answer as the WooCommerce REST API (check siteUrl, and that WordPress permalinks are not “Plain”)`,
      };
    }
    const total = res.headers['x-wp-total'];
    return {
      ok: true,
      message: `Connected to WooCommerce at ${ctx.settings.siteUrl}${total ? ` (${total} orders)` : ''}`,
    };
  } catch (err) {
    if (err instanceof ChannelAuthError) {
      return {
        ok: false,
        message:
          'WooCommerce refused the consumer key/secret (check them and that the key may read orders; if the server drops the Authorization header, set authMode "query")',
      };
    }
    if (err instanceof PermanentError && err.reason === 'http_404') {
      return {
        ok: false,
        message: `No WooCommerce REST API at ${where} (is WooCommerce active? is siteUrl right?)`,
      };
    }
    return { ok: false, message: `WooCommerce: ${err instanceof Error ? err.message : String(err)}` };
  }
}

export default defineConnector<WooCommerceSettings>({
  manifest: {
    type: 'woocommerce',
    displayName: 'WooCommerce',
    settingsSchema: wooCommerceSettingsSchema,
    secretFields: ['consumerKey', 'consumerSecret', 'webhookSecret'],
    destinationFields: ['siteUrl'],
    credentialFields: ['consumerKey', 'consumerSecret'],
    capabilities: ['webhooks', 'orderPull', 'stockPush', 'fulfilmentPush'],
    // The default rate; `limitsFor` gives the channel's own `requestsPerSecond`.
    limits: wooCommerceLimits({ requestsPerSecond: 5 }),
    pullSchedule: pullScheduleOf,
  },
  baseUrl: wooCommerceBaseUrl,
  authHeaders: wooCommerceAuthHeaders,
  limitsFor: wooCommerceLimits,
  verifyWebhook: verifyWooCommerceWebhook,
  normalizeOrder: normalizeWooCommerceOrder,
  restockOnRefund: (settings) => settings.restockOnRefund,
  completePayload: (ctx, payload) => withRefundLines(ctx, payload),
  pullOrders: pullWooCommerceOrders,
  listOrders: listWooCommerceOrders,
  fetchOrders: fetchWooCommerceOrders,
  pushStock: pushWooCommerceStock,
  sendFulfilment: sendWooCommerceFulfilment,
  sendsCancellations: (settings) => settings.sendCancellations,
  sendCancellation: cancelWooCommerceOrder,
  testConnection: testWooCommerceConnection,
});
