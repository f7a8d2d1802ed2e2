import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import shopifyConnector, { parseJsonKeepingBigIds } from '../../connectors/shopify/index.js';
import { type ChannelOrderEvent, receiveChannelEvent } from '../../src/channels/apply-order.js';
import { findChannel } from '../../src/channels/channel-store.js';
import { webhookOutcome } from '../helpers/applied-event.js';
import { block, waitForLockWaits } from '../helpers/interleave.js';
import { checkInvariants } from '../helpers/invariants.js';
import { interceptChannelHttp } from '../helpers/nock.js';
import { shopifyOrderBody } from '../helpers/shopify-webhook.js';
import { createStack, orderBody, seedCatalog, type TestStack } from '../helpers/stack.js';

interceptChannelHttp({ strict: true });

const SHOPIFY_SECRET = 'shopify-returns-client-secret';
const SHOPIFY_HOST = 'https://shopify-returns.test';
const GRAPHQL = '/admin/api/2026-10/graphql.json';
const WOO_SITE = 'https://woo-returns.test';
const WOO_SECRET = 'woo-returns-webhook-secret';

const fixture = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');

const TEE = { sku: 'TEE', variantId: '4400000000000000021' };
const MUG = { sku: 'MUG', variantId: '4400000000000000022' };
const CAP = { sku: 'CAP', variantId: '4400000000000000023' };
type Item = typeof TEE;

interface RefundLine {
  item: Item;
  /** Position of the line in the order. */
  line: number;
  quantity: number;
  restockType: 'return' | 'cancel' | 'no_restock' | 'legacy_restock';
}

/** Line item ids as `shopifyOrderBody` writes them: the order id and the line's position. */
const lineItemId = (orderId: string, line: number) => `${orderId}${line}`;

/**
 * A Shopify refund, REST-shaped (as `refunds/create` sends it and `orders/updated` lists it), made
 * from the documented `refunds/create` sample with this order's ids; as text, so big ids stay exact.
 */
function refundJson(
  id: string,
  orderId: string,
  lines: RefundLine[],
  createdAt = '2026-11-28T12:00:00Z',
): string {
  const sample = JSON.parse(fixture('shopify/refunds-create.json'));
  const template = sample.refund_line_items[0];
  const refund = {
    ...sample,
    id: `@${id}`,
    order_id: `@${orderId}`,
    admin_graphql_api_id: `gid://shopify/Refund/${id}`,
    created_at: createdAt,
    processed_at: createdAt,
    refund_line_items: lines.map((l, i) => ({
      ...template,
      id: `@${id}${i}`,
      line_item_id: `@${lineItemId(orderId, l.line)}`,
      quantity: l.quantity,
      restock_type: l.restockType,
      line_item: {
        ...template.line_item,
        id: `@${lineItemId(orderId, l.line)}`,
        admin_graphql_api_id: `gid://shopify/LineItem/${lineItemId(orderId, l.line)}`,
        sku: l.item.sku,
        variant_id: `@${l.item.variantId}`,
        product_id: '@7700000000000000001',
      },
    })),
  };
  // Ids as the numbers Shopify sends.
  return JSON.stringify(refund).replace(/"@(\d+)"/g, '$1');
}

/** An `orders/updated` body: the order's lines with what is current, and its refunds. */
function refundedOrder(
  orderId: string,
  lines: (Item & { quantity: number; current: number })[],
  refunds: string[],
  updatedAt: string,
): string {
  const body = shopifyOrderBody(orderId, lines, { updatedAt });
  let i = 0;
  // Each line's current_quantity after the refunds, then the refunds themselves.
  const withCurrent = body.replace(
    /"quantity":(\d+)/g,
    (_m, q) => `"quantity":${q},"current_quantity":${lines[i++]!.current}`,
  );
  return `${withCurrent.slice(0, -1)},"refunds":[${refunds.join(',')}]}`;
}

/** The order as our pull's GraphQL node, with its refunds. */
function graphqlNode(
  orderId: string,
  lines: (Item & { quantity: number; current: number })[],
  refunds: { id: string; createdAt: string; lines: RefundLine[] }[],
  updatedAt: string,
) {
  return {
    id: `gid://shopify/Order/${orderId}`,
    name: `#${orderId.slice(-4)}`,
    createdAt: '2026-11-20T10:00:00Z',
    updatedAt,
    cancelledAt: null,
    currencyCode: 'EUR',
    email: 'buyer@example.com',
    customer: null,
    refunds: refunds.map((r) => ({
      id: `gid://shopify/Refund/${r.id}`,
      createdAt: r.createdAt,
      refundLineItems: {
        pageInfo: { hasNextPage: false, endCursor: null },
        nodes: r.lines.map((l) => ({
          quantity: l.quantity,
          restockType: l.restockType.toUpperCase(),
          lineItem: { id: `gid://shopify/LineItem/${lineItemId(orderId, l.line)}` },
        })),
      },
    })),
    lineItems: {
      pageInfo: { hasNextPage: false, endCursor: null },
      nodes: lines.map((l, i) => ({
        id: `gid://shopify/LineItem/${lineItemId(orderId, i)}`,
        sku: l.sku,
        title: `Item ${i}`,
        quantity: l.quantity,
        currentQuantity: l.current,
        variant: {
          id: `gid://shopify/ProductVariant/${l.variantId}`,
          inventoryItem: { id: `gid://shopify/InventoryItem/${l.variantId}` },
        },
        product: { id: 'gid://shopify/Product/7700000000000000001' },
        originalUnitPriceSet: { shopMoney: { amount: '19.90', currencyCode: 'EUR' } },
      })),
    },
  };
}

describe.each([
  ['MariaDB', false],
  ['SQLite', true],
])('channel refunds become returns (%s, Redis, worker)', (_name, sqlite) => {
  let stack: TestStack;
  let shopifyId: number;
  let wooId: number;
  let seq = 0;

  async function shopifyWebhook(topic: string, body: string, eventId = `evt-${++seq}`) {
    const res = await stack.app.request(`/webhooks/${shopifyId}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': topic,
        'x-shopify-shop-domain': 'returns-shop.myshopify.com',
        'x-shopify-event-id': eventId,
        'x-shopify-hmac-sha256': createHmac('sha256', SHOPIFY_SECRET).update(body).digest('base64'),
      },
      body,
    });
    return webhookOutcome(stack.db, res.status, (await res.json()) as Record<string, any>);
  }

  async function wooWebhook(topic: string, body: string, deliveryId = `woo-${++seq}`) {
    const res = await stack.app.request(`/webhooks/${wooId}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-wc-webhook-topic': topic,
        'x-wc-webhook-resource': 'order',
        'x-wc-webhook-event': topic.split('.')[1]!,
        'x-wc-webhook-signature': createHmac('sha256', WOO_SECRET).update(body).digest('base64'),
        'x-wc-webhook-delivery-id': deliveryId,
        'x-wc-webhook-source': `${WOO_SITE}/`,
      },
      body,
    });
    return webhookOutcome(stack.db, res.status, (await res.json()) as Record<string, any>);
  }

  const orderOf = async (channel: string, externalId: string) => {
    const row = await stack.db('orders').where({ channel, external_id: externalId }).first('id');
    expect(row, `order ${externalId}`).toBeTruthy();
    return (await stack.api('GET', `/api/orders/${row.id}`)).body;
  };
  const returnsOf = async (orderId: number) =>
    (await stack.api('GET', `/api/orders/${orderId}/returns`)).body.items;
  const stockOf = async (sku: string): Promise<{ onHand: number; reserved: number }> => {
    const s = (await stack.api('GET', `/api/stock/${sku}`)).body;
    return { onHand: s.onHand, reserved: s.reserved };
  };
  const returnLedger = async (returnId: number) =>
    (
      await stack
        .db('stock_movements')
        .where({ reason: 'return', ref_type: 'return', ref_id: String(returnId) })
    ).map((m) => Number(m.d_on_hand));
  const receive = (sku: string, quantity: number) =>
    stack.api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: `in-${++seq}`,
      lines: [{ sku, quantity }],
    });

  /** A Shopify order placed by webhook and reserved in full; returns our order's view. */
  async function placedShopifyOrder(orderId: string, lines: (Item & { quantity: number })[]) {
    const created = await shopifyWebhook(
      'orders/create',
      shopifyOrderBody(orderId, lines, '2026-11-20T10:00:00Z'),
    );
    expect(created.body.status).toBe('created');
    await stack.settle();
    const order = await orderOf(`shopify:${shopifyId}`, orderId);
    expect(order.status).toBe('confirmed');
    return order;
  }

  /** A Shopify order placed by webhook and shipped in full; returns our order. */
  async function shippedShopifyOrder(orderId: string, lines: (Item & { quantity: number })[]) {
    const order = await placedShopifyOrder(orderId, lines);
    const shipment = await stack.api('POST', `/api/orders/${order.id}/shipments`, {});
    expect(shipment.status).toBe(201);
    return { id: Number(order.id), shipmentId: shipment.body.shipmentId };
  }

  beforeAll(async () => {
    stack = await createStack({ sqlite });
    await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['TEE', 'MUG', 'CAP']);
    const shop = await stack.api('POST', '/api/channels', {
      type: 'shopify',
      name: 'Returns shop',
      settings: {
        shopDomain: 'returns-shop.myshopify.com',
        accessToken: 'shpat_returns_0123456789abcdef',
        webhookSecret: SHOPIFY_SECRET,
        apiBaseUrl: `${SHOPIFY_HOST}/admin/api/2026-10`,
        pullIntervalSeconds: 3600,
        pullOverlapSeconds: 600,
        pullStartAt: '2026-11-01T00:00:00Z',
      },
    });
    expect(shop.status).toBe(201);
    shopifyId = shop.body.id;
    const woo = await stack.api('POST', '/api/channels', {
      type: 'woocommerce',
      name: 'Returns Woo',
      settings: {
        siteUrl: WOO_SITE,
        consumerKey: 'ck_returns_0123456789abcdef0123456789abcdef',
        consumerSecret: 'cs_returns_fedcba9876543210fedcba9876543210',
        webhookSecret: WOO_SECRET,
        restockOnRefund: true,
        pullIntervalSeconds: 3600,
        pullStartAt: '2017-03-01T00:00:00Z',
      },
    });
    expect(woo.status).toBe(201);
    wooId = woo.body.id;
    stack.startWorker(4);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('Shopify: a refund with restock of shipped units comes back on hand, ledger row and all, and fills a backorder', async () => {
    await receive('TEE', 2);
    const id = '5800000000000000001';
    const order = await shippedShopifyOrder(id, [{ ...TEE, quantity: 2 }]);
    expect(await stockOf('TEE')).toEqual({ onHand: 0, reserved: 0 });
    // Nothing left: the next order waits.
    const waiting = await stack.api(
      'POST',
      '/api/orders',
      orderBody(`W-${++seq}`, [{ sku: 'TEE', quantity: 1 }]),
    );
    await stack.settle();
    expect((await stack.api('GET', `/api/orders/${waiting.body.id}`)).body.status).toBe('backordered');

    const refund = refundJson('6600000000000000001', id, [
      { item: TEE, line: 0, quantity: 1, restockType: 'return' },
    ]);
    const updated = await shopifyWebhook(
      'orders/updated',
      refundedOrder(id, [{ ...TEE, quantity: 2, current: 1 }], [refund], '2026-11-28T12:00:05Z'),
    );
    expect(updated.body).toMatchObject({ status: 'updated', orderId: order.id });
    expect(updated.body.note).toMatch(/refund 6600000000000000001 returned 1 × TEE restocked/);

    const [ret, ...more] = await returnsOf(order.id);
    expect(more).toEqual([]);
    expect(ret).toMatchObject({
      reference: '6600000000000000001',
      source: 'channel',
      restock: true,
      lines: [{ sku: 'TEE', quantity: 1, warehouse: 'main' }],
    });
    expect(await returnLedger(ret.id)).toEqual([1]);
    const after = await stack.api('GET', `/api/orders/${order.id}`);
    expect(after.body.status).toBe('shipped');
    expect(after.body.lines.map((l: any) => [l.sku, l.ordered, l.shipped, l.returned])).toEqual([
      ['TEE', 2, 2, 1],
    ]);
    // The unit that came back went to the waiting order.
    await stack.settle();
    expect((await stack.api('GET', `/api/orders/${waiting.body.id}`)).body.status).toBe('confirmed');
    expect(await stockOf('TEE')).toEqual({ onHand: 1, reserved: 1 });
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('Shopify: the same refund redelivered, by refunds/create, and by a pull is one return', async () => {
    await receive('TEE', 3);
    const id = '5800000000000000002';
    const order = await shippedShopifyOrder(id, [{ ...TEE, quantity: 3 }]);
    const before = await stockOf('TEE');
    const r1 = { item: TEE, line: 0, quantity: 1, restockType: 'return' as const };
    const refund1 = refundJson('6600000000000000002', id, [r1], '2026-11-28T12:00:00Z');

    // refunds/create first.
    const alone = await shopifyWebhook('refunds/create', refund1);
    expect(alone.body).toMatchObject({ status: 'updated', orderId: order.id });
    // The same refund under another event id (a second subscription), then that delivery again.
    expect((await shopifyWebhook('refunds/create', refund1, 'evt-r1')).body.status).toBe('unchanged');
    expect((await shopifyWebhook('refunds/create', refund1, 'evt-r1')).body.status).toBe('duplicate');
    // orders/updated lists it, under the event id its refunds/create had (one merchant action), and
    // is not taken for a repeat of it; delivered twice.
    const body = refundedOrder(id, [{ ...TEE, quantity: 3, current: 2 }], [refund1], '2026-11-28T12:00:05Z');
    const updated = await shopifyWebhook('orders/updated', body, 'evt-r1');
    expect(updated.body.status).toBe('not_applied');
    expect((await shopifyWebhook('orders/updated', body, 'evt-r1')).body.status).toBe('duplicate');
    // A pull sees it too.
    nock(SHOPIFY_HOST)
      .post(GRAPHQL)
      .reply(200, {
        data: {
          orders: {
            pageInfo: { hasNextPage: false, endCursor: null },
            nodes: [
              graphqlNode(
                id,
                [{ ...TEE, quantity: 3, current: 2 }],
                [{ id: '6600000000000000002', createdAt: '2026-11-28T12:00:00Z', lines: [r1] }],
                '2026-11-28T12:00:05Z',
              ),
            ],
          },
        },
        extensions: {
          cost: {
            requestedQueryCost: 100,
            actualQueryCost: 10,
            throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 1990, restoreRate: 100 },
          },
        },
      });
    const sync = await stack.api('POST', `/api/channels/${shopifyId}/sync`);
    expect(sync.status).toBe(200);
    expect(sync.body.orders).toBe(1);

    const returns = await returnsOf(order.id);
    expect(returns.map((r: any) => [r.reference, r.restock, r.lines])).toEqual([
      ['6600000000000000002', true, [{ sku: 'TEE', quantity: 1, warehouse: 'main' }]],
    ]);
    expect(await stockOf('TEE')).toEqual({ onHand: before.onHand + 1, reserved: before.reserved });

    // A second refund arrives by the pull first, then by its webhooks: one more return.
    const r2 = { item: TEE, line: 0, quantity: 1, restockType: 'return' as const };
    const refund2 = refundJson('6600000000000000003', id, [r2], '2026-11-29T09:00:00Z');
    nock(SHOPIFY_HOST)
      .post(GRAPHQL)
      .reply(200, {
        data: {
          orders: {
            pageInfo: { hasNextPage: false, endCursor: null },
            nodes: [
              graphqlNode(
                id,
                [{ ...TEE, quantity: 3, current: 1 }],
                [
                  { id: '6600000000000000002', createdAt: '2026-11-28T12:00:00Z', lines: [r1] },
                  { id: '6600000000000000003', createdAt: '2026-11-29T09:00:00Z', lines: [r2] },
                ],
                '2026-11-29T09:00:05Z',
              ),
            ],
          },
        },
        extensions: {
          cost: {
            requestedQueryCost: 100,
            actualQueryCost: 10,
            throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 1990, restoreRate: 100 },
          },
        },
      });
    expect((await stack.api('POST', `/api/channels/${shopifyId}/sync`)).body.outcomes).toEqual({
      updated: 1,
    });
    expect((await shopifyWebhook('refunds/create', refund2)).body.status).toBe('unchanged');
    const both = refundedOrder(
      id,
      [{ ...TEE, quantity: 3, current: 1 }],
      [refund1, refund2],
      '2026-11-29T09:00:05Z',
    );
    expect((await shopifyWebhook('orders/updated', both)).body.status).toBe('not_applied');
    expect((await returnsOf(order.id)).map((r: any) => r.reference)).toEqual([
      '6600000000000000002',
      '6600000000000000003',
    ]);
    expect(await stockOf('TEE')).toEqual({ onHand: before.onHand + 2, reserved: before.reserved });
    const lines = (await stack.api('GET', `/api/orders/${order.id}`)).body.lines;
    expect(lines.map((l: any) => [l.shipped, l.returned])).toEqual([[3, 2]]);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('Shopify: no_restock makes a return that stays off the shelf; a refund of money only makes none', async () => {
    await receive('MUG', 2);
    const id = '5800000000000000003';
    const order = await shippedShopifyOrder(id, [{ ...MUG, quantity: 2 }]);
    const before = await stockOf('MUG');
    const moneyOnly = refundJson('6600000000000000010', id, [], '2026-11-28T10:00:00Z');
    const damaged = refundJson(
      '6600000000000000011',
      id,
      [{ item: MUG, line: 0, quantity: 1, restockType: 'no_restock' }],
      '2026-11-28T11:00:00Z',
    );
    const updated = await shopifyWebhook(
      'orders/updated',
      refundedOrder(id, [{ ...MUG, quantity: 2, current: 1 }], [moneyOnly, damaged], '2026-11-28T11:00:05Z'),
    );
    expect(updated.body.status).toBe('updated');
    const returns = await returnsOf(order.id);
    expect(returns).toHaveLength(1);
    expect(returns[0]).toMatchObject({
      reference: '6600000000000000011',
      source: 'channel',
      restock: false,
      lines: [{ sku: 'MUG', quantity: 1, warehouse: null }],
    });
    expect(await returnLedger(returns[0].id)).toEqual([]);
    expect(await stockOf('MUG')).toEqual(before);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('Shopify: refunded units that never shipped are cancelled off the order as before, and are no return', async () => {
    await receive('CAP', 3);
    const id = '5800000000000000004';
    const order = await placedShopifyOrder(id, [{ ...CAP, quantity: 3 }]);
    expect(await stockOf('CAP')).toEqual({ onHand: 3, reserved: 3 });

    const cancelledUnits = refundJson('6600000000000000020', id, [
      { item: CAP, line: 0, quantity: 1, restockType: 'cancel' },
    ]);
    // The refund's own webhook first (nothing shipped: nothing to return), then the order's update
    // under the same event id: the update still amends the order.
    expect((await shopifyWebhook('refunds/create', cancelledUnits, 'evt-cap')).body.status).toBe('unchanged');
    const updated = await shopifyWebhook(
      'orders/updated',
      refundedOrder(id, [{ ...CAP, quantity: 3, current: 2 }], [cancelledUnits], '2026-11-28T12:00:05Z'),
      'evt-cap',
    );
    expect(updated.body.status).toBe('updated');
    expect(await returnsOf(order.id)).toEqual([]);
    const after = (await stack.api('GET', `/api/orders/${order.id}`)).body;
    expect(after.lines.map((l: any) => [l.sku, l.ordered, l.reserved])).toEqual([['CAP', 2, 2]]);
    expect(await stockOf('CAP')).toEqual({ onHand: 3, reserved: 2 });

    // Shipped afterwards; the next update still lists the early refund (now with no_restock, as a
    // refund of unfulfilled units may say): those units were taken off, never shipped, never a return.
    expect((await stack.api('POST', `/api/orders/${order.id}/shipments`, {})).status).toBe(201);
    const early = refundJson('6600000000000000020', id, [
      { item: CAP, line: 0, quantity: 1, restockType: 'no_restock' },
    ]);
    const later = await shopifyWebhook(
      'orders/updated',
      refundedOrder(id, [{ ...CAP, quantity: 3, current: 2 }], [early], '2026-11-29T12:00:05Z'),
    );
    expect(['unchanged', 'not_applied']).toContain(later.body.status);
    expect(await returnsOf(order.id)).toEqual([]);
    expect(await stockOf('CAP')).toEqual({ onHand: 1, reserved: 0 });
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('Shopify: one version that cancels a partly shipped order and refunds its shipped unit: a return, then the cancellation', async () => {
    await receive('MUG', 3);
    const id = '5800000000000000091';
    const order = await placedShopifyOrder(id, [{ ...MUG, quantity: 3 }]);
    const shipped = await stack.api('POST', `/api/orders/${order.id}/shipments`, {
      lines: [{ sku: 'MUG', quantity: 1 }],
    });
    expect(shipped.status).toBe(201);

    // The shop cancels what is left and refunds the unit that shipped, restocked, in one version:
    // the order's rule rows and all its stock rows are locked first, then the return, then the cancel.
    const refund = refundJson('6600000000000000091', id, [
      { item: MUG, line: 0, quantity: 1, restockType: 'return' },
    ]);
    const body = refundedOrder(
      id,
      [{ ...MUG, quantity: 3, current: 2 }],
      [refund],
      '2026-11-28T13:00:00Z',
    ).replace('"cancelled_at":null', '"cancelled_at":"2026-11-28T13:00:00Z"');
    const updated = await shopifyWebhook('orders/updated', body);
    expect(updated.body).toMatchObject({ status: 'cancelled', orderId: order.id });
    const returns = await returnsOf(order.id);
    expect(returns.map((r: any) => [r.reference, r.restock, r.lines[0].quantity])).toEqual([
      ['6600000000000000091', true, 1],
    ]);
    const after = (await stack.api('GET', `/api/orders/${order.id}`)).body;
    expect(after.status).toBe('cancelled');
    expect(after.lines.map((l: any) => [l.sku, l.ordered, l.shipped, l.cancelled, l.returned])).toEqual([
      ['MUG', 3, 1, 2, 1],
    ]);
    // 3 received, 1 shipped, 1 back on hand; nothing held for the cancelled units.
    expect(await stockOf('MUG')).toEqual({ onHand: 3, reserved: 0 });
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('Shopify: a refund of invoiced units makes a credit note against the invoice', async () => {
    await receive('TEE', 2);
    const id = '5800000000000000005';
    const order = await shippedShopifyOrder(id, [{ ...TEE, quantity: 2 }]);
    const invoice = await stack.api('POST', '/api/invoices', { shipment: order.shipmentId });
    expect(invoice.status).toBe(201);
    const invoiceRow = await stack
      .db('invoices')
      .where({ type: 'invoice' })
      .orderBy('id', 'desc')
      .first('id');

    const refund = refundJson('6600000000000000030', id, [
      { item: TEE, line: 0, quantity: 1, restockType: 'return' },
    ]);
    const updated = await shopifyWebhook(
      'orders/updated',
      refundedOrder(id, [{ ...TEE, quantity: 2, current: 1 }], [refund], '2026-11-28T12:00:05Z'),
    );
    expect(updated.body.status).toBe('updated');
    const [ret] = await returnsOf(order.id);
    expect(ret.creditNotes).toHaveLength(1);
    const notes = await stack
      .db('invoices')
      .where({ type: 'credit_note', credits_invoice_id: invoiceRow.id });
    expect(notes).toHaveLength(1);
    const note = (await stack.api('GET', `/api/credit-notes/${ret.creditNotes[0]}`)).body;
    expect(note.lines).toEqual([expect.objectContaining({ sku: 'TEE', quantity: 1 })]);
    // The same refund by refunds/create: no second return, no second credit note.
    expect((await shopifyWebhook('refunds/create', refund)).body.status).toBe('unchanged');
    expect(
      await stack.db('invoices').where({ type: 'credit_note', credits_invoice_id: invoiceRow.id }),
    ).toHaveLength(1);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  // Lock waits are read from InnoDB's tables: the forced interleaving runs on MariaDB.
  if (!sqlite)
    it('Shopify: orders/updated and refunds/create of one refund applied at once, queued behind the order row → one return', async () => {
      await receive('TEE', 2);
      const id = '5800000000000000006';
      const order = await shippedShopifyOrder(id, [{ ...TEE, quantity: 2 }]);
      const before = await stockOf('TEE');
      const refund = refundJson('6600000000000000040', id, [
        { item: TEE, line: 0, quantity: 2, restockType: 'return' },
      ]);
      const updatedBody = refundedOrder(
        id,
        [{ ...TEE, quantity: 2, current: 0 }],
        [refund],
        '2026-11-28T12:00:05Z',
      );
      const channel = (await findChannel(stack.db, stack.secretKey, shopifyId))!;
      const events: ChannelOrderEvent[] = [
        {
          deliveryId: 'race-updated',
          topic: 'orders/updated',
          kind: 'order.upsert',
          rawPayload: updatedBody,
          externalId: id,
          order: shopifyConnector.normalizeOrder(parseJsonKeepingBigIds(updatedBody)),
        },
        {
          deliveryId: 'race-refund',
          topic: 'refunds/create',
          kind: 'order.refund',
          rawPayload: refund,
          externalId: id,
          order: null,
          refund: shopifyConnector.normalizeRefund!(parseJsonKeepingBigIds(refund)),
        },
      ];
      // A blocker holds the order row; both deliveries queue up behind it, then go one after the other.
      const blocker = await block(stack.db, 'SELECT id FROM orders WHERE id = ? FOR UPDATE', [order.id]);
      let finished = 0;
      const applying = events.map((e) =>
        receiveChannelEvent(stack.db, channel, e).finally(() => {
          finished++;
        }),
      );
      await waitForLockWaits(stack.db, 2, {
        table: 'orders',
        settled: () => (finished > 0 ? `${finished} finished without waiting` : null),
      });
      await blocker.commit();
      const results = await Promise.all(applying);
      expect(results.map((r) => r.outcome).sort()).toEqual(
        results[0]!.outcome === 'updated'
          ? ['unchanged', 'updated'].sort()
          : ['not_applied', 'updated'].sort(),
      );
      const returns = await returnsOf(order.id);
      expect(returns.map((r: any) => [r.reference, r.lines])).toEqual([
        ['6600000000000000040', [{ sku: 'TEE', quantity: 2, warehouse: 'main' }]],
      ]);
      expect(await stockOf('TEE')).toEqual({ onHand: before.onHand + 2, reserved: before.reserved });
      expect(await checkInvariants(stack.db)).toEqual([]);
    });

  it('WooCommerce: a refund of shipped units read from GET orders/<id>/refunds becomes a return, restocked as the channel says', async () => {
    await receive('TEE', 1);
    await receive('MUG', 1);
    const refunded = JSON.parse(fixture('woocommerce/order-723-webhook-body.txt'));
    refunded.line_items[0].sku = 'TEE';
    refunded.line_items[1].sku = 'MUG';
    const placed = {
      ...refunded,
      status: 'processing',
      refunds: [],
      date_modified_gmt: refunded.date_created_gmt,
    };
    const created = await wooWebhook('order.created', JSON.stringify(placed));
    expect(created.body.status).toBe('created');
    await stack.settle();
    const order = await orderOf(`woocommerce:${wooId}`, '723');
    expect(order.status).toBe('confirmed');
    expect((await stack.api('POST', `/api/orders/${order.id}/shipments`, {})).status).toBe(201);
    const before = await stockOf('TEE');

    const refunds = JSON.parse(fixture('woocommerce/order-723-refunds.json'));
    refunds[1].line_items[0].sku = 'TEE';
    const asked = nock(WOO_SITE)
      .get('/wp-json/wc/v3/orders/723/refunds')
      .query(true)
      .times(2)
      .reply(200, JSON.stringify(refunds), { 'content-type': 'application/json' });
    const updated = await wooWebhook('order.updated', JSON.stringify(refunded));
    expect(updated.body.status).toBe('updated');
    const returns = await returnsOf(order.id);
    // Refund 724 took back line 311's unit; 726 refunded money only.
    expect(returns.map((r: any) => [r.reference, r.source, r.restock, r.lines])).toEqual([
      ['724', 'channel', true, [{ sku: 'TEE', quantity: 1, warehouse: 'main' }]],
    ]);
    expect(await stockOf('TEE')).toEqual({ onHand: before.onHand + 1, reserved: before.reserved });
    // Delivered again under another delivery id: still one return.
    expect((await wooWebhook('order.updated', JSON.stringify(refunded))).body.status).not.toBe('updated');
    expect(asked.isDone()).toBe(true);
    expect(await returnsOf(order.id)).toHaveLength(1);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });
});
