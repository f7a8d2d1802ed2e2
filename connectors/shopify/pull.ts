import type { ConnectorContext, PulledOrder, PullPage } from '../contract.js';
import { ShopifyGraphqlError, shopifyGraphql } from './graphql.js';
import { normalizeShopifyOrder } from './normalize.js';
import type { ShopifySettings } from './settings.js';

/** Orders asked for per page (also `manifest.limits.pageSize`). */
export const ORDERS_PAGE_SIZE = 50;
/** Line items fetched with each order; longer orders fetch the rest separately. */
export const LINES_WITH_ORDER = 10;
/** Line items per follow-up page for long orders. */
const LINES_PAGE_SIZE = 100;

const LINE_FIELDS = `
  id
  sku
  title
  quantity
  currentQuantity
  variant { id inventoryItem { id } }
  product { id }
  originalUnitPriceSet { shopMoney { amount currencyCode } }
`;

export const ORDERS_QUERY = `
query PullOrders($first: Int!, $after: String, $query: String!, $lines: Int!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      name
      createdAt
      updatedAt
      cancelledAt
      currencyCode
      email
      customer { id firstName lastName }
      lineItems(first: $lines) {
        pageInfo { hasNextPage endCursor }
        nodes { ${LINE_FIELDS} }
      }
    }
  }
}`;

export const ORDER_LINES_QUERY = `
query OrderLines($id: ID!, $first: Int!, $after: String) {
  order(id: $id) {
    lineItems(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { ${LINE_FIELDS} }
    }
  }
}`;

interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

interface LineConnection {
  pageInfo?: PageInfo;
  nodes?: unknown[];
}

interface OrderNode {
  id?: string;
  updatedAt?: string;
  lineItems?: LineConnection;
  [key: string]: unknown;
}

interface OrdersData {
  orders: { pageInfo: PageInfo; nodes: OrderNode[] };
}

interface OrderLinesData {
  order: { lineItems: LineConnection } | null;
}

/** ISO 8601 UTC without milliseconds, rounded down (the search filter works in seconds). */
function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * The cursor to start a pull from: `cursor` (an ISO time) moved back by `overlapSeconds`, so
 * orders written late near the previous pull's end are read again. Null stays null.
 */
export function pullSince(cursor: string | null, overlapSeconds: number): string | null {
  if (cursor === null) return null;
  const ms = Date.parse(cursor);
  if (Number.isNaN(ms)) return null;
  return isoSeconds(ms - Math.max(0, overlapSeconds) * 1000);
}

/** Where a pull with no cursor starts: `pullStartAt`, else one interval plus the overlap ago. */
export function initialPullStart(settings: ShopifySettings, now: number = Date.now()): string {
  if (settings.pullStartAt) return isoSeconds(Date.parse(settings.pullStartAt));
  return isoSeconds(now - (settings.pullIntervalSeconds + settings.pullOverlapSeconds) * 1000);
}

/** The search filter for orders changed at or after `since`. */
export function updatedSinceFilter(since: string): string {
  return `updated_at:>='${since}'`;
}

/** Fetches the lines an order's first page of line items left out. */
async function completeLines(ctx: ConnectorContext<ShopifySettings>, node: OrderNode): Promise<void> {
  let conn = node.lineItems;
  const nodes = [...(conn?.nodes ?? [])];
  while (conn?.pageInfo?.hasNextPage && node.id) {
    const data = await shopifyGraphql<OrderLinesData>(
      ctx,
      ORDER_LINES_QUERY,
      { id: node.id, first: LINES_PAGE_SIZE, after: conn.pageInfo.endCursor },
      { cost: LINES_PAGE_SIZE / 10 },
    );
    conn = data.order?.lineItems;
    nodes.push(...(conn?.nodes ?? []));
  }
  node.lineItems = { pageInfo: { hasNextPage: false, endCursor: null }, nodes };
}

/**
 * Pages of orders updated at or after the cursor (an ISO time; null: `initialPullStart`), oldest
 * change first. Every page's `nextCursor` is the latest `updatedAt` seen so far, so a pull cut
 * short resumes where it stopped; the caller moves it back by the overlap (see `pullSince`). A
 * page that costs more than Shopify allows in one query is asked for again at half the size.
 */
export async function* pullShopifyOrders(
  ctx: ConnectorContext<ShopifySettings>,
  cursor: string | null,
): AsyncIterable<PullPage> {
  const since =
    cursor && !Number.isNaN(Date.parse(cursor))
      ? isoSeconds(Date.parse(cursor))
      : initialPullStart(ctx.settings);
  const filter = updatedSinceFilter(since);
  let latest = Date.parse(since);
  let after: string | null = null;
  let first = ORDERS_PAGE_SIZE;

  for (;;) {
    let data: OrdersData;
    try {
      data = await shopifyGraphql<OrdersData>(
        ctx,
        ORDERS_QUERY,
        { first, after, query: filter, lines: LINES_WITH_ORDER },
        // Our limiter's share, in cost points: a guess near the usual actual cost (Shopify refunds
        // the gap to the much higher requested cost); the THROTTLED handling covers the rest.
        { cost: first * 2 + 2 },
      );
    } catch (err) {
      if (err instanceof ShopifyGraphqlError && err.codes.includes('MAX_COST_EXCEEDED') && first > 1) {
        first = Math.max(1, Math.floor(first / 2));
        ctx.log.warn({ first }, 'shopify: orders page too costly, asking for fewer orders');
        continue;
      }
      throw err;
    }

    const orders: PulledOrder[] = [];
    for (const node of data.orders.nodes) {
      await completeLines(ctx, node);
      try {
        const order = normalizeShopifyOrder(node);
        orders.push({ raw: node, order });
        latest = Math.max(latest, Date.parse(order.updatedAt));
      } catch (err) {
        ctx.log.error({ err, orderGid: node.id }, 'shopify: pulled order could not be read; skipped');
      }
    }

    const { hasNextPage, endCursor } = data.orders.pageInfo;
    yield { orders, nextCursor: new Date(latest).toISOString() };
    if (!hasNextPage || !endCursor) return;
    after = endCursor;
  }
}
