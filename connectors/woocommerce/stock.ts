import { ChannelAuthError } from '../../src/errors/channel-auth-error.js';
import { PermanentError } from '../../src/errors/permanent-error.js';
import type { ConnectorContext, StockItem, StockPushResult } from '../contract.js';
import { wooIdString } from './normalize.js';
import { jsonBody, wooRequest } from './request.js';
import type { WooCommerceSettings } from './settings.js';

/** WooCommerce's batch endpoints take at most 100 objects per call (`woocommerce_rest_batch_items_limit`). */
export const STOCK_BATCH_SIZE = 100;

interface Pending {
  sku: string;
  /** The product id, or the variation id under `parent`. */
  id: string;
  quantity: number;
}

interface BatchError {
  code?: unknown;
  message?: unknown;
}

function describeError(e: BatchError): string {
  const code = typeof e.code === 'string' && e.code ? `${e.code}: ` : '';
  const message = typeof e.message === 'string' && e.message ? e.message : 'refused';
  return `${code}${message}`;
}

/** WooCommerce ids are integers; a digit string too long for one is sent as it is. */
function idValue(id: string): number | string {
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : id;
}

/** The batch response's `update` entry for the item sent at `index`, when it is about that item. */
function entryFor(update: unknown[], index: number, id: string): Record<string, unknown> | null {
  const entry = update[index];
  if (typeof entry !== 'object' || entry === null) return null;
  const e = entry as Record<string, unknown>;
  return wooIdString(e.id) === id ? e : null;
}

/**
 * Sends one batch and sorts its items by WooCommerce's answer: `update[i]` is either the updated
 * object or `{id, error: {code, message}}` for the i-th item sent. A refusal of the whole call
 * (a 4xx other than 401/403, e.g. the parent product is gone) rejects this batch only;
 * credentials, rate limits and server trouble end the push.
 */
async function pushBatch(
  ctx: ConnectorContext<WooCommerceSettings>,
  url: string,
  batch: Pending[],
  result: StockPushResult,
): Promise<void> {
  let data: unknown;
  try {
    const res = await wooRequest<unknown>(ctx, {
      method: 'POST',
      url,
      data: {
        update: batch.map((p) => ({ id: idValue(p.id), manage_stock: true, stock_quantity: p.quantity })),
      },
      headers: { 'Content-Type': 'application/json' },
    });
    data = jsonBody(res.data, url);
  } catch (err) {
    if (err instanceof PermanentError && !(err instanceof ChannelAuthError)) {
      result.rejected.push(...batch.map((p) => ({ sku: p.sku, reason: `${err.reason}: ${err.message}` })));
      return;
    }
    throw err;
  }
  const update =
    typeof data === 'object' && data !== null && Array.isArray((data as { update?: unknown }).update)
      ? ((data as { update: unknown[] }).update as unknown[])
      : [];
  batch.forEach((p, i) => {
    const entry = entryFor(update, i, p.id);
    if (!entry) {
      result.rejected.push({ sku: p.sku, reason: 'no_result_in_response' });
    } else if (typeof entry.error === 'object' && entry.error !== null) {
      result.rejected.push({ sku: p.sku, reason: describeError(entry.error as BatchError) });
    } else {
      result.accepted.push(p.sku);
    }
  });
}

/**
 * Sets `stock_quantity` (with `manage_stock: true`) for each item: simple products through
 * `POST products/batch`, variations through `POST products/<parent>/variations/batch` (the item's
 * `productId` is the parent, its `variantId` the variation), at most 100 per call. Items WooCommerce
 * refuses, or that have no product id, are rejected one by one; the rest still go through.
 */
export async function pushWooCommerceStock(
  ctx: ConnectorContext<WooCommerceSettings>,
  items: StockItem[],
): Promise<StockPushResult> {
  const result: StockPushResult = { accepted: [], rejected: [] };
  const simple: Pending[] = [];
  const variations = new Map<string, Pending[]>();
  const seen = new Set<string>();
  for (const item of items) {
    const productId = wooIdString(item.productId);
    const variationId = wooIdString(item.variantId);
    const target = variationId ? `${productId}/${variationId}` : `${productId}`;
    if (!productId) {
      result.rejected.push({ sku: item.sku, reason: 'missing_product_id' });
    } else if (!Number.isSafeInteger(item.quantity)) {
      result.rejected.push({ sku: item.sku, reason: 'invalid_quantity' });
    } else if (seen.has(target)) {
      result.rejected.push({ sku: item.sku, reason: 'duplicate_product_id' });
    } else {
      seen.add(target);
      if (variationId) {
        const list = variations.get(productId) ?? [];
        list.push({ sku: item.sku, id: variationId, quantity: item.quantity });
        variations.set(productId, list);
      } else {
        simple.push({ sku: item.sku, id: productId, quantity: item.quantity });
      }
    }
  }
  const groups: [string, Pending[]][] = [
    ['products/batch', simple],
    ...[...variations].map(([parent, list]): [string, Pending[]] => [
      `products/${parent}/variations/batch`,
      list,
    ]),
  ];
  for (const [url, list] of groups) {
    for (let i = 0; i < list.length; i += STOCK_BATCH_SIZE) {
      await pushBatch(ctx, url, list.slice(i, i + STOCK_BATCH_SIZE), result);
    }
  }
  return result;
}
