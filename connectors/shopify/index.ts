import { ChannelAuthError } from '../../src/errors/channel-auth-error.js';
import { type ConnectorLimits, defineConnector } from '../contract.js';
import { pullScheduleOf } from '../shared/pull-settings.js';
import { normalizeShopifyDelivery, readShopifyDeliveries } from './delivery.js';
import { cancelShopifyOrder, sendShopifyFulfilment } from './fulfilment.js';
import { shopifyGraphql } from './graphql.js';
import { parseJsonKeepingBigIds } from './json.js';
import { normalizeShopifyOrder } from './normalize.js';
import { ORDERS_PAGE_SIZE, pullShopifyOrders } from './pull.js';
import { fetchShopifyOrders, listShopifyOrders, readShopifyStock } from './reconcile.js';
import { normalizeShopifyRefund } from './refunds.js';
import {
  POINTS_PER_SECOND,
  type ShopifySettings,
  shopifyAuthHeaders,
  shopifyBaseUrl,
  shopifySettingsSchema,
} from './settings.js';
import { pushShopifyStock, STOCK_BATCH_SIZE } from './stock.js';
import { verifyShopifyWebhook } from './webhook.js';

export { initialPullStart } from '../shared/pull-settings.js';
export { pullSince } from '../shared/time-cursor.js';
export { parseJsonKeepingBigIds } from './json.js';
export { shopifyIdString, toGid } from './normalize.js';
export type { ShopifySettings } from './settings.js';

/**
 * Rate limits in GraphQL cost points: the plan's restore rate per second, and a burst of ten
 * seconds of it (the bucket must hold at least one 1000-point query).
 */
export function shopifyLimits(settings: Pick<ShopifySettings, 'plan'>): ConnectorLimits {
  const rate = POINTS_PER_SECOND[settings.plan];
  return {
    requestsPerSecond: rate,
    burst: rate * 10,
    stockBatchSize: STOCK_BATCH_SIZE,
    pageSize: ORDERS_PAGE_SIZE,
  };
}

export default defineConnector<ShopifySettings>({
  manifest: {
    type: 'shopify',
    displayName: 'Shopify',
    settingsSchema: shopifySettingsSchema,
    secretFields: ['accessToken', 'webhookSecret'],
    destinationFields: ['shopDomain', 'apiBaseUrl'],
    credentialFields: ['accessToken'],
    capabilities: ['webhooks', 'orderPull', 'stockPush', 'fulfilmentPush'],
    // Units are GraphQL cost points (standard plan); `limitsFor` gives the shop's plan.
    limits: shopifyLimits({ plan: 'standard' }),
    pullSchedule: pullScheduleOf,
  },
  baseUrl: shopifyBaseUrl,
  authHeaders: shopifyAuthHeaders,
  limitsFor: shopifyLimits,
  verifyWebhook: verifyShopifyWebhook,
  normalizeOrder: normalizeShopifyOrder,
  normalizeRefund: normalizeShopifyRefund,
  normalizeDelivery: normalizeShopifyDelivery,
  readDeliveries: readShopifyDeliveries,
  // Order ids exceed 2^53: keep every digit when a stored body is read again.
  parsePayload: parseJsonKeepingBigIds,
  pullOrders: pullShopifyOrders,
  pushStock: pushShopifyStock,
  listOrders: listShopifyOrders,
  fetchOrders: fetchShopifyOrders,
  readStock: readShopifyStock,
  sendFulfilment: sendShopifyFulfilment,
  sendsCancellations: (settings) => settings.sendCancellations,
  sendCancellation: cancelShopifyOrder,
  async testConnection(ctx) {
    try {
      const data = await shopifyGraphql<{ shop: { name: string } }>(
        ctx,
        'query { shop { name } }',
        {},
        { cost: 1 },
      );
      return { ok: true, message: `Connected to Shopify shop “${data.shop.name}”` };
    } catch (err) {
      if (err instanceof ChannelAuthError) {
        return {
          ok: false,
          message: 'Shopify refused the access token (check accessToken and the app’s scopes)',
        };
      }
      return { ok: false, message: `Shopify: ${err instanceof Error ? err.message : String(err)}` };
    }
  },
});
