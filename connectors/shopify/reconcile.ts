import { PermanentError } from '../../src/errors/permanent-error.js';
import type {
  ChannelOrderSummary,
  ConnectorContext,
  OrderListRange,
  PullPage,
  ShownStock,
  StockItem,
} from '../contract.js';
import { isSafeChannelUrl } from '../http/safe-url.js';
import { toMinorUnits } from '../shared/money.js';
import { shopifyGraphql } from './graphql.js';
import { shopifyIdString, toGid } from './normalize.js';
import { ORDERS_PAGE_SIZE, shopifyOrderPages } from './pull.js';
import type { ShopifySettings } from './settings.js';

/*
 * What reconciliation reads from a shop. The day's orders come through a bulk operation — Shopify's
 * way for large reads: one mutation starts it, Shopify runs the query on its side without the cost
 * limit, we poll its status (cheap queries, under the cost throttle) and download the result as
 * JSONL. Paging 100,000 orders through `orders(first:)` would cost about 700,000 points, over an
 * hour and a half at a Plus shop's 1000 points/s. Orders we miss are then read in full with the
 * pull's own query, a few ids at a time.
 */

/** Summaries handed to the caller at a time. */
const SUMMARY_BATCH = 1000;
/** Ids per `orders(query: "id:… OR id:…")` when reading missing orders in full: one page each. */
const FETCH_IDS_PER_QUERY = ORDERS_PAGE_SIZE;
/** Inventory items per stock read: `nodes(ids:)` at about three points each. */
const STOCK_READ_BATCH = 100;
/** First and longest wait between two status polls of a bulk operation (ms). */
const POLL_FIRST_MS = 200;
const POLL_MAX_MS = 5_000;
/** Longest a bulk operation may run before the read gives up (ms); the job's retry starts again. */
const BULK_TIMEOUT_MS = 30 * 60_000;

export const BULK_RUN_MUTATION = `
mutation RunBulk($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}`;

export const BULK_STATUS_QUERY = `
query BulkStatus($id: ID!) {
  node(id: $id) {
    ... on BulkOperation { id status errorCode objectCount url partialDataUrl }
  }
}`;

/** The bulk query of order summaries changed at or after `since` (bulk queries use edges/node). */
export function bulkOrdersQuery(since: string): string {
  return `{
  orders(query: "updated_at:>='${since}'", sortKey: UPDATED_AT) {
    edges {
      node {
        id
        name
        createdAt
        updatedAt
        cancelledAt
        currencyCode
        currentTotalPriceSet { shopMoney { amount } }
        currentTotalTaxSet { shopMoney { amount } }
        totalShippingPriceSet { shopMoney { amount } }
      }
    }
  }
}`;
}

interface BulkOperation {
  id: string;
  status: string;
  errorCode?: string | null;
  objectCount?: string | number | null;
  url?: string | null;
  partialDataUrl?: string | null;
}

/** A bulk operation could not be started or did not complete: try the run again later. */
export class ShopifyBulkError extends Error {
  override name = 'ShopifyBulkError';
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts a bulk query and waits for it; returns the result's URL (null: no objects). */
export async function runBulkQuery(
  ctx: ConnectorContext<ShopifySettings>,
  query: string,
  options: { pollFirstMs?: number } = {},
): Promise<string | null> {
  const started = await shopifyGraphql<{
    bulkOperationRunQuery: {
      bulkOperation: BulkOperation | null;
      userErrors: { message?: string; code?: string | null }[];
    } | null;
  }>(ctx, BULK_RUN_MUTATION, { query }, { cost: 10 });
  const run = started.bulkOperationRunQuery;
  if (!run?.bulkOperation) {
    const why = (run?.userErrors ?? []).map((e) => `${e.code ?? ''} ${e.message ?? ''}`.trim()).join('; ');
    throw new ShopifyBulkError(`Shopify: the bulk read could not start (${why || 'no operation'})`);
  }
  const id = run.bulkOperation.id;
  const deadline = Date.now() + BULK_TIMEOUT_MS;
  let wait = options.pollFirstMs ?? POLL_FIRST_MS;
  for (;;) {
    const data = await shopifyGraphql<{ node: BulkOperation | null }>(
      ctx,
      BULK_STATUS_QUERY,
      { id },
      { cost: 1 },
    );
    const op = data.node;
    if (!op) throw new ShopifyBulkError(`Shopify: bulk operation ${id} not found`);
    if (op.status === 'COMPLETED') {
      if (!op.url) return null;
      return op.url;
    }
    if (op.status === 'FAILED' || op.status === 'CANCELED' || op.status === 'EXPIRED') {
      throw new ShopifyBulkError(
        `Shopify: bulk operation ${op.status.toLowerCase()} (${op.errorCode ?? 'no code'})`,
      );
    }
    if (Date.now() > deadline) throw new ShopifyBulkError(`Shopify: bulk operation ${id} still ${op.status}`);
    await sleep(wait);
    wait = Math.min(POLL_MAX_MS, wait * 2);
  }
}

/**
 * The lines of a bulk result, downloaded without the shop's token (the URL is signed and points at
 * Shopify's storage, not the Admin API), one parsed object at a time.
 */
export async function* jsonLines(url: string): AsyncIterable<Record<string, unknown>> {
  if (!isSafeChannelUrl(url))
    throw new PermanentError('unsafe_url', 'Shopify: the bulk result URL is not https');
  const res = await fetch(url);
  if (!res.ok || !res.body)
    throw new ShopifyBulkError(`Shopify: bulk result download answered ${res.status}`);
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    rest += decoder.decode(chunk, { stream: true });
    let nl = rest.indexOf('\n');
    while (nl >= 0) {
      const line = rest.slice(0, nl).trim();
      rest = rest.slice(nl + 1);
      if (line) yield JSON.parse(line) as Record<string, unknown>;
      nl = rest.indexOf('\n');
    }
  }
  rest += decoder.decode();
  if (rest.trim()) yield JSON.parse(rest.trim()) as Record<string, unknown>;
}

const shopAmount = (bag: unknown): unknown =>
  typeof bag === 'object' && bag !== null && typeof (bag as Record<string, unknown>).shopMoney === 'object'
    ? ((bag as Record<string, Record<string, unknown>>).shopMoney?.amount ?? undefined)
    : undefined;

/** One JSONL row of `bulkOrdersQuery` as a summary; null when it is not a readable order. */
export function summaryOf(row: Record<string, unknown>): ChannelOrderSummary | null {
  const externalId = shopifyIdString(row.id);
  const currency = typeof row.currencyCode === 'string' ? row.currencyCode.toUpperCase() : null;
  const placed = Date.parse(String(row.createdAt));
  const updated = Date.parse(String(row.updatedAt));
  if (!externalId || !currency || Number.isNaN(placed) || Number.isNaN(updated)) return null;
  const money = (bag: unknown) => {
    const amount = shopAmount(bag);
    if (amount === undefined || amount === null) return undefined;
    return toMinorUnits(amount, currency) ?? undefined;
  };
  const total = money(row.currentTotalPriceSet);
  const tax = money(row.currentTotalTaxSet);
  const shipping = money(row.totalShippingPriceSet);
  return {
    externalId,
    name: typeof row.name === 'string' ? row.name : null,
    placedAt: new Date(placed).toISOString(),
    updatedAt: new Date(updated).toISOString(),
    cancelled: row.cancelledAt !== null && row.cancelledAt !== undefined && row.cancelledAt !== '',
    currency,
    ...(total === undefined ? {} : { total }),
    ...(tax === undefined ? {} : { tax }),
    ...(shipping === undefined ? {} : { shipping }),
  };
}

/** Every order changed at or after `range.updatedFrom`, through one bulk operation. */
export async function* listShopifyOrders(
  ctx: ConnectorContext<ShopifySettings>,
  range: OrderListRange,
): AsyncIterable<ChannelOrderSummary[]> {
  const url = await runBulkQuery(ctx, bulkOrdersQuery(range.updatedFrom));
  if (url === null) return;
  let batch: ChannelOrderSummary[] = [];
  for await (const row of jsonLines(url)) {
    // Rows of nested connections carry `__parentId`; the summary query has none, but skip any.
    if ('__parentId' in row) continue;
    const summary = summaryOf(row);
    if (!summary) {
      ctx.log.warn({ orderGid: row.id }, 'shopify: a bulk order row could not be read; left out');
      continue;
    }
    batch.push(summary);
    if (batch.length >= SUMMARY_BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** These orders in full, read with the pull's query (`id:1 OR id:2 …`) and normalized as pulled. */
export async function* fetchShopifyOrders(
  ctx: ConnectorContext<ShopifySettings>,
  externalIds: readonly string[],
): AsyncIterable<PullPage> {
  const ids = externalIds.filter((id) => /^\d+$/.test(id));
  for (let i = 0; i < ids.length; i += FETCH_IDS_PER_QUERY) {
    const filter = ids
      .slice(i, i + FETCH_IDS_PER_QUERY)
      .map((id) => `id:${id}`)
      .join(' OR ');
    yield* shopifyOrderPages(ctx, filter, 0);
  }
}

/** The `available` quantity the shop shows at the channel's location for each item. */
export async function readShopifyStock(
  ctx: ConnectorContext<ShopifySettings>,
  items: readonly Omit<StockItem, 'quantity'>[],
): Promise<ShownStock[]> {
  const location = toGid('Location', ctx.settings.locationId);
  const out: ShownStock[] = [];
  const known = items.filter((i) => toGid('InventoryItem', i.inventoryItemId) !== null);
  for (const i of items) if (!known.includes(i)) out.push({ sku: i.sku, quantity: null });
  if (!location) return items.map((i) => ({ sku: i.sku, quantity: null }));
  for (let i = 0; i < known.length; i += STOCK_READ_BATCH) {
    const batch = known.slice(i, i + STOCK_READ_BATCH);
    const data = await shopifyGraphql<{
      nodes: ({
        id?: string;
        inventoryLevel?: { quantities?: { name?: string; quantity?: number }[] } | null;
      } | null)[];
    }>(
      ctx,
      `query Shown($ids: [ID!]!, $location: ID!) {
  nodes(ids: $ids) {
    ... on InventoryItem { id inventoryLevel(locationId: $location) { quantities(names: ["available"]) { name quantity } } }
  }
}`,
      { ids: batch.map((b) => toGid('InventoryItem', b.inventoryItemId)), location },
      { cost: 3 * batch.length + 2 },
    );
    batch.forEach((item, n) => {
      const node = data.nodes[n];
      const q = node?.inventoryLevel?.quantities?.find((x) => x.name === 'available')?.quantity;
      out.push({ sku: item.sku, quantity: typeof q === 'number' ? q : null });
    });
  }
  return out;
}
