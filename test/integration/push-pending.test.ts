import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapOrdersLines } from '../../src/channels/sku-map.js';
import { interceptChannelHttp } from '../helpers/nock.js';
import { createStack, seedCatalog, type TestStack } from '../helpers/stack.js';

interceptChannelHttp({ strict: true });

const SHOP = 'https://pending-shop.shopify.test';
const GRAPHQL = '/admin/api/2026-10/graphql.json';
const COST = {
  cost: {
    requestedQueryCost: 10,
    actualQueryCost: 10,
    throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 1990, restoreRate: 100 },
  },
};

/** Shopify's documented answer about the idempotency key: no field path, the batch as a whole. */
const keyProblem = {
  data: {
    inventorySetQuantities: {
      inventoryAdjustmentGroup: null,
      userErrors: [
        {
          field: null,
          message: 'A request with this idempotency key is already in progress.',
          code: 'IDEMPOTENCY_CONCURRENT_REQUEST',
        },
      ],
    },
  },
  extensions: COST,
};
const applied = {
  data: {
    inventorySetQuantities: {
      inventoryAdjustmentGroup: { id: 'gid://shopify/InventoryAdjustmentGroup/1' },
      userErrors: [],
    },
  },
  extensions: COST,
};

/** One stock push call per answer; what each call set is recorded (inventory item -> quantity). */
function shopifyPushes(answers: unknown[]) {
  const calls: { key: string; quantities: Record<string, number> }[] = [];
  const scope = nock(SHOP);
  for (const answer of answers) {
    scope
      .post(GRAPHQL, (body) => String(body.query).includes('inventorySetQuantities'))
      .reply((_uri, body) => {
        const b = body as { query: string; variables: any };
        calls.push({
          key: /@idempotent\(key: "([^"]+)"\)/.exec(b.query)?.[1] ?? '',
          quantities: Object.fromEntries(
            b.variables.input.quantities.map((q: { inventoryItemId: string; quantity: number }) => [
              q.inventoryItemId.split('/').pop(),
              q.quantity,
            ]),
          ),
        });
        return [200, answer];
      });
  }
  return calls;
}

/** One page of pulled orders, each with one line (GraphQL node shape, as the pull asks for it). */
function pulledOrders(
  orders: { id: string; sku: string; variantId: string; inventoryItemId: string | null }[],
) {
  nock(SHOP)
    .post(GRAPHQL, (body) => String(body.query).includes('orders('))
    .reply(200, {
      data: {
        orders: {
          pageInfo: { hasNextPage: false, endCursor: null },
          nodes: orders.map((o) => ({
            id: `gid://shopify/Order/${o.id}`,
            name: `#${o.id}`,
            createdAt: '2026-11-20T09:00:00Z',
            updatedAt: '2026-11-20T09:00:00Z',
            cancelledAt: null,
            currencyCode: 'EUR',
            email: null,
            customer: null,
            lineItems: {
              pageInfo: { hasNextPage: false, endCursor: null },
              nodes: [
                {
                  id: `gid://shopify/LineItem/${o.id}1`,
                  sku: o.sku,
                  title: o.sku,
                  quantity: 1,
                  currentQuantity: 1,
                  variant: {
                    id: `gid://shopify/ProductVariant/${o.variantId}`,
                    inventoryItem: o.inventoryItemId
                      ? { id: `gid://shopify/InventoryItem/${o.inventoryItemId}` }
                      : null,
                  },
                  product: { id: 'gid://shopify/Product/7700000000000000001' },
                  originalUnitPriceSet: { shopMoney: { amount: '10.00', currencyCode: 'EUR' } },
                },
              ],
            },
          })),
        },
      },
      extensions: COST,
    });
}

describe.each([
  ['SQLite (embedded default)', true],
  ['MariaDB', false],
])('what stays and becomes pending for stock pushes, on %s', (_name, sqlite) => {
  let stack: TestStack;
  let seq = 0;

  const publication = async (sku: string, channelId: number) =>
    (await stack.api('GET', `/api/stock/${sku}`)).body.channels.find(
      (c: { channelId: number }) => c.channelId === channelId,
    );

  async function newShopifyChannel(): Promise<number> {
    const res = await stack.api('POST', '/api/channels', {
      type: 'shopify',
      name: `Pending ${++seq}`,
      settings: {
        shopDomain: 'pending-shop.myshopify.com',
        accessToken: 'shpat_pending_token_0123456789',
        webhookSecret: 'pending-secret',
        apiBaseUrl: `${SHOP}/admin/api/2026-10`,
        locationId: '77',
        plan: 'plus',
        pullStartAt: '2026-11-01T00:00:00Z',
      },
    });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  beforeAll(async () => {
    stack = await createStack({ sqlite });
    await seedCatalog(stack, [{ code: 'A', priority: 1 }], ['P1', 'P2', 'P3', 'P4']);
    const receipt = await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'A',
      reference: 'opening',
      lines: [
        { sku: 'P1', quantity: 10 },
        { sku: 'P2', quantity: 8 },
        { sku: 'P3', quantity: 6 },
        { sku: 'P4', quantity: 4 },
      ],
    });
    expect(receipt.status).toBeLessThan(300);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('a batch Shopify answers with an idempotency error is sent under a fresh key and stays pending, not refused', async () => {
    const id = await newShopifyChannel();
    expect((await stack.api('PUT', `/api/channels/${id}/skus/P1`, { inventoryItemId: '901' })).status).toBe(
      200,
    );
    expect((await stack.api('POST', `/api/channels/${id}/stock/resync`)).status).toBe(202);

    // The first send and every resend under a fresh key meet the same answer.
    const calls = shopifyPushes([keyProblem, keyProblem, keyProblem, keyProblem]);
    const first = await stack.channels.push(id);
    expect(first).toMatchObject({ sent: 1, accepted: 0, rejected: [], stillPending: 1 });
    expect(first.deferred).toEqual([
      { sku: 'P1', reason: expect.stringContaining('IDEMPOTENCY_CONCURRENT_REQUEST') },
    ]);
    expect(calls).toHaveLength(4);
    expect(new Set(calls.map((c) => c.key)).size).toBe(4);
    // Still pending, not marked refused, nothing published.
    expect(await publication('P1', id)).toMatchObject({ pending: true, published: null, lastError: null });

    // The next push sends it again and it is published.
    const next = shopifyPushes([applied]);
    expect(await stack.channels.push(id)).toMatchObject({
      sent: 1,
      accepted: 1,
      rejected: [],
      stillPending: 0,
    });
    expect(next[0]!.quantities).toEqual({ '901': 10 });
    expect(await publication('P1', id)).toMatchObject({ pending: false, published: 10, lastError: null });
  });

  it('a channel line naming our SKU in another letter case is ours, under the spelling we created', async () => {
    const id = await newShopifyChannel();
    const order = {
      externalId: 'case-1',
      currency: 'EUR',
      placedAt: '2026-11-30T10:00:00Z',
      updatedAt: '2026-11-30T10:00:00Z',
      cancelled: false,
      lines: [
        {
          channelSku: 'p3',
          productId: '3',
          variantId: '303',
          inventoryItemId: '903',
          quantity: 1,
          unitPrice: 100,
        },
      ],
      problems: [],
    };
    const [mapped] = await stack.db.transaction((tx) => mapOrdersLines(tx, id, [order]));
    expect(mapped).toEqual({ lines: [{ sku: 'P3', quantity: 1, unitPrice: 100 }], problems: [] });
    // Learned as an automatic mapping of our SKU, so stock pushes know the channel's item.
    const learned = await stack
      .db('channel_skus')
      .where({ channel_id: id, inventory_item_id: '903' })
      .first();
    expect(learned?.sku_code).toBe('P3');
  });

  it('a manual mapping marks the SKU pending; mapping it to another item sends that item its figure', async () => {
    const id = await newShopifyChannel();
    const mapped = await stack.api('PUT', `/api/channels/${id}/skus/P2`, { inventoryItemId: '902' });
    expect(mapped.status).toBe(200);
    expect(await publication('P2', id)).toMatchObject({ pending: true, published: null });

    const first = shopifyPushes([applied]);
    expect(await stack.channels.push(id)).toMatchObject({ sent: 1, accepted: 1 });
    expect(first[0]!.quantities).toEqual({ '902': 8 });
    expect(await publication('P2', id)).toMatchObject({ pending: false, published: 8 });

    // The same figure, but another channel item: it has never been told it.
    expect((await stack.api('PUT', `/api/channels/${id}/skus/P2`, { inventoryItemId: '912' })).status).toBe(
      200,
    );
    expect(await publication('P2', id)).toMatchObject({ pending: true });
    const second = shopifyPushes([applied]);
    expect(await stack.channels.push(id)).toMatchObject({ sent: 1, accepted: 1 });
    expect(second[0]!.quantities).toEqual({ '912': 8 });
    expect(await publication('P2', id)).toMatchObject({ pending: false, published: 8 });
  });

  it('an inventory item id learned from a pull marks the SKU pending, and the next push sends it', async () => {
    const id = await newShopifyChannel();
    // The first order names the variant only: the SKU is mapped, but Shopify cannot be told its stock yet.
    pulledOrders([{ id: `81${seq}01`, sku: 'P3', variantId: `44${seq}03`, inventoryItemId: null }]);
    expect((await stack.api('POST', `/api/channels/${id}/sync`)).status).toBe(200);
    expect(await publication('P3', id)).toMatchObject({ pending: true });
    const none = await stack.channels.push(id);
    expect(none).toMatchObject({ calls: 1, accepted: 0 });
    expect(none.rejected).toEqual([{ sku: 'P3', reason: 'missing_inventory_item_id' }]);
    expect(await publication('P3', id)).toMatchObject({ pending: false, published: null });

    // A later order of the same item names its inventory item: learned, and pending again.
    pulledOrders([{ id: `81${seq}02`, sku: 'P3', variantId: `44${seq}03`, inventoryItemId: `55${seq}03` }]);
    expect((await stack.api('POST', `/api/channels/${id}/sync`)).status).toBe(200);
    const mappings = (await stack.api('GET', `/api/channels/${id}/skus`)).body.items;
    expect(mappings).toEqual([
      expect.objectContaining({ sku: 'P3', inventoryItemId: `55${seq}03`, source: 'auto' }),
    ]);
    expect(await publication('P3', id)).toMatchObject({ pending: true });
    const pushed = shopifyPushes([applied]);
    expect(await stack.channels.push(id)).toMatchObject({ sent: 1, accepted: 1 });
    expect(pushed[0]!.quantities).toEqual({ [`55${seq}03`]: 6 });
    expect(await publication('P3', id)).toMatchObject({ pending: false, published: 6, lastError: null });

    // An item first met in a pull with its inventory item id is pending from the start.
    pulledOrders([{ id: `81${seq}03`, sku: 'P4', variantId: `44${seq}04`, inventoryItemId: `55${seq}04` }]);
    expect((await stack.api('POST', `/api/channels/${id}/sync`)).status).toBe(200);
    expect(await publication('P4', id)).toMatchObject({ pending: true, published: null });
    const fresh = shopifyPushes([applied]);
    expect(await stack.channels.push(id)).toMatchObject({ sent: 1, accepted: 1 });
    expect(fresh[0]!.quantities).toEqual({ [`55${seq}04`]: 4 });
  });
});
