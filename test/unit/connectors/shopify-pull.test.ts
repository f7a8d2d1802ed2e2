import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PullPage } from '../../../connectors/contract.js';
import shopify, { initialPullStart, pullSince } from '../../../connectors/shopify/index.js';
import { ORDERS_PAGE_SIZE } from '../../../connectors/shopify/pull.js';
import { ChannelAuthError } from '../../../src/errors/index.js';
import { COST_OK, context, GRAPHQL_PATH, graphqlReplies, SHOP } from './shopify-fixtures.js';

function orderNode(n: number, updatedAt: string) {
  return {
    id: `gid://shopify/Order/${820982911946154500n + BigInt(n)}`,
    name: `#${1000 + n}`,
    createdAt: '2026-11-01T00:00:00Z',
    updatedAt,
    cancelledAt: null,
    currencyCode: 'EUR',
    email: null,
    customer: null,
    lineItems: {
      pageInfo: { hasNextPage: false, endCursor: null as string | null },
      nodes: [
        {
          id: `gid://shopify/LineItem/${n}`,
          sku: `SKU-${n}`,
          title: 'Thing',
          quantity: 1,
          variant: {
            id: `gid://shopify/ProductVariant/${n}`,
            inventoryItem: { id: `gid://shopify/InventoryItem/${n}` },
          },
          product: { id: `gid://shopify/Product/${n}` },
          originalUnitPriceSet: { shopMoney: { amount: '10.0', currencyCode: 'EUR' } },
        },
      ],
    },
  };
}

function page(nodes: unknown[], endCursor: string | null) {
  return {
    data: { orders: { pageInfo: { hasNextPage: endCursor !== null, endCursor }, nodes } },
    extensions: COST_OK,
  };
}

async function collect(iterable: AsyncIterable<PullPage>): Promise<PullPage[]> {
  const pages: PullPage[] = [];
  for await (const p of iterable) pages.push(p);
  return pages;
}

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});

afterEach(() => {
  nock.cleanAll();
});

describe('shopify pullOrders', () => {
  it('follows pageInfo across 3 pages with the updated_at filter, cursor = latest updatedAt', async () => {
    const { seen, scope } = graphqlReplies([
      [200, page([orderNode(1, '2026-11-01T10:00:00Z'), orderNode(2, '2026-11-01T10:05:00Z')], 'c1')],
      [200, page([orderNode(3, '2026-11-01T11:00:00Z')], 'c2')],
      [200, page([orderNode(4, '2026-11-01T12:30:00Z')], null)],
    ]);
    const { ctx } = context();
    const pages = await collect(shopify.pullOrders(ctx, '2026-11-01T09:50:00.000Z'));
    scope.done();

    expect(pages.map((p) => p.orders.length)).toEqual([2, 1, 1]);
    expect(pages.map((p) => p.nextCursor)).toEqual([
      '2026-11-01T10:05:00.000Z',
      '2026-11-01T11:00:00.000Z',
      '2026-11-01T12:30:00.000Z',
    ]);
    expect(seen.map((r) => r.variables.after)).toEqual([null, 'c1', 'c2']);
    for (const r of seen) {
      expect(r.variables.query).toBe("updated_at:>='2026-11-01T09:50:00Z'");
      expect(r.variables.first).toBe(ORDERS_PAGE_SIZE);
      expect(r.query).toContain('sortKey: UPDATED_AT');
    }
    const first = pages[0]?.orders[0];
    expect(first?.order).toMatchObject({
      currency: 'EUR',
      lines: [{ channelSku: 'SKU-1', unitPrice: 1000 }],
    });
    expect(first?.raw).toMatchObject({ name: '#1001' });
  });

  it('a null cursor starts at pullStartAt', async () => {
    const { seen } = graphqlReplies([[200, page([], null)]]);
    const { ctx } = context({ pullStartAt: '2026-10-01T00:00:00+02:00' });
    const pages = await collect(shopify.pullOrders(ctx, null));
    expect(seen[0]?.variables.query).toBe("updated_at:>='2026-09-30T22:00:00Z'");
    expect(pages).toEqual([{ orders: [], nextCursor: '2026-09-30T22:00:00.000Z' }]);
  });

  it('waits out a THROTTLED answer per the cost figures, then asks again', async () => {
    const throttled = {
      errors: [
        { message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev' } },
      ],
      extensions: {
        cost: {
          requestedQueryCost: 104,
          actualQueryCost: null,
          throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 100, restoreRate: 100 },
        },
      },
    };
    const { seen, scope } = graphqlReplies([
      [200, throttled],
      [200, page([orderNode(1, '2026-11-01T10:00:00Z')], null)],
    ]);
    const { ctx } = context();
    const started = Date.now();
    const pages = await collect(shopify.pullOrders(ctx, '2026-11-01T00:00:00Z'));
    scope.done();
    expect(seen).toHaveLength(2);
    expect(pages[0]?.orders).toHaveLength(1);
    // (104 - 100) points at 100 points/second = 40 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
  });

  it('waits Retry-After on HTTP 429 (seconds, as ms), then succeeds', async () => {
    const { scope } = graphqlReplies([
      [
        429,
        {
          errors:
            'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.',
        },
        { 'Retry-After': '1' },
      ],
      [200, page([orderNode(1, '2026-11-01T10:00:00Z')], null)],
    ]);
    const { ctx, waits } = context();
    const pages = await collect(shopify.pullOrders(ctx, '2026-11-01T00:00:00Z'));
    scope.done();
    expect(waits).toEqual([1_000]);
    expect(pages[0]?.orders).toHaveLength(1);
  });

  it('retries a 5xx, then succeeds', async () => {
    const { scope } = graphqlReplies([
      [503, 'Service Unavailable'],
      [502, 'Bad Gateway'],
      [200, page([orderNode(1, '2026-11-01T10:00:00Z')], null)],
    ]);
    const { ctx, waits } = context();
    const pages = await collect(shopify.pullOrders(ctx, '2026-11-01T00:00:00Z'));
    scope.done();
    expect(waits).toHaveLength(2);
    expect(pages[0]?.orders).toHaveLength(1);
  });

  it('401 throws ChannelAuthError after one attempt, without the token in the message', async () => {
    const { seen, scope } = graphqlReplies([
      [401, { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' }],
    ]);
    const { ctx, waits } = context();
    const err = await collect(shopify.pullOrders(ctx, '2026-11-01T00:00:00Z')).catch((e: unknown) => e);
    scope.done();
    expect(err).toBeInstanceOf(ChannelAuthError);
    expect(seen).toHaveLength(1);
    expect(waits).toEqual([]);
    expect(String((err as Error).message)).not.toContain(ctx.settings.accessToken);
  });

  it('asks for half as many orders when the page would cost too much', async () => {
    const tooCostly = {
      errors: [
        {
          message: 'Query cost is 1202, which exceeds the single query max cost limit (1000).',
          extensions: { code: 'MAX_COST_EXCEEDED', cost: 1202, maxCost: 1000 },
        },
      ],
    };
    const { seen } = graphqlReplies([
      [200, tooCostly],
      [200, page([orderNode(1, '2026-11-01T10:00:00Z')], null)],
    ]);
    const { ctx } = context();
    await collect(shopify.pullOrders(ctx, '2026-11-01T00:00:00Z'));
    expect(seen.map((r) => r.variables.first)).toEqual([ORDERS_PAGE_SIZE, Math.floor(ORDERS_PAGE_SIZE / 2)]);
  });

  it('sizes every page within the 1,000-point query maximum: one request per page, pull after pull', async () => {
    // Shopify's reckoning (shopify.dev rate limits): a connection costs 2 + first × its node's
    // cost, an object 1, a scalar nothing. An order node: itself, its customer, its four total money
    // sets with their shop money, its shipping lines connection (first 5, each with its price set,
    // discount allocations and their sets), and its line items connection, each line with its
    // variant, inventory item, product, price set and shop money, discount allocations and tax lines
    // with their sets and shop money; and its first 2 refunds (a list, reckoned like a connection),
    // each with its first 5 refunded line items (a connection with its page info) and their line item.
    const requestedCost = (v: Record<string, unknown>) =>
      2 + Number(v.first) * (1 + 1 + 8 + (2 + 5 * 6) + (3 + 2 * (1 + 3 + 5 * 2)) + 2 + Number(v.lines) * 12);
    const seen: Record<string, unknown>[] = [];
    nock(SHOP)
      .post(GRAPHQL_PATH)
      .times(4)
      .reply((_uri, body) => {
        const { variables } = (typeof body === 'string' ? JSON.parse(body) : body) as {
          variables: Record<string, unknown>;
        };
        seen.push(variables);
        const cost = requestedCost(variables);
        if (cost > 1000) {
          return [
            200,
            {
              errors: [
                {
                  message: `Query cost is ${cost}, which exceeds the single query max cost limit (1000).`,
                  extensions: { code: 'MAX_COST_EXCEEDED', cost, maxCost: 1000 },
                },
              ],
            },
          ];
        }
        return [200, page([orderNode(1, '2026-11-01T10:00:00Z')], null)];
      });
    const { ctx } = context();
    await collect(shopify.pullOrders(ctx, '2026-11-01T00:00:00Z'));
    await collect(shopify.pullOrders(ctx, '2026-11-01T10:00:00Z'));
    expect(seen).toHaveLength(2);
    for (const v of seen) {
      expect(requestedCost(v)).toBeLessThanOrEqual(1000);
      // A page still takes several orders, and their money and refunds with them.
      expect(Number(v.first)).toBeGreaterThanOrEqual(7);
      expect(Number(v.lines)).toBeGreaterThanOrEqual(5);
    }
  });

  it('charges the shared limiter what each query actually cost, not a guess', async () => {
    let charged = 0;
    const limiter = {
      acquire: async (cost = 1) => {
        charged += cost;
      },
      adjust: async (units: number) => {
        charged += units;
      },
    };
    const throttled = {
      errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }],
      extensions: {
        cost: {
          requestedQueryCost: 962,
          actualQueryCost: null,
          throttleStatus: { maximumAvailable: 1000, currentlyAvailable: 960, restoreRate: 100 },
        },
      },
    };
    const costly = (actual: number) => ({
      ...page([orderNode(1, '2026-11-01T10:00:00Z')], null),
      extensions: {
        cost: {
          requestedQueryCost: 962,
          actualQueryCost: actual,
          throttleStatus: { maximumAvailable: 1000, currentlyAvailable: 1000 - actual, restoreRate: 100 },
        },
      },
    });
    graphqlReplies([
      [200, throttled],
      [200, costly(312)],
      [200, costly(287)],
    ]);
    const { ctx } = context({}, limiter);
    await collect(shopify.pullOrders(ctx, '2026-11-01T00:00:00Z'));
    // The throttled attempt ran nothing and costs nothing; the other two cost what Shopify says.
    expect(charged).toBe(312);
    await collect(shopify.pullOrders(ctx, '2026-11-01T10:00:00Z'));
    expect(charged).toBe(312 + 287);
  });

  it('fetches the rest of a long order’s lines', async () => {
    const long = orderNode(1, '2026-11-01T10:00:00Z');
    long.lineItems.pageInfo = { hasNextPage: true, endCursor: 'l1' };
    const more = {
      data: {
        order: {
          lineItems: {
            pageInfo: { hasNextPage: false, endCursor: null },
            nodes: [{ ...long.lineItems.nodes[0], id: 'gid://shopify/LineItem/99', sku: 'SKU-99' }],
          },
        },
      },
    };
    const { seen } = graphqlReplies([
      [200, page([long], null)],
      [200, more],
    ]);
    const { ctx } = context();
    const pages = await collect(shopify.pullOrders(ctx, '2026-11-01T00:00:00Z'));
    expect(seen[1]?.variables).toMatchObject({ id: long.id, after: 'l1' });
    expect(pages[0]?.orders[0]?.order.lines.map((l) => l.channelSku)).toEqual(['SKU-1', 'SKU-99']);
  });
});

describe('pull cursor helpers', () => {
  it('pullSince moves the cursor back by the overlap', () => {
    expect(pullSince('2026-11-01T12:30:00.000Z', 600)).toBe('2026-11-01T12:20:00Z');
    expect(pullSince(null, 600)).toBeNull();
  });

  it('initialPullStart is one interval plus the overlap ago without pullStartAt', () => {
    const { ctx } = context();
    expect(initialPullStart(ctx.settings, Date.parse('2026-11-01T12:00:00Z'))).toBe('2026-11-01T11:45:00Z');
  });
});
