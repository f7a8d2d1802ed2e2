import { createHmac } from 'node:crypto';
import type { Worker } from 'bullmq';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shipmentTracking } from '../../src/domain/carriers.js';
import { startChannelWorker } from '../../src/queue/channel-worker.js';
import type { ChannelJob } from '../../src/queue/queues.js';
import { workerConnection } from '../../src/queue/redis.js';
import { webhookOutcome } from '../helpers/applied-event.js';
import { TEST_REDIS_URL } from '../helpers/db.js';
import { checkInvariants } from '../helpers/invariants.js';
import { interceptChannelHttp } from '../helpers/nock.js';
import { shopifyOrderBody } from '../helpers/shopify-webhook.js';
import { createStack, seedCatalog, silentLog, type TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

interceptChannelHttp({ strict: true });

const SHOPIFY_SECRET = 'shopify-fulfilment-secret';
const SHOPIFY_TOKEN = 'shpat_fulfilment_0123456789abcdef';
const SHOPIFY_HOST = 'https://shopify-fulfil.test';
const GRAPHQL = '/admin/api/2026-10/graphql.json';

const WOO_SITE = 'https://woo-fulfil.test';
const WOO_SECRET = 'woo-fulfilment-secret';
const CK = 'ck_fulfil_0123456789abcdef0123456789abcdef01';
const CS = 'cs_fulfil_fedcba9876543210fedcba9876543210fe';
const WOO_API = '/wp-json/wc/v3';

let stack: TestStack;
let shopifyId: number;
let wooId: number;
let channelWorker: Worker<ChannelJob>;
let seq = 0;
/** Requests that reached no interceptor (a second fulfilment would be one). */
const unmatched: string[] = [];

const TEE = { sku: 'TEE-S', variantId: '4400000000000000011' };
const MUG = { sku: 'MUG', variantId: '4400000000000000013' };

async function shopifyWebhook(topic: string, body: string) {
  const res = await stack.app.request(`/webhooks/${shopifyId}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-shop-domain': 'fulfil-shop.myshopify.com',
      'x-shopify-event-id': `evt-f-${++seq}`,
      'x-shopify-webhook-id': `wh-f-${seq}`,
      'x-shopify-hmac-sha256': createHmac('sha256', SHOPIFY_SECRET).update(body).digest('base64'),
    },
    body,
  });
  return webhookOutcome(stack.db, res.status, (await res.json()) as Record<string, any>);
}

/** A WooCommerce order (REST v3 shape) with these lines and no tax, shipping or coupons. */
function wooOrder(
  id: number,
  lines: { sku: string; productId: number; quantity: number }[],
  o: { status?: string; modified?: string } = {},
) {
  const total = lines.reduce((n, l) => n + l.quantity * 10, 0);
  return {
    id,
    parent_id: 0,
    number: String(id),
    status: o.status ?? 'processing',
    currency: 'EUR',
    date_created: '2026-11-25T10:00:00',
    date_created_gmt: '2026-11-25T09:00:00',
    date_modified: o.modified ?? '2026-11-25T10:00:05',
    date_modified_gmt: (o.modified ?? '2026-11-25T10:00:05').replace('T10', 'T09'),
    discount_total: '0.00',
    discount_tax: '0.00',
    shipping_total: '0.00',
    shipping_tax: '0.00',
    cart_tax: '0.00',
    total: `${total}.00`,
    total_tax: '0.00',
    prices_include_tax: false,
    customer_id: 0,
    billing: { first_name: 'Wang', last_name: 'Fang', email: 'wang.fang@example.com' },
    shipping: {},
    payment_method: 'bacs',
    date_paid: '2026-11-25T10:00:05',
    date_paid_gmt: '2026-11-25T09:00:05',
    meta_data: [],
    line_items: lines.map((l, i) => ({
      id: id * 10 + i,
      name: l.sku,
      product_id: l.productId,
      variation_id: 0,
      quantity: l.quantity,
      subtotal: `${l.quantity * 10}.00`,
      subtotal_tax: '0.00',
      total: `${l.quantity * 10}.00`,
      total_tax: '0.00',
      taxes: [],
      meta_data: [],
      sku: l.sku,
      price: 10,
    })),
    tax_lines: [],
    shipping_lines: [],
    fee_lines: [],
    coupon_lines: [],
    refunds: [],
  };
}

async function wooWebhook(topic: string, order: unknown) {
  const body = JSON.stringify(order);
  const res = await stack.app.request(`/webhooks/${wooId}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-wc-webhook-topic': topic,
      'x-wc-webhook-resource': 'order',
      'x-wc-webhook-event': topic.split('.')[1]!,
      'x-wc-webhook-signature': createHmac('sha256', WOO_SECRET).update(body).digest('base64'),
      'x-wc-webhook-delivery-id': `woo-f-${++seq}`,
      'x-wc-webhook-source': `${WOO_SITE}/`,
    },
    body,
  });
  return webhookOutcome(stack.db, res.status, (await res.json()) as Record<string, any>);
}

async function orderView(orderId: number) {
  const res = await stack.api('GET', `/api/orders/${orderId}`);
  expect(res.status).toBe(200);
  return res.body;
}

/** Moves the outbox (the shipment.created rows) into the channels queue, as the relay loop does. */
async function relay() {
  await stack.relay.publishOutbox();
}

async function shipmentChannel(shipmentId: number) {
  return stack.db('shipments').where({ id: shipmentId }).first();
}

/** Whether the channels-queue job with this id has run to its end (its job is removed then). */
async function jobGone(jobId: string) {
  return (await stack.queues.channels.getJob(jobId)) === undefined;
}

const throttled = {
  errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }],
  extensions: {
    cost: {
      requestedQueryCost: 10,
      actualQueryCost: null,
      throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 5, restoreRate: 100 },
    },
  },
};

function fulfillmentOrders(orderId: string, items: { foli: string; variantId: string; remaining: number }[]) {
  return {
    data: {
      order: {
        id: `gid://shopify/Order/${orderId}`,
        fulfillments: [],
        fulfillmentOrders: {
          nodes: [
            {
              id: `gid://shopify/FulfillmentOrder/${orderId.slice(-4)}1`,
              status: 'OPEN',
              assignedLocation: { location: { id: 'gid://shopify/Location/1' } },
              lineItems: {
                nodes: items.map((i) => ({
                  id: `gid://shopify/FulfillmentOrderLineItem/${i.foli}`,
                  remainingQuantity: i.remaining,
                  lineItem: {
                    id: `gid://shopify/LineItem/${i.foli}`,
                    sku: null,
                    variant: { id: `gid://shopify/ProductVariant/${i.variantId}` },
                  },
                })),
              },
            },
          ],
        },
      },
    },
  };
}

beforeAll(async () => {
  nock.emitter.on('no match', (req: { method?: string; path?: string }) => {
    // Stock pushes of the same changes go to the channels too; only fulfilment calls count here.
    if (/graphql|\/notes|\/orders\/\d+$/.test(req.path ?? '')) unmatched.push(`${req.method} ${req.path}`);
  });
  stack = await createStack();
  await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['TEE-S', 'MUG', 'CUP']);
  await stack.api('POST', '/api/stock/receipts', {
    warehouse: 'main',
    reference: 'opening',
    lines: ['TEE-S', 'MUG', 'CUP'].map((sku) => ({ sku, quantity: 50 })),
  });
  const shop = await stack.api('POST', '/api/channels', {
    type: 'shopify',
    name: 'Fulfilment shop',
    settings: {
      shopDomain: 'fulfil-shop.myshopify.com',
      accessToken: SHOPIFY_TOKEN,
      webhookSecret: SHOPIFY_SECRET,
      apiBaseUrl: `${SHOPIFY_HOST}/admin/api/2026-10`,
      pullIntervalSeconds: 3600,
    },
  });
  expect(shop.status).toBe(201);
  shopifyId = shop.body.id;
  const woo = await stack.api('POST', '/api/channels', {
    type: 'woocommerce',
    name: 'Fulfilment Woo',
    settings: {
      siteUrl: WOO_SITE,
      consumerKey: CK,
      consumerSecret: CS,
      webhookSecret: WOO_SECRET,
      pullIntervalSeconds: 3600,
    },
  });
  expect(woo.status).toBe(201);
  wooId = woo.body.id;
  stack.startWorker(4);
  channelWorker = startChannelWorker(
    workerConnection(TEST_REDIS_URL),
    stack.prefix,
    stack.channels,
    silentLog,
  );
});

afterAll(async () => {
  await channelWorker?.close();
  await stack.close();
  nock.emitter.removeAllListeners('no match');
});

describe('carriers', () => {
  it('makes tracking URLs from the table, or from the shipment’s template for others', () => {
    expect(shipmentTracking({ carrier: '顺丰', trackingNumber: 'SF 1' })).toEqual({
      carrier: 'sf',
      company: 'SF Express',
      number: 'SF 1',
      url: 'https://www.sf-express.com/chn/sc/waybill/waybill-detail/SF%201',
    });
    expect(shipmentTracking({ carrier: 'JD', trackingNumber: 'JD9' }).url).toContain('JD9');
    expect(
      shipmentTracking({
        carrier: 'Local courier',
        trackingNumber: 'L7',
        trackingUrl: 'https://courier.example/t/{number}',
      }),
    ).toEqual({
      carrier: 'other',
      company: 'Local courier',
      number: 'L7',
      url: 'https://courier.example/t/L7',
    });
    expect(shipmentTracking({ carrier: 'UPS' }).url).toBeNull();
  });
});

describe('shipments told to Shopify', () => {
  it('queries the fulfillment orders, then creates one fulfilment with tracking, after a THROTTLED answer, never twice', async () => {
    const orderId = '5800000000000000001';
    const created = await shopifyWebhook(
      'orders/create',
      shopifyOrderBody(orderId, [
        { ...TEE, quantity: 2 },
        { ...MUG, quantity: 1 },
      ]),
    );
    expect(created.body.status).toBe('created');
    await stack.settle();
    const id = created.body.orderId as number;
    expect((await orderView(id)).status).toBe('confirmed');

    const bodies: { query: string; variables: any }[] = [];
    const record = (body: any) => {
      bodies.push(body);
      return true;
    };
    nock(SHOPIFY_HOST)
      .post(GRAPHQL, (b) => b.query.includes('fulfillmentOrders') && record(b))
      .matchHeader('x-shopify-access-token', SHOPIFY_TOKEN)
      .reply(
        200,
        fulfillmentOrders(orderId, [
          { foli: '901', variantId: TEE.variantId, remaining: 2 },
          { foli: '902', variantId: MUG.variantId, remaining: 1 },
        ]),
      )
      .post(GRAPHQL, (b) => b.query.includes('fulfillmentCreate') && record(b))
      .reply(200, throttled)
      .post(GRAPHQL, (b) => b.query.includes('fulfillmentCreate') && record(b))
      .reply(200, {
        data: {
          fulfillmentCreate: {
            fulfillment: { id: 'gid://shopify/Fulfillment/7001', status: 'SUCCESS' },
            userErrors: [],
          },
        },
      });

    const shipped = await stack.api('POST', `/api/orders/${id}/shipments`, {
      carrier: 'SF Express',
      trackingNumber: 'SF1234567890',
    });
    expect(shipped.status).toBe(201);
    const shipmentId = shipped.body.shipmentId as number;
    expect((await shipmentChannel(shipmentId)).channel_state).toBe('pending');
    // Were its job lost, the scheduler's sweep would find it.
    expect(await stack.channels.dueFulfilments(0)).toContainEqual({ channelId: shopifyId, shipmentId });
    await relay();

    const row = await waitFor(async () => {
      const r = await shipmentChannel(shipmentId);
      return r.channel_state === 'sent' ? r : null;
    });
    expect(row.channel_fulfilment_id).toBe('gid://shopify/Fulfillment/7001');
    expect(bodies.map((b) => (b.query.includes('fulfillmentOrders') ? 'query' : 'create'))).toEqual([
      'query',
      'create',
      'create',
    ]);
    expect(bodies[0]!.variables).toEqual({ id: `gid://shopify/Order/${orderId}` });
    expect(bodies[2]!.variables.fulfillment).toEqual({
      lineItemsByFulfillmentOrder: [
        {
          fulfillmentOrderId: 'gid://shopify/FulfillmentOrder/00011',
          fulfillmentOrderLineItems: [
            { id: 'gid://shopify/FulfillmentOrderLineItem/901', quantity: 2 },
            { id: 'gid://shopify/FulfillmentOrderLineItem/902', quantity: 1 },
          ],
        },
      ],
      trackingInfo: {
        number: 'SF1234567890',
        company: 'SF Express',
        url: 'https://www.sf-express.com/chn/sc/waybill/waybill-detail/SF1234567890',
      },
      notifyCustomer: true,
    });
    // The throttled attempt and the one that went through are the same request.
    expect(bodies[1]!.variables).toEqual(bodies[2]!.variables);

    // Visible on the shipment in the order view.
    const view = await orderView(id);
    expect(view.status).toBe('shipped');
    expect(view.shipments).toHaveLength(1);
    expect(view.shipments[0]).toMatchObject({
      id: shipmentId,
      carrier: 'SF Express',
      carrierCode: 'sf',
      trackingNumber: 'SF1234567890',
      trackingUrl: 'https://www.sf-express.com/chn/sc/waybill/waybill-detail/SF1234567890',
      channel: { state: 'sent', fulfilmentId: 'gid://shopify/Fulfillment/7001', reason: null, attempts: 1 },
    });

    // The job again (a retry, the sweep, a second relay): nothing more reaches Shopify.
    await stack.queues.enqueueFulfilment(shopifyId, shipmentId);
    await stack.relay.publishOutbox();
    await waitFor(() => jobGone(`fulfil-${shipmentId}`), { message: 'the second fulfil job to run' });
    expect(await stack.channels.sendShipment(shipmentId)).toMatchObject({ status: 'already_sent' });
    expect(bodies).toHaveLength(3);
    expect(unmatched).toEqual([]);
    expect(await stack.channels.dueFulfilments(0)).not.toContainEqual({ channelId: shopifyId, shipmentId });
    expect((await shipmentChannel(shipmentId)).channel_attempts).toBe(1);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('a fulfilment made before whose answer was lost is taken as ours: no second fulfillmentCreate', async () => {
    // The worker died after Shopify made the fulfilment, before the answer was recorded: the next
    // send reads the fulfillment orders first and finds it by its tracking number.
    const orderId = '5800000000000000004';
    const created = await shopifyWebhook(
      'orders/create',
      shopifyOrderBody(orderId, [{ ...MUG, quantity: 1 }]),
    );
    await stack.settle();
    const id = created.body.orderId as number;
    const before = fulfillmentOrders(orderId, [{ foli: '921', variantId: MUG.variantId, remaining: 0 }]);
    before.data.order.fulfillments = [
      { id: 'gid://shopify/Fulfillment/7201', trackingInfo: [{ number: 'SF-LOST-1' }] },
    ] as never;
    const queried = nock(SHOPIFY_HOST)
      .post(GRAPHQL, (b) => b.query.includes('fulfillmentOrders'))
      .reply(200, before);
    const shipped = await stack.api('POST', `/api/orders/${id}/shipments`, {
      carrier: 'sf',
      trackingNumber: 'SF-LOST-1',
    });
    expect(shipped.status).toBe(201);
    expect(await stack.channels.sendShipment(shipped.body.shipmentId)).toEqual({
      shipmentId: shipped.body.shipmentId,
      status: 'sent',
      fulfilmentId: 'gid://shopify/Fulfillment/7201',
    });
    expect(queried.isDone()).toBe(true);
    expect(unmatched).toEqual([]);
  });

  it('a fulfillmentCreate answered 502 and sent again by the client: Shopify’s refusal of the repeat finds the first, sent', async () => {
    const orderId = '5800000000000000005';
    const created = await shopifyWebhook(
      'orders/create',
      shopifyOrderBody(orderId, [{ ...TEE, quantity: 1 }]),
    );
    await stack.settle();
    const id = created.body.orderId as number;
    const after = fulfillmentOrders(orderId, [{ foli: '931', variantId: TEE.variantId, remaining: 0 }]);
    after.data.order.fulfillments = [
      { id: 'gid://shopify/Fulfillment/7301', trackingInfo: [{ number: 'SF-502-1' }] },
    ] as never;
    const calls: string[] = [];
    nock(SHOPIFY_HOST)
      .post(GRAPHQL, (b) => b.query.includes('fulfillmentOrders') && calls.push('query') > 0)
      .reply(200, fulfillmentOrders(orderId, [{ foli: '931', variantId: TEE.variantId, remaining: 1 }]))
      // Shopify made the fulfilment, but its answer did not reach us.
      .post(GRAPHQL, (b) => b.query.includes('fulfillmentCreate') && calls.push('create') > 0)
      .reply(502, 'Bad Gateway')
      .post(GRAPHQL, (b) => b.query.includes('fulfillmentCreate') && calls.push('create') > 0)
      .reply(200, {
        data: {
          fulfillmentCreate: {
            fulfillment: null,
            userErrors: [
              { field: ['fulfillment'], message: 'Invalid fulfillment order line item quantity requested.' },
            ],
          },
        },
      })
      .post(GRAPHQL, (b) => b.query.includes('fulfillmentOrders') && calls.push('query') > 0)
      .reply(200, after);
    const shipped = await stack.api('POST', `/api/orders/${id}/shipments`, {
      carrier: 'sf',
      trackingNumber: 'SF-502-1',
    });
    expect(shipped.status).toBe(201);
    expect(await stack.channels.sendShipment(shipped.body.shipmentId)).toMatchObject({
      status: 'sent',
      fulfilmentId: 'gid://shopify/Fulfillment/7301',
    });
    expect(calls).toEqual(['query', 'create', 'create', 'query']);
    expect((await orderView(id)).shipments[0].channel).toMatchObject({ state: 'sent', reason: null });
    expect(unmatched).toEqual([]);
  });

  it('records Shopify’s userErrors as a refusal with its reason, shown on the shipment', async () => {
    const orderId = '5800000000000000002';
    const created = await shopifyWebhook(
      'orders/create',
      shopifyOrderBody(orderId, [{ ...TEE, quantity: 3 }]),
    );
    await stack.settle();
    const id = created.body.orderId as number;
    nock(SHOPIFY_HOST)
      .post(GRAPHQL, (b) => b.query.includes('fulfillmentOrders'))
      .reply(200, fulfillmentOrders(orderId, [{ foli: '911', variantId: TEE.variantId, remaining: 3 }]))
      .post(GRAPHQL, (b) => b.query.includes('fulfillmentCreate'))
      .reply(200, {
        data: {
          fulfillmentCreate: {
            fulfillment: null,
            userErrors: [{ field: ['fulfillment'], message: 'Fulfillment order is on hold.' }],
          },
        },
      })
      // A refusal of a shipment with a tracking number looks once more for a fulfilment carrying it.
      .post(GRAPHQL, (b) => b.query.includes('fulfillmentOrders'))
      .reply(200, fulfillmentOrders(orderId, [{ foli: '911', variantId: TEE.variantId, remaining: 3 }]));
    const shipped = await stack.api('POST', `/api/orders/${id}/shipments`, {
      lines: [{ sku: 'TEE-S', quantity: 1 }],
      carrier: 'Local courier',
      trackingNumber: 'LC-1',
      trackingUrl: 'https://courier.example/track/{number}',
    });
    expect(shipped.status).toBe(201);
    await relay();
    const shipmentId = shipped.body.shipmentId as number;
    await waitFor(async () => (await shipmentChannel(shipmentId)).channel_state === 'refused');
    const view = await orderView(id);
    expect(view.status).toBe('partially_shipped');
    expect(view.shipments[0]).toMatchObject({
      carrierCode: 'other',
      trackingUrl: 'https://courier.example/track/LC-1',
      channel: { state: 'refused', fulfilmentId: null, reason: 'fulfillment: Fulfillment order is on hold.' },
    });
    // A refusal is not sent again.
    expect(await stack.channels.sendShipment(shipmentId)).toMatchObject({ status: 'already_refused' });
    expect(unmatched).toEqual([]);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('orders of no channel have no channel state and queue nothing', async () => {
    const post = await stack.api('POST', '/api/orders', {
      externalId: 'api-fulfil-1',
      currency: 'EUR',
      lines: [{ sku: 'CUP', quantity: 1, unitPrice: 1000 }],
    });
    expect(post.status).toBe(202);
    await stack.settle();
    const shipped = await stack.api('POST', `/api/orders/${post.body.id}/shipments`, { carrier: 'ems' });
    expect(shipped.status).toBe(201);
    expect((await orderView(post.body.id)).shipments[0].channel).toBeNull();
    expect(await stack.db('outbox').where({ topic: 'shipment.created' }).whereNull('published_at')).toEqual(
      [],
    );
  });
});

describe('shipments told to WooCommerce', () => {
  it('a partial shipment adds a note with tracking; the last one completes the order; the echoed order.updated changes nothing', async () => {
    const order = wooOrder(9101, [
      { sku: 'CUP', productId: 301, quantity: 2 },
      { sku: 'MUG', productId: 302, quantity: 1 },
    ]);
    const created = await wooWebhook('order.created', order);
    expect(created.body.status).toBe('created');
    await stack.settle();
    const id = created.body.orderId as number;
    expect((await orderView(id)).status).toBe('confirmed');

    const notes: any[] = [];
    nock(WOO_SITE)
      .get(`${WOO_API}/orders/9101/notes`)
      .basicAuth({ user: CK, pass: CS })
      .reply(200, [])
      .post(`${WOO_API}/orders/9101/notes`, (b) => {
        notes.push(b);
        return true;
      })
      .reply(201, { id: 501, note: 'x', customer_note: true });
    const first = await stack.api('POST', `/api/orders/${id}/shipments`, {
      lines: [{ sku: 'CUP', quantity: 2 }],
      carrier: '中通',
      trackingNumber: 'ZT778899',
    });
    expect(first.status).toBe(201);
    expect(first.body.status).toBe('partially_shipped');
    await relay();
    await waitFor(async () => (await shipmentChannel(first.body.shipmentId)).channel_state === 'sent');
    expect(notes).toHaveLength(1);
    expect(notes[0].customer_note).toBe(true);
    expect(notes[0].note).toContain('ZT778899');
    expect(notes[0].note).toContain('ZTO Express');
    expect(notes[0].note).toContain('https://www.zto.com/?num=ZT778899');
    expect(notes[0].note).toContain(`[stockbridge shipment ${first.body.shipmentId}]`);

    let put: any = null;
    nock(WOO_SITE)
      .get(`${WOO_API}/orders/9101/notes`)
      .reply(200, [{ id: 501, note: notes[0].note }])
      .post(`${WOO_API}/orders/9101/notes`)
      .reply(201, { id: 502 })
      .put(`${WOO_API}/orders/9101`, (b) => {
        put = b;
        return true;
      })
      .reply(200, { ...order, status: 'completed' });
    const rest = await stack.api('POST', `/api/orders/${id}/shipments`, {
      carrier: 'YTO',
      trackingNumber: 'YT1',
    });
    expect(rest.body.status).toBe('shipped');
    await relay();
    const row = await waitFor(async () => {
      const r = await shipmentChannel(rest.body.shipmentId);
      return r.channel_state === 'sent' ? r : null;
    });
    expect(put).toEqual({ status: 'completed' });
    expect(row.channel_fulfilment_id).toBe('note 502, completed');

    // WooCommerce echoes the change back as order.updated: nothing changes here.
    const before = await orderView(id);
    const stockBefore = (await stack.api('GET', '/api/stock/CUP')).body;
    const echo = await wooWebhook('order.updated', {
      ...order,
      status: 'completed',
      date_modified: '2026-11-25T11:00:00',
      date_modified_gmt: '2026-11-25T10:00:00',
      date_completed: '2026-11-25T11:00:00',
      date_completed_gmt: '2026-11-25T10:00:00',
    });
    expect(echo.status).toBe(200);
    expect(echo.body.status).toBe('unchanged');
    const after = await orderView(id);
    expect(after.status).toBe('shipped');
    expect(after.lines).toEqual(before.lines);
    expect(after.shipments).toEqual(before.shipments);
    expect(after.history).toEqual(before.history);
    expect((await stack.api('GET', '/api/stock/CUP')).body).toEqual(stockBefore);
    expect(await stack.db('outbox').where({ topic: 'shipment.created' }).whereNull('published_at')).toEqual(
      [],
    );
    expect(unmatched).toEqual([]);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('with fulfilmentStatus note_only, a full shipment adds the note and leaves the status alone', async () => {
    const patched = await stack.api('PATCH', `/api/channels/${wooId}`, {
      settings: { fulfilmentStatus: 'note_only' },
    });
    expect(patched.status).toBe(200);
    const created = await wooWebhook(
      'order.created',
      wooOrder(9102, [{ sku: 'CUP', productId: 301, quantity: 1 }]),
    );
    await stack.settle();
    const id = created.body.orderId as number;
    nock(WOO_SITE)
      .get(`${WOO_API}/orders/9102/notes`)
      .reply(200, [])
      .post(`${WOO_API}/orders/9102/notes`)
      .reply(201, { id: 601 });
    const shipped = await stack.api('POST', `/api/orders/${id}/shipments`, {
      carrier: 'dhl',
      trackingNumber: 'D1',
    });
    expect(shipped.body.status).toBe('shipped');
    await relay();
    const row = await waitFor(async () => {
      const r = await shipmentChannel(shipped.body.shipmentId);
      return r.channel_state === 'sent' ? r : null;
    });
    expect(row.channel_fulfilment_id).toBe('note 601');
    expect(unmatched).toEqual([]);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });
});

describe('cancellations we make, sent only where the channel asks for them', () => {
  it('Shopify with sendCancellations: orderCancel without refund or restock; WooCommerce without it: nothing', async () => {
    const patched = await stack.api('PATCH', `/api/channels/${shopifyId}`, {
      settings: { sendCancellations: true },
    });
    expect(patched.status).toBe(200);
    const orderId = '5800000000000000003';
    const created = await shopifyWebhook(
      'orders/create',
      shopifyOrderBody(orderId, [{ ...MUG, quantity: 1 }]),
    );
    await stack.settle();
    let variables: any = null;
    const scope = nock(SHOPIFY_HOST)
      .post(GRAPHQL, (b) => {
        if (!b.query.includes('orderCancel')) return false;
        variables = b.variables;
        return true;
      })
      .reply(200, {
        data: { orderCancel: { job: { id: 'gid://shopify/Job/1' }, orderCancelUserErrors: [] } },
      });
    const cancelled = await stack.api('POST', `/api/orders/${created.body.orderId}/cancel`, {
      reason: 'customer phoned',
    });
    expect(cancelled.status).toBe(200);
    await relay();
    await waitFor(() => scope.isDone(), { message: 'orderCancel to reach Shopify' });
    expect(variables).toMatchObject({
      orderId: `gid://shopify/Order/${orderId}`,
      refund: false,
      restock: false,
      staffNote: 'stockbridge: customer phoned',
    });

    // WooCommerce leaves sendCancellations at its default (false): nothing is sent.
    const woo = await wooWebhook(
      'order.created',
      wooOrder(9103, [{ sku: 'CUP', productId: 301, quantity: 1 }]),
    );
    await stack.settle();
    expect((await stack.api('POST', `/api/orders/${woo.body.orderId}/cancel`, {})).status).toBe(200);
    await relay();
    await waitFor(() => jobGone(`cancel-${woo.body.orderId}`), { message: 'the cancel job to run' });
    expect(await stack.channels.sendCancellation(woo.body.orderId)).toMatchObject({
      status: 'not_sent',
      reason: 'sendCancellations is off',
    });
    expect(unmatched).toEqual([]);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });
});
