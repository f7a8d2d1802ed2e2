import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DELIVERY_ORDERS_PER_QUERY,
  deliveriesQueryCost,
  normalizeShopifyDelivery,
} from '../../../connectors/shopify/delivery.js';
import shopify from '../../../connectors/shopify/index.js';
import { MAX_QUERY_COST } from '../../../connectors/shopify/pull.js';

const SECRET = 'delivery-unit-secret';
const sign = (body: string) => createHmac('sha256', SECRET).update(body).digest('base64');

/** `fulfillment_events/create` as Shopify sends it (REST FulfillmentEvent), ids beyond 2^53. */
const EVENT =
  '{"id":944956395,"fulfillment_id":5700000000000000011,"status":"delivered","message":"Left at door",' +
  '"happened_at":"2026-11-30T15:30:00+08:00","city":"Shanghai","province":null,"country":"CN","zip":null,' +
  '"address1":null,"latitude":null,"longitude":null,"shop_id":690933842,"created_at":"2026-11-30T07:31:00Z",' +
  '"updated_at":"2026-11-30T07:31:00Z","estimated_delivery_at":null,"order_id":5800000000000000042,' +
  '"admin_graphql_api_id":"gid://shopify/FulfillmentEvent/944956395"}';

/** `fulfillments/update` (REST Fulfillment) with its shipment status. */
const UPDATE =
  '{"id":5700000000000000011,"order_id":5800000000000000042,"status":"success","created_at":"2026-11-28T10:00:00Z",' +
  '"service":"manual","updated_at":"2026-11-30T07:40:00Z","tracking_company":"SF Express","shipment_status":"out_for_delivery",' +
  '"location_id":1,"line_items":[],"tracking_number":"SF1","tracking_numbers":["SF1","SF2"],"tracking_url":null,' +
  '"tracking_urls":[],"receipt":{},"name":"#1042.1","admin_graphql_api_id":"gid://shopify/Fulfillment/5700000000000000011"}';

describe('Shopify delivery webhooks', () => {
  it.each([
    ['fulfillment_events/create', EVENT],
    ['fulfillments/update', UPDATE],
  ])('%s is a delivery report naming the order, de-duplicated under its topic', (topic, body) => {
    const verified = shopify.verifyWebhook(
      Buffer.from(body),
      { 'x-shopify-hmac-sha256': sign(body), 'x-shopify-topic': topic, 'x-shopify-event-id': 'ev-1' },
      { webhookSecret: SECRET } as never,
    );
    expect(verified).toMatchObject({
      valid: true,
      envelope: {
        kind: 'order.delivery',
        externalOrderId: '5800000000000000042',
        deliveryId: `${topic}:ev-1`,
      },
    });
  });

  it('reads a fulfillment event: the fulfilment as the GID fulfillmentCreate answers with, its status and time in UTC', () => {
    const payload = shopify.parsePayload!(EVENT);
    expect(normalizeShopifyDelivery(payload)).toEqual({
      externalOrderId: '5800000000000000042',
      fulfilmentId: 'gid://shopify/Fulfillment/5700000000000000011',
      trackingNumbers: [],
      status: 'delivered',
      delivered: true,
      happenedAt: '2026-11-30T07:30:00.000Z',
    });
  });

  it('reads a fulfilment update: its shipment status and tracking numbers; none when it has no shipment status', () => {
    const payload = shopify.parsePayload!(UPDATE) as Record<string, unknown>;
    expect(normalizeShopifyDelivery(payload)).toEqual({
      externalOrderId: '5800000000000000042',
      fulfilmentId: 'gid://shopify/Fulfillment/5700000000000000011',
      trackingNumbers: ['SF1', 'SF2'],
      status: 'out_for_delivery',
      delivered: false,
      happenedAt: '2026-11-30T07:40:00.000Z',
    });
    expect(normalizeShopifyDelivery({ ...payload, shipment_status: null })).toMatchObject({
      status: '',
      delivered: false,
    });
  });

  it('reads a pulled fulfilment as stored, and refuses a payload without its order', () => {
    expect(
      normalizeShopifyDelivery({
        orderId: 'gid://shopify/Order/5800000000000000042',
        fulfillment: {
          id: 'gid://shopify/Fulfillment/5700000000000000011',
          status: 'SUCCESS',
          displayStatus: 'IN_TRANSIT',
          deliveredAt: null,
          updatedAt: '2026-11-30T01:00:00Z',
          trackingInfo: [{ number: 'SF1' }],
        },
      }),
    ).toEqual({
      externalOrderId: '5800000000000000042',
      fulfilmentId: 'gid://shopify/Fulfillment/5700000000000000011',
      trackingNumbers: ['SF1'],
      status: 'in_transit',
      delivered: false,
      happenedAt: '2026-11-30T01:00:00.000Z',
    });
    expect(() => normalizeShopifyDelivery({ fulfillment_id: 1, status: 'delivered' })).toThrow(/order_id/);
    expect(() => normalizeShopifyDelivery('x')).toThrow(/not an object/);
  });

  it('asks for as many orders per query as the cost limit allows', () => {
    expect(deliveriesQueryCost(DELIVERY_ORDERS_PER_QUERY)).toBeLessThanOrEqual(MAX_QUERY_COST);
  });
});
