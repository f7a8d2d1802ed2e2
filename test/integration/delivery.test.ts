import { createHmac } from 'node:crypto';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookOutcome } from '../helpers/applied-event.js';
import { checkInvariants } from '../helpers/invariants.js';
import { interceptChannelHttp } from '../helpers/nock.js';
import { shopifyOrderBody } from '../helpers/shopify-webhook.js';
import { createStack, seedCatalog, type TestStack } from '../helpers/stack.js';

interceptChannelHttp({ strict: true });

const SHOPIFY_SECRET = 'shopify-delivery-secret';
const SHOPIFY_TOKEN = 'shpat_delivery_0123456789abcdef';
const SHOPIFY_HOST = 'https://shopify-delivery.test';
const GRAPHQL = '/admin/api/2026-10/graphql.json';

const WOO_SITE = 'https://woo-delivery.test';
const WOO_SECRET = 'woo-delivery-secret';

let stack: TestStack;
let shopifyId: number;
let wooId: number;
let seq = 0;
let nextFulfilment = 8000;

const TEE = { sku: 'TEE-S', variantId: '4400000000000000021' };
const MUG = { sku: 'MUG', variantId: '4400000000000000023' };
const CUP = { sku: 'CUP', variantId: '4400000000000000025' };

/** The ids a `nodes(ids:)` query asked for (nock hands over the body parsed or as text). */
const idsOf = (body: any): string[] => (typeof body === 'string' ? JSON.parse(body) : body).variables.ids;

/** A Shopify webhook through the Hono app, signed as Shopify signs it; waits for it to be applied. */
async function shopifyWebhook(topic: string, body: string, eventId = `evt-d-${++seq}`) {
  const res = await stack.app.request(`/webhooks/${shopifyId}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-shop-domain': 'delivery-shop.myshopify.com',
      'x-shopify-event-id': eventId,
      'x-shopify-webhook-id': `wh-${eventId}`,
      'x-shopify-hmac-sha256': createHmac('sha256', SHOPIFY_SECRET).update(body).digest('base64'),
    },
    body,
  });
  return webhookOutcome(stack.db, res.status, (await res.json()) as Record<string, any>);
}

/** The body of Shopify's `fulfillment_events/create` (REST FulfillmentEvent). */
function fulfillmentEvent(orderId: string, fulfilmentId: number, status: string, happenedAt: string) {
  return (
    `{"id":${++seq}99,"fulfillment_id":${fulfilmentId},"status":"${status}","message":null,` +
    `"happened_at":"${happenedAt}","city":null,"province":null,"country":"CN","zip":null,` +
    `"address1":null,"latitude":null,"longitude":null,"shop_id":690933842,` +
    `"created_at":"${happenedAt}","updated_at":"${happenedAt}","estimated_delivery_at":null,` +
    `"order_id":${orderId},"admin_graphql_api_id":"gid://shopify/FulfillmentEvent/${seq}99"}`
  );
}

/** The body of Shopify's `fulfillments/update` (REST Fulfillment). */
function fulfillmentUpdate(orderId: string, fulfilmentId: number, shipmentStatus: string | null, at: string) {
  return (
    `{"id":${fulfilmentId},"order_id":${orderId},"status":"success","created_at":"2026-11-28T10:00:00Z",` +
    `"service":"manual","updated_at":"${at}","tracking_company":"SF Express",` +
    `"shipment_status":${shipmentStatus === null ? 'null' : `"${shipmentStatus}"`},"location_id":1,` +
    `"line_items":[],"tracking_number":"SF-${fulfilmentId}","tracking_numbers":["SF-${fulfilmentId}"],` +
    `"tracking_url":null,"tracking_urls":[],"receipt":{},"name":"#F${fulfilmentId}",` +
    `"admin_graphql_api_id":"gid://shopify/Fulfillment/${fulfilmentId}"}`
  );
}

/** A Shopify order placed by webhook and processed (confirmed). */
async function placeOrder(orderId: string, lines: { sku: string; variantId: string; quantity: number }[]) {
  const created = await shopifyWebhook('orders/create', shopifyOrderBody(orderId, lines));
  expect(created.body.status).toBe('created');
  await stack.settle();
  const id = created.body.orderId as number;
  expect((await orderView(id)).status).toBe('confirmed');
  return id;
}

/**
 * Ships these lines and tells Shopify through the real fulfilment sender (nock: the fulfillment
 * orders, then one fulfillmentCreate); returns the shipment and the fulfilment id Shopify gave.
 */
async function shipAndSend(
  id: number,
  orderId: string,
  lines: { sku: string; variantId: string; quantity: number }[],
) {
  const fulfilment = ++nextFulfilment;
  const tracking = `SF-${fulfilment}`;
  nock(SHOPIFY_HOST)
    .post(GRAPHQL, (b) => b.query.includes('fulfillmentOrders'))
    .reply(200, {
      data: {
        order: {
          id: `gid://shopify/Order/${orderId}`,
          fulfillments: [],
          fulfillmentOrders: {
            nodes: [
              {
                id: `gid://shopify/FulfillmentOrder/${fulfilment}`,
                status: 'OPEN',
                assignedLocation: { location: { id: 'gid://shopify/Location/1' } },
                lineItems: {
                  nodes: lines.map((l, i) => ({
                    id: `gid://shopify/FulfillmentOrderLineItem/${fulfilment}${i}`,
                    remainingQuantity: l.quantity,
                    lineItem: {
                      id: `gid://shopify/LineItem/${fulfilment}${i}`,
                      sku: null,
                      variant: { id: `gid://shopify/ProductVariant/${l.variantId}` },
                    },
                  })),
                },
              },
            ],
          },
        },
      },
    })
    .post(GRAPHQL, (b) => b.query.includes('fulfillmentCreate'))
    .reply(200, {
      data: {
        fulfillmentCreate: {
          fulfillment: { id: `gid://shopify/Fulfillment/${fulfilment}`, status: 'SUCCESS' },
          userErrors: [],
        },
      },
    });
  const shipped = await stack.api('POST', `/api/orders/${id}/shipments`, {
    lines: lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
    carrier: 'sf',
    trackingNumber: tracking,
  });
  expect(shipped.status).toBe(201);
  const shipmentId = shipped.body.shipmentId as number;
  expect(await stack.channels.sendShipment(shipmentId)).toMatchObject({
    status: 'sent',
    fulfilmentId: `gid://shopify/Fulfillment/${fulfilment}`,
  });
  return { shipmentId, fulfilment, tracking };
}

async function orderView(orderId: number) {
  const res = await stack.api('GET', `/api/orders/${orderId}`);
  expect(res.status).toBe(200);
  return res.body;
}

/** The order's history rows into `delivered`, and the outbox messages announcing them. */
async function deliveredTrail(orderId: number) {
  const history = await stack.db('order_events').where({ order_id: orderId, to_status: 'delivered' });
  const outbox = (await stack.db('outbox').where({ topic: 'order.status_changed' }))
    .map((r) => (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload))
    .filter((p) => Number(p.orderId) === orderId && p.to === 'delivered');
  return { history, outbox };
}

/** One Shopify order node of the delivery query (`nodes(ids:)`), with its fulfilments. */
function deliveriesNode(
  orderId: string,
  fulfilments: { id: number; displayStatus: string; deliveredAt?: string | null; tracking?: string }[],
) {
  return {
    id: `gid://shopify/Order/${orderId}`,
    fulfillments: fulfilments.map((f) => ({
      id: `gid://shopify/Fulfillment/${f.id}`,
      status: 'SUCCESS',
      displayStatus: f.displayStatus,
      deliveredAt: f.deliveredAt ?? null,
      updatedAt: f.deliveredAt ?? '2026-11-29T08:00:00Z',
      trackingInfo: [{ number: f.tracking ?? `SF-${f.id}` }],
    })),
  };
}

beforeAll(async () => {
  stack = await createStack();
  await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['TEE-S', 'MUG', 'CUP']);
  await stack.api('POST', '/api/stock/receipts', {
    warehouse: 'main',
    reference: 'opening',
    lines: ['TEE-S', 'MUG', 'CUP'].map((sku) => ({ sku, quantity: 100 })),
  });
  const shop = await stack.api('POST', '/api/channels', {
    type: 'shopify',
    name: 'Delivery shop',
    settings: {
      shopDomain: 'delivery-shop.myshopify.com',
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
    name: 'Delivery Woo',
    settings: {
      siteUrl: WOO_SITE,
      consumerKey: 'ck_delivery_0123456789abcdef0123456789abcdef',
      consumerSecret: 'cs_delivery_fedcba9876543210fedcba9876543210',
      webhookSecret: WOO_SECRET,
      pullIntervalSeconds: 3600,
    },
  });
  expect(woo.status).toBe(201);
  wooId = woo.body.id;
  stack.startWorker(4);
});

afterAll(async () => {
  await stack?.close();
});

describe('Shopify reports delivery by webhook', () => {
  it('in transit is recorded on the shipment; delivered moves the order to delivered once, with history and outbox', async () => {
    const orderId = '5900000000000000001';
    const id = await placeOrder(orderId, [{ ...TEE, quantity: 2 }]);
    const { shipmentId, fulfilment } = await shipAndSend(id, orderId, [{ ...TEE, quantity: 2 }]);
    expect((await orderView(id)).status).toBe('shipped');

    const transit = await shopifyWebhook(
      'fulfillment_events/create',
      fulfillmentEvent(orderId, fulfilment, 'in_transit', '2026-11-29T08:00:00Z'),
    );
    expect(transit.body).toMatchObject({ status: 'updated', orderId: id });
    let view = await orderView(id);
    expect(view.status).toBe('shipped');
    expect(view.shipments[0]).toMatchObject({
      id: shipmentId,
      delivery: { status: 'in_transit', at: '2026-11-29T08:00:00.000Z', deliveredAt: null },
    });

    const deliveredBody = fulfillmentEvent(orderId, fulfilment, 'delivered', '2026-11-30T15:30:00+08:00');
    const delivered = await shopifyWebhook('fulfillment_events/create', deliveredBody, 'evt-d-delivered-1');
    expect(delivered.body).toMatchObject({ status: 'updated', orderId: id });
    expect(delivered.body.note).toContain('order delivered');
    view = await orderView(id);
    expect(view.status).toBe('delivered');
    expect(view.shipments[0].delivery).toEqual({
      status: 'delivered',
      at: '2026-11-30T07:30:00.000Z',
      deliveredAt: '2026-11-30T07:30:00.000Z',
    });
    expect(view.history.at(-1)).toMatchObject({
      from: 'shipped',
      to: 'delivered',
      actor: `channel:shopify:${shopifyId}`,
      reason: `delivered: shipment ${shipmentId}`,
    });

    // The same delivery again, the same report under another event id, and the fulfilment's own
    // update: nothing changes the second time.
    const again = await shopifyWebhook('fulfillment_events/create', deliveredBody, 'evt-d-delivered-1');
    expect(again.body.status).toBe('duplicate');
    const repeat = await shopifyWebhook('fulfillment_events/create', deliveredBody);
    expect(repeat.body).toMatchObject({ status: 'unchanged', orderId: id });
    expect(repeat.body.note).toContain('the order is delivered');
    const update = await shopifyWebhook(
      'fulfillments/update',
      fulfillmentUpdate(orderId, fulfilment, 'delivered', '2026-11-30T08:00:00Z'),
    );
    expect(update.body).toMatchObject({ status: 'unchanged', orderId: id });
    // A late in-transit event (out of order) does not undo it either.
    const late = await shopifyWebhook(
      'fulfillment_events/create',
      fulfillmentEvent(orderId, fulfilment, 'out_for_delivery', '2026-11-30T06:00:00Z'),
    );
    expect(late.body.status).toBe('unchanged');

    const trail = await deliveredTrail(id);
    expect(trail.history).toHaveLength(1);
    expect(trail.outbox).toEqual([{ orderId: id, from: 'shipped', to: 'delivered' }]);
    expect((await orderView(id)).shipments[0].delivery.deliveredAt).toBe('2026-11-30T07:30:00.000Z');
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('fulfillments/update with shipment_status delivered moves the order too', async () => {
    const orderId = '5900000000000000002';
    const id = await placeOrder(orderId, [{ ...MUG, quantity: 1 }]);
    const { shipmentId, fulfilment } = await shipAndSend(id, orderId, [{ ...MUG, quantity: 1 }]);
    // A fulfilment updated for another reason (no shipment status) tells nothing.
    const plain = await shopifyWebhook(
      'fulfillments/update',
      fulfillmentUpdate(orderId, fulfilment, null, '2026-11-29T09:00:00Z'),
    );
    expect(plain.body.status).toBe('unchanged');
    const done = await shopifyWebhook(
      'fulfillments/update',
      fulfillmentUpdate(orderId, fulfilment, 'delivered', '2026-11-29T10:00:00Z'),
    );
    expect(done.body).toMatchObject({ status: 'updated', orderId: id });
    const view = await orderView(id);
    expect(view.status).toBe('delivered');
    expect(view.shipments[0]).toMatchObject({ id: shipmentId, delivery: { status: 'delivered' } });
    expect((await deliveredTrail(id)).history).toHaveLength(1);
  });

  it('an order with one of two shipments delivered stays shipped; a partly shipped order stays partly shipped', async () => {
    const orderId = '5900000000000000003';
    const id = await placeOrder(orderId, [
      { ...TEE, quantity: 1 },
      { ...MUG, quantity: 2 },
    ]);
    const first = await shipAndSend(id, orderId, [{ ...TEE, quantity: 1 }]);
    expect((await orderView(id)).status).toBe('partially_shipped');

    // Delivered while the rest has not shipped: recorded, the order stays partly shipped.
    const early = await shopifyWebhook(
      'fulfillment_events/create',
      fulfillmentEvent(orderId, first.fulfilment, 'delivered', '2026-11-29T11:00:00Z'),
    );
    expect(early.body).toMatchObject({ status: 'updated', orderId: id });
    let view = await orderView(id);
    expect(view.status).toBe('partially_shipped');
    expect(view.shipments[0].delivery.deliveredAt).toBe('2026-11-29T11:00:00.000Z');

    const second = await shipAndSend(id, orderId, [{ ...MUG, quantity: 2 }]);
    view = await orderView(id);
    expect(view.status).toBe('shipped');

    // The second in transit: one of two delivered, the order stays shipped.
    await shopifyWebhook(
      'fulfillment_events/create',
      fulfillmentEvent(orderId, second.fulfilment, 'out_for_delivery', '2026-11-30T08:00:00Z'),
    );
    view = await orderView(id);
    expect(view.status).toBe('shipped');
    expect(view.shipments.map((s: any) => s.delivery.status)).toEqual(['delivered', 'out_for_delivery']);

    const last = await shopifyWebhook(
      'fulfillment_events/create',
      fulfillmentEvent(orderId, second.fulfilment, 'delivered', '2026-11-30T12:00:00Z'),
    );
    expect(last.body.note).toContain('order delivered');
    view = await orderView(id);
    expect(view.status).toBe('delivered');
    expect(view.history.filter((h: any) => h.to === 'delivered')).toHaveLength(1);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('a report of an order or a fulfilment we do not have is held as ignored with the reason, once', async () => {
    const unknown = await shopifyWebhook(
      'fulfillment_events/create',
      fulfillmentEvent('5900000000000009999', 9999, 'delivered', '2026-11-30T12:00:00Z'),
    );
    expect(unknown.status).toBe(200);
    expect(unknown.body).toMatchObject({
      status: 'ignored',
      orderId: null,
      note: 'ignored: a delivery report of an order we do not have',
    });
    const row = await stack.db('inbound_events').where({ id: unknown.body.eventId }).first();
    expect(row).toMatchObject({ kind: 'order.delivery', topic: 'fulfillment_events/create', error: null });
    expect(row.processed_at).not.toBeNull();
    expect(Number(row.attempts)).toBe(0);
    // Visible to a person.
    const listed = await stack.api('GET', '/api/inbound-events?status=processed&limit=50');
    expect(listed.status).toBe(200);
    expect(JSON.stringify(listed.body)).toContain('a delivery report of an order we do not have');

    // A fulfilment made by hand on Shopify (not one of our shipments): ignored, the order as it was.
    const orderId = '5900000000000000004';
    const id = await placeOrder(orderId, [{ ...CUP, quantity: 1 }]);
    await shipAndSend(id, orderId, [{ ...CUP, quantity: 1 }]);
    const stranger = await shopifyWebhook(
      'fulfillment_events/create',
      fulfillmentEvent(orderId, 7777, 'delivered', '2026-11-30T12:00:00Z'),
    );
    expect(stranger.body).toMatchObject({ status: 'ignored', orderId: id });
    expect(stranger.body.note).toContain('gid://shopify/Fulfillment/7777');
    expect(stranger.body.note).toContain('none of our shipments');
    expect((await orderView(id)).status).toBe('shipped');
  });

  it('a report for an order we cancelled or completed changes nothing', async () => {
    // Completed by hand before the carrier's report came.
    const orderId = '5900000000000000005';
    const id = await placeOrder(orderId, [{ ...TEE, quantity: 1 }]);
    const { fulfilment } = await shipAndSend(id, orderId, [{ ...TEE, quantity: 1 }]);
    const completed = await stack.api('POST', `/api/orders/${id}/status`, { status: 'completed' });
    expect(completed.status).toBe(200);
    const late = await shopifyWebhook(
      'fulfillment_events/create',
      fulfillmentEvent(orderId, fulfilment, 'delivered', '2026-11-30T12:00:00Z'),
    );
    expect(late.body).toMatchObject({ status: 'unchanged', orderId: id });
    expect(late.body.note).toContain('the order is completed');
    const view = await orderView(id);
    expect(view.status).toBe('completed');
    expect(view.shipments[0].delivery).toBeNull();

    // Cancelled (nothing shipped): the report changes nothing.
    const other = '5900000000000000006';
    const cancelledId = await placeOrder(other, [{ ...MUG, quantity: 1 }]);
    expect((await stack.api('POST', `/api/orders/${cancelledId}/cancel`, { reason: 'test' })).status).toBe(
      200,
    );
    const onCancelled = await shopifyWebhook(
      'fulfillment_events/create',
      fulfillmentEvent(other, 4242, 'delivered', '2026-11-30T12:00:00Z'),
    );
    expect(onCancelled.body).toMatchObject({ status: 'unchanged', orderId: cancelledId });
    expect((await orderView(cancelledId)).status).toBe('cancelled');
    expect((await deliveredTrail(id)).history).toHaveLength(0);
    expect((await deliveredTrail(cancelledId)).history).toHaveLength(0);
  });
});

describe('Shopify delivery caught by the pull', () => {
  it('reads displayStatus/deliveredAt of the fulfilments of orders not yet delivered; webhook and pull together change nothing twice', async () => {
    const a = '5900000000000000011';
    const b = '5900000000000000012';
    const idA = await placeOrder(a, [{ ...TEE, quantity: 1 }]);
    const idB = await placeOrder(b, [
      { ...TEE, quantity: 1 },
      { ...MUG, quantity: 1 },
    ]);
    const sa = await shipAndSend(idA, a, [{ ...TEE, quantity: 1 }]);
    const sb1 = await shipAndSend(idB, b, [{ ...TEE, quantity: 1 }]);
    const sb2 = await shipAndSend(idB, b, [{ ...MUG, quantity: 1 }]);

    // The webhook for B's first shipment came; the others were missed.
    await shopifyWebhook(
      'fulfillment_events/create',
      fulfillmentEvent(b, sb1.fulfilment, 'delivered', '2026-11-30T09:00:00Z'),
    );
    expect((await orderView(idB)).status).toBe('shipped');

    const asked: any[] = [];
    nock(SHOPIFY_HOST)
      .post(GRAPHQL, (body) => {
        if (!body.query.includes('Deliveries')) return false;
        asked.push(body);
        return true;
      })
      .matchHeader('x-shopify-access-token', SHOPIFY_TOKEN)
      .reply(200, (_uri, body: any) => ({
        data: {
          nodes: idsOf(body).map((gid) => {
            if (gid === `gid://shopify/Order/${a}`)
              return deliveriesNode(a, [
                { id: sa.fulfilment, displayStatus: 'DELIVERED', deliveredAt: '2026-11-30T10:00:00Z' },
              ]);
            if (gid === `gid://shopify/Order/${b}`)
              return deliveriesNode(b, [
                { id: sb1.fulfilment, displayStatus: 'DELIVERED', deliveredAt: '2026-11-30T09:00:00Z' },
                { id: sb2.fulfilment, displayStatus: 'IN_TRANSIT' },
                // Made by hand on Shopify: not ours, left alone.
                { id: 6666, displayStatus: 'DELIVERED', deliveredAt: '2026-11-30T09:00:00Z' },
              ]);
            // Orders of other tests that are still on their way.
            const id = gid.split('/').pop()!;
            return deliveriesNode(id, []);
          }),
        },
        extensions: {
          cost: {
            requestedQueryCost: 100,
            actualQueryCost: 20,
            throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 1980, restoreRate: 100 },
          },
        },
      }));
    const first = await stack.channels.pullDeliveries(shopifyId);
    expect(asked).toHaveLength(1);
    expect(asked[0].variables.ids).toEqual(
      expect.arrayContaining([`gid://shopify/Order/${a}`, `gid://shopify/Order/${b}`]),
    );
    // A's delivery, B's second shipment in transit (B's first was delivered already: not asked again).
    expect(first).toMatchObject({ reports: 2, outcomes: { updated: 2 } });
    expect((await orderView(idA)).status).toBe('delivered');
    const viewB = await orderView(idB);
    expect(viewB.status).toBe('shipped');
    expect(viewB.shipments.map((s: any) => s.delivery.status)).toEqual(['delivered', 'in_transit']);
    const pulledEvent = await stack
      .db('inbound_events')
      .where({ topic: 'pull', kind: 'order.delivery', order_id: idA })
      .first();
    expect(pulledEvent.note).toContain('order delivered');

    // The webhook for A arrives late: nothing changes.
    const lateA = await shopifyWebhook(
      'fulfillment_events/create',
      fulfillmentEvent(a, sa.fulfilment, 'delivered', '2026-11-30T10:00:00Z'),
    );
    expect(lateA.body).toMatchObject({ status: 'unchanged', orderId: idA });

    // B's second delivered by webhook; the next pull finds nothing left to ask about B.
    await shopifyWebhook(
      'fulfillment_events/create',
      fulfillmentEvent(b, sb2.fulfilment, 'delivered', '2026-12-01T09:00:00Z'),
    );
    expect((await orderView(idB)).status).toBe('delivered');
    const again: any[] = [];
    nock(SHOPIFY_HOST)
      .post(GRAPHQL, (body) => body.query.includes('Deliveries') && again.push(body) > 0)
      .optionally()
      .reply(200, (_uri, body: any) => ({
        data: {
          nodes: idsOf(body).map((gid) => deliveriesNode(gid.split('/').pop()!, [])),
        },
      }));
    const second = await stack.channels.pullDeliveries(shopifyId);
    expect(second?.reports).toBe(0);
    for (const call of again) {
      expect(call.variables.ids).not.toContain(`gid://shopify/Order/${a}`);
      expect(call.variables.ids).not.toContain(`gid://shopify/Order/${b}`);
    }
    for (const id of [idA, idB]) {
      const trail = await deliveredTrail(id);
      expect(trail.history).toHaveLength(1);
      expect(trail.outbox).toHaveLength(1);
    }
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('the scheduled pull reads delivery after the orders', async () => {
    const orderId = '5900000000000000021';
    const id = await placeOrder(orderId, [{ ...CUP, quantity: 2 }]);
    const sent = await shipAndSend(id, orderId, [{ ...CUP, quantity: 2 }]);
    nock(SHOPIFY_HOST)
      .post(GRAPHQL, (body) => body.query.includes('PullOrders'))
      .reply(200, {
        data: { orders: { pageInfo: { hasNextPage: false, endCursor: null }, nodes: [] } },
      })
      .post(GRAPHQL, (body) => body.query.includes('Deliveries'))
      .reply(200, (_uri, body: any) => ({
        data: {
          nodes: idsOf(body).map((gid) =>
            gid === `gid://shopify/Order/${orderId}`
              ? deliveriesNode(orderId, [
                  { id: sent.fulfilment, displayStatus: 'DELIVERED', deliveredAt: '2026-12-01T03:00:00Z' },
                ])
              : deliveriesNode(gid.split('/').pop()!, []),
          ),
        },
      }));
    const res = await stack.api('POST', `/api/channels/${shopifyId}/sync`);
    expect(res.status).toBe(200);
    const view = await orderView(id);
    expect(view.status).toBe('delivered');
    expect(view.shipments[0].delivery.deliveredAt).toBe('2026-12-01T03:00:00.000Z');
  });
});

describe('WooCommerce reports no delivery', () => {
  it('delivered stays the manual transition, which still works', async () => {
    const order = {
      id: 9201,
      parent_id: 0,
      number: '9201',
      status: 'processing',
      currency: 'EUR',
      date_created: '2026-11-25T10:00:00',
      date_created_gmt: '2026-11-25T09:00:00',
      date_modified: '2026-11-25T10:00:05',
      date_modified_gmt: '2026-11-25T09:00:05',
      discount_total: '0.00',
      discount_tax: '0.00',
      shipping_total: '0.00',
      shipping_tax: '0.00',
      cart_tax: '0.00',
      total: '10.00',
      total_tax: '0.00',
      prices_include_tax: false,
      customer_id: 0,
      billing: { first_name: 'Wang', last_name: 'Fang', email: 'wang.fang@example.com' },
      shipping: {},
      payment_method: 'bacs',
      date_paid: '2026-11-25T10:00:05',
      date_paid_gmt: '2026-11-25T09:00:05',
      meta_data: [],
      line_items: [
        {
          id: 92010,
          name: 'CUP',
          product_id: 301,
          variation_id: 0,
          quantity: 1,
          subtotal: '10.00',
          subtotal_tax: '0.00',
          total: '10.00',
          total_tax: '0.00',
          taxes: [],
          meta_data: [],
          sku: 'CUP',
          price: 10,
        },
      ],
      tax_lines: [],
      shipping_lines: [],
      fee_lines: [],
      coupon_lines: [],
      refunds: [],
    };
    const body = JSON.stringify(order);
    const res = await stack.app.request(`/webhooks/${wooId}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-wc-webhook-topic': 'order.created',
        'x-wc-webhook-resource': 'order',
        'x-wc-webhook-event': 'created',
        'x-wc-webhook-signature': createHmac('sha256', WOO_SECRET).update(body).digest('base64'),
        'x-wc-webhook-delivery-id': 'woo-d-1',
        'x-wc-webhook-source': `${WOO_SITE}/`,
      },
      body,
    });
    const created = await webhookOutcome(stack.db, res.status, (await res.json()) as Record<string, any>);
    expect(created.body.status).toBe('created');
    await stack.settle();
    const id = created.body.orderId as number;
    const shipped = await stack.api('POST', `/api/orders/${id}/shipments`, {
      carrier: 'zto',
      trackingNumber: 'ZT1',
    });
    expect(shipped.body.status).toBe('shipped');

    // No delivery reports from WooCommerce: the pull has nothing to ask.
    expect(await stack.channels.pullDeliveries(wooId)).toBeNull();
    expect((await orderView(id)).status).toBe('shipped');

    const delivered = await stack.api('POST', `/api/orders/${id}/status`, {
      status: 'delivered',
      reason: 'customer confirmed by phone',
    });
    expect(delivered.status).toBe(200);
    const view = await orderView(id);
    expect(view.status).toBe('delivered');
    expect(view.history.at(-1)).toMatchObject({
      from: 'shipped',
      to: 'delivered',
      reason: 'customer confirmed by phone',
    });
    expect((await deliveredTrail(id)).outbox).toEqual([{ orderId: id, from: 'shipped', to: 'delivered' }]);
    // Twice is refused by the state machine, and changes nothing.
    const twice = await stack.api('POST', `/api/orders/${id}/status`, { status: 'delivered' });
    expect([200, 409]).toContain(twice.status);
    expect((await deliveredTrail(id)).history).toHaveLength(1);
    expect((await stack.api('POST', `/api/orders/${id}/status`, { status: 'completed' })).status).toBe(200);
    expect((await orderView(id)).status).toBe('completed');
  });
});
