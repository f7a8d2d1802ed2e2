import { PermanentError } from '../../src/errors/permanent-error.js';
import type { ConnectorContext, DeliveryReport, PulledDelivery } from '../contract.js';
import { shopifyGraphql } from './graphql.js';
import { shopifyIdString, toGid } from './normalize.js';
import type { ShopifySettings } from './settings.js';

/*
 * Delivery as Shopify reports it. A carrier's tracking events reach Shopify as fulfillment events
 * (`fulfillment_events/create`: `status` in_transit, out_for_delivery, delivered…, with the
 * `fulfillment_id`, `order_id` and `happened_at`); each also updates the fulfilment's
 * `shipment_status` (`fulfillments/update`). The pull reads the same state from the orders'
 * fulfilments (`displayStatus`, `deliveredAt`) for webhooks that were missed.
 */

/** Orders per `nodes(ids:)` read of their fulfilments. */
export const DELIVERY_ORDERS_PER_QUERY = 20;
/** Fulfilments read per order: an order rarely has more than a handful. */
const FULFILMENTS_PER_ORDER = 20;

export const DELIVERIES_QUERY = `
query Deliveries($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on Order {
      id
      fulfillments(first: ${FULFILMENTS_PER_ORDER}) {
        id
        status
        displayStatus
        deliveredAt
        updatedAt
        trackingInfo { number }
      }
    }
  }
}`;

/**
 * Requested cost of `DELIVERIES_QUERY` for `orders` orders: each order, and its fulfilments with
 * their tracking info (reckoned like a connection, to stay on the safe side).
 */
export function deliveriesQueryCost(orders: number): number {
  return 2 + orders * (1 + 3 + FULFILMENTS_PER_ORDER * 2);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function isoUtc(value: unknown): string | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

const lower = (v: unknown): string => (typeof v === 'string' ? v.trim().toLowerCase() : '');

function trackingNumbers(...values: unknown[]): string[] {
  const out = new Set<string>();
  for (const v of values) {
    for (const n of Array.isArray(v) ? v : [v]) if (typeof n === 'string' && n.trim()) out.add(n.trim());
  }
  return [...out];
}

/**
 * Reads a delivery webhook: a fulfillment event (`fulfillment_events/create`, it names its
 * `fulfillment_id`), or a fulfilment (`fulfillments/update`, its `shipment_status`; empty when it
 * has none, e.g. a fulfilment updated for another reason). The fulfilment's id becomes its GID, the
 * form `fulfillmentCreate` answered with. A pulled fulfilment (`{orderId, fulfillment}`, as
 * `readShopifyDeliveries` stores it) is read too.
 */
export function normalizeShopifyDelivery(payload: unknown): DeliveryReport {
  if (!isRecord(payload))
    throw new PermanentError('invalid_payload', 'Shopify delivery: the payload is not an object');
  if (isRecord(payload.fulfillment) && typeof payload.orderId === 'string') {
    const report = pulledReport(payload.orderId, payload.fulfillment as FulfilmentNode);
    if (!report)
      throw new PermanentError('invalid_payload', 'Shopify fulfillment: no order or fulfilment id');
    return report;
  }
  const externalOrderId = shopifyIdString(payload.order_id);
  if (!externalOrderId) throw new PermanentError('invalid_payload', 'Shopify delivery: no order_id');
  if (payload.fulfillment_id !== undefined) {
    const fulfilmentId = toGid('Fulfillment', payload.fulfillment_id);
    if (!fulfilmentId)
      throw new PermanentError('invalid_payload', 'Shopify fulfillment event: no fulfillment_id');
    const status = lower(payload.status);
    return {
      externalOrderId,
      fulfilmentId,
      trackingNumbers: [],
      status,
      delivered: status === 'delivered',
      happenedAt: isoUtc(payload.happened_at) ?? isoUtc(payload.created_at),
    };
  }
  const fulfilmentId = toGid('Fulfillment', payload.admin_graphql_api_id) ?? toGid('Fulfillment', payload.id);
  if (!fulfilmentId) throw new PermanentError('invalid_payload', 'Shopify fulfillment: no id');
  const status = lower(payload.shipment_status);
  return {
    externalOrderId,
    fulfilmentId,
    trackingNumbers: trackingNumbers(payload.tracking_numbers, payload.tracking_number),
    status,
    delivered: status === 'delivered',
    happenedAt: isoUtc(payload.updated_at),
  };
}

interface FulfilmentNode {
  id?: string;
  status?: string | null;
  displayStatus?: string | null;
  deliveredAt?: string | null;
  updatedAt?: string | null;
  trackingInfo?: { number?: string | null }[] | null;
}

interface DeliveriesData {
  nodes: ({ id?: string; fulfillments?: FulfilmentNode[] | null } | null)[];
}

/** A pulled fulfilment's delivery report; null without an order or fulfilment id. */
function pulledReport(orderGid: string, f: FulfilmentNode): DeliveryReport | null {
  const externalOrderId = shopifyIdString(orderGid);
  const fulfilmentId = toGid('Fulfillment', f.id);
  if (!externalOrderId || !fulfilmentId) return null;
  const deliveredAt = isoUtc(f.deliveredAt);
  const status = lower(f.displayStatus);
  const delivered = status === 'delivered' || deliveredAt !== null;
  return {
    externalOrderId,
    fulfilmentId,
    trackingNumbers: trackingNumbers((f.trackingInfo ?? []).map((t) => t.number)),
    status: delivered ? 'delivered' : status,
    delivered,
    happenedAt: deliveredAt ?? isoUtc(f.updatedAt),
  };
}

/**
 * The delivery state of every fulfilment of these orders, read with `nodes(ids:)` a few orders at
 * a time: `displayStatus` lower-cased as the status, delivered when it is `DELIVERED` or Shopify
 * gives a `deliveredAt` (then the time it happened). Cancelled fulfilments are left out.
 */
export async function readShopifyDeliveries(
  ctx: ConnectorContext<ShopifySettings>,
  externalOrderIds: readonly string[],
): Promise<PulledDelivery[]> {
  const ids = [...new Set(externalOrderIds.map((id) => toGid('Order', id)).filter((g): g is string => !!g))];
  const out: PulledDelivery[] = [];
  for (let i = 0; i < ids.length; i += DELIVERY_ORDERS_PER_QUERY) {
    const batch = ids.slice(i, i + DELIVERY_ORDERS_PER_QUERY);
    const data = await shopifyGraphql<DeliveriesData>(
      ctx,
      DELIVERIES_QUERY,
      { ids: batch },
      { cost: deliveriesQueryCost(batch.length) },
    );
    for (const node of data.nodes ?? []) {
      if (!node?.id) continue;
      for (const f of node.fulfillments ?? []) {
        if (lower(f.status) === 'cancelled') continue;
        const report = pulledReport(node.id, f);
        if (report) out.push({ raw: { orderId: node.id, fulfillment: f }, report });
      }
    }
  }
  return out;
}
