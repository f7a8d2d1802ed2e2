import type { ConnectorContext, PulledOrder, PullPage, UnreadOrder } from '../contract.js';
import { pullStartOf } from '../shared/pull-settings.js';
import { ShopifyGraphqlError, shopifyGraphql } from './graphql.js';
import { normalizeShopifyOrder, shopifyIdString } from './normalize.js';
import type { ShopifySettings } from './settings.js';

/** Line items fetched with each order; longer orders fetch the rest separately. */
export const LINES_WITH_ORDER = 5;
/** Most orders asked for per page, however cheap the query. */
const MAX_ORDERS_PAGE_SIZE = 50;
/** Line items per follow-up page for long orders (the most whose cost fits `MAX_QUERY_COST`). */
const LINES_PAGE_SIZE = 80;
/** Shipping lines fetched with each order (an order has one, now and then two). */
const SHIPPING_LINES = 5;

/**
 * Refunds read with each order (with their money: what was paid back and the refunded items'
 * value), and refunded line items with each refund: a refund with more is left to the webhooks
 * (`refunds/create`, `orders/updated`), which carry it whole.
 */
const REFUNDS_WITH_ORDER = 2;
const REFUND_LINES = 5;

/** Shopify refuses a query whose requested cost exceeds this (`MAX_COST_EXCEEDED`). */
export const MAX_QUERY_COST = 1000;
/**
 * Requested cost of a connection as Shopify reckons it: 2, plus its `pageInfo` object, plus
 * `first` times the cost of each node (objects cost 1, scalars nothing).
 */
const connectionCost = (first: number, nodeCost: number) => 3 + first * nodeCost;
/**
 * A line item and its variant, inventory item, product, price set and shop money (six objects),
 * its discount allocations and tax lines with their money sets and shop money (six more).
 */
const LINE_NODE_COST = 12;
/** A shipping line, its price set and shop money, its discount allocations with theirs. */
const SHIPPING_NODE_COST = 6;
/** A refunded line item and its line item (its id only: the order's line items say the rest). */
const REFUND_LINE_NODE_COST = 2;
/** A refund and its connection of refunded line items. */
const REFUND_NODE_COST = 1 + connectionCost(REFUND_LINES, REFUND_LINE_NODE_COST);
/**
 * An order and its customer, its four total money sets with their shop money, its shipping lines,
 * its refunds (a list with `first`, reckoned like a connection to stay on the safe side), and a
 * connection of `lines` line items.
 */
const orderNodeCost = (lines: number) =>
  2 +
  8 +
  connectionCost(SHIPPING_LINES, SHIPPING_NODE_COST) +
  connectionCost(REFUNDS_WITH_ORDER, REFUND_NODE_COST) +
  connectionCost(lines, LINE_NODE_COST);

/** The requested cost of `ORDERS_QUERY` for `first` orders with `lines` line items each. */
export function ordersQueryCost(first: number, lines: number = LINES_WITH_ORDER): number {
  return connectionCost(first, orderNodeCost(lines));
}

/** The requested cost of `ORDER_LINES_QUERY` for `first` line items: the order and its lines. */
export function orderLinesQueryCost(first: number): number {
  return 1 + connectionCost(first, LINE_NODE_COST);
}

/** The most orders one `ORDERS_QUERY` may ask for and stay within `MAX_QUERY_COST`. */
export function ordersPageSize(lines: number = LINES_WITH_ORDER): number {
  const fits = Math.floor((MAX_QUERY_COST - connectionCost(0, 0)) / orderNodeCost(lines));
  return Math.max(1, Math.min(MAX_ORDERS_PAGE_SIZE, fits));
}

/** Orders asked for per page (also `manifest.limits.pageSize`): as many as the cost allows. */
export const ORDERS_PAGE_SIZE = ordersPageSize();

const LINE_FIELDS = `
  id
  sku
  title
  quantity
  currentQuantity
  variant { id inventoryItem { id } }
  product { id }
  originalUnitPriceSet { shopMoney { amount currencyCode } }
  discountAllocations { allocatedAmountSet { shopMoney { amount } } }
  taxLines { priceSet { shopMoney { amount } } }
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
      displayFinancialStatus
      currencyCode
      email
      phone
      customerLocale
      customer { id firstName lastName }
      taxesIncluded
      totalTaxSet { shopMoney { amount } }
      currentTotalTaxSet { shopMoney { amount } }
      totalPriceSet { shopMoney { amount } }
      currentTotalPriceSet { shopMoney { amount } }
      shippingLines(first: ${SHIPPING_LINES}) {
        pageInfo { hasNextPage endCursor }
        nodes {
          originalPriceSet { shopMoney { amount } }
          discountAllocations { allocatedAmountSet { shopMoney { amount } } }
        }
      }
      refunds(first: ${REFUNDS_WITH_ORDER}) {
        id
        createdAt
        totalRefundedSet { shopMoney { amount currencyCode } }
        refundLineItems(first: ${REFUND_LINES}) {
          pageInfo { hasNextPage endCursor }
          nodes {
            quantity restockType lineItem { id }
            subtotalSet { shopMoney { amount } }
            totalTaxSet { shopMoney { amount } }
          }
        }
      }
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

/** The channel's id of a pulled order node, when it has a readable one. */
const orderIdOf = (node: OrderNode): string | null => shopifyIdString(node.id);

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
      { cost: orderLinesQueryCost(LINES_PAGE_SIZE) },
    );
    conn = data.order?.lineItems;
    nodes.push(...(conn?.nodes ?? []));
  }
  node.lineItems = { pageInfo: { hasNextPage: false, endCursor: null }, nodes };
}

/**
 * Pages of orders updated at or after the cursor (an ISO time; null: `initialPullStart`), oldest
 * change first. Every page's `nextCursor` is the latest `updatedAt` seen so far, so a pull cut
 * short resumes where it stopped; the caller moves it back by the overlap. Pages are sized so that
 * the query's requested cost stays within Shopify's maximum; should Shopify still find one too
 * costly, that page is asked for again at half the size. An order that cannot be read is handed
 * back as `unread` (stored as a failed event, for a replay).
 */
export async function* pullShopifyOrders(
  ctx: ConnectorContext<ShopifySettings>,
  cursor: string | null,
): AsyncIterable<PullPage> {
  const since = pullStartOf(ctx.settings, cursor);
  yield* shopifyOrderPages(ctx, updatedSinceFilter(since), Date.parse(since));
}

/**
 * Pages of the orders matching a search `filter`, read and normalized as the pull reads them;
 * each page's `nextCursor` is the latest `updatedAt` seen so far, starting from `latest` (ms).
 */
export async function* shopifyOrderPages(
  ctx: ConnectorContext<ShopifySettings>,
  filter: string,
  latestMs: number,
): AsyncIterable<PullPage> {
  let latest = latestMs;
  let after: string | null = null;
  let first = ORDERS_PAGE_SIZE;

  for (;;) {
    let data: OrdersData;
    try {
      data = await shopifyGraphql<OrdersData>(
        ctx,
        ORDERS_QUERY,
        { first, after, query: filter, lines: LINES_WITH_ORDER },
        // The requested cost is taken from the shared limiter first; `shopifyGraphql` gives back
        // what Shopify says the query actually cost less.
        { cost: ordersQueryCost(first) },
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
    const unread: UnreadOrder[] = [];
    for (const node of data.orders.nodes) {
      await completeLines(ctx, node);
      try {
        const order = normalizeShopifyOrder(node);
        orders.push({ raw: node, order });
        latest = Math.max(latest, Date.parse(order.updatedAt));
      } catch (err) {
        ctx.log.error(
          { err, orderGid: node.id },
          'shopify: pulled order could not be read; stored as failed',
        );
        unread.push({ raw: node, externalId: orderIdOf(node), error: (err as Error).message });
        // Stored (as failed), so the cursor may pass it.
        const changed = Date.parse(String(node.updatedAt));
        if (!Number.isNaN(changed)) latest = Math.max(latest, changed);
      }
    }

    const { hasNextPage, endCursor } = data.orders.pageInfo;
    yield { orders, ...(unread.length > 0 ? { unread } : {}), nextCursor: new Date(latest).toISOString() };
    if (!hasNextPage || !endCursor) return;
    after = endCursor;
  }
}
