import type {
  CancellationRequest,
  ConnectorContext,
  FulfilmentRequest,
  FulfilmentResult,
} from '../contract.js';
import { shopifyGraphql } from './graphql.js';
import { toGid } from './normalize.js';
import type { ShopifySettings } from './settings.js';

/**
 * The order's fulfillment orders with what is left to fulfil of each line, and the fulfilments it
 * has (to recognise one we created before, by its tracking number). Needs the fulfillment-order
 * scopes (README, "Adding a Shopify shop").
 */
export const FULFILLMENT_ORDERS_QUERY = `
query FulfillmentOrders($id: ID!) {
  order(id: $id) {
    id
    fulfillments(first: 50) { id trackingInfo { number company } }
    fulfillmentOrders(first: 50) {
      nodes {
        id
        status
        assignedLocation { location { id } }
        lineItems(first: 250) {
          nodes { id remainingQuantity lineItem { id sku variant { id } } }
        }
      }
    }
  }
}`;

export const FULFILLMENT_CREATE_MUTATION = `
mutation FulfillmentCreate($fulfillment: FulfillmentInput!, $message: String) {
  fulfillmentCreate(fulfillment: $fulfillment, message: $message) {
    fulfillment { id status }
    userErrors { field message }
  }
}`;

interface FoLineItem {
  id: string;
  remainingQuantity: number;
  lineItem: { id: string; sku: string | null; variant: { id: string } | null } | null;
}

interface FulfillmentOrderNode {
  id: string;
  status: string;
  assignedLocation?: { location?: { id: string } | null } | null;
  lineItems: { nodes: FoLineItem[] };
}

interface OrderData {
  order: {
    id: string;
    fulfillments?: { id: string; trackingInfo?: { number?: string | null }[] }[] | null;
    fulfillmentOrders: { nodes: FulfillmentOrderNode[] };
  } | null;
}

interface CreateData {
  fulfillmentCreate: {
    fulfillment: { id: string; status: string } | null;
    userErrors: { field?: string[] | null; message?: string }[];
  } | null;
}

/** The id of the order's fulfilment that carries this tracking number, if any. */
function fulfilmentWithTracking(data: OrderData, number: string | null): string | null {
  if (!number || !data.order) return null;
  const found = (data.order.fulfillments ?? []).find((f) =>
    (f.trackingInfo ?? []).some((t) => t.number === number),
  );
  return found?.id ?? null;
}

/** Fulfillment orders whose lines can take a fulfilment now (Shopify's FulfillmentOrderStatus). */
const FULFILLABLE = new Set(['OPEN', 'IN_PROGRESS']);

/**
 * Tells Shopify about a shipment: reads the order's fulfillment orders (and fulfilments), picks
 * the fulfillment-order line items of the shipped lines (matched by variant, else SKU) up to what
 * remains of each, and creates one fulfilment with the tracking through `fulfillmentCreate`.
 * `userErrors` are Shopify's refusal, with its reason; a fulfilment that already carries this
 * shipment's tracking number is taken as ours (sent before, the answer lost) — looked for first, and
 * again after a refusal (the client's own retry of a mutation whose answer was lost). `THROTTLED` is sat
 * through by `shopifyGraphql`, or handed to the job as a wait.
 */
export async function sendShopifyFulfilment(
  ctx: ConnectorContext<ShopifySettings>,
  request: FulfilmentRequest,
): Promise<FulfilmentResult> {
  const orderId = toGid('Order', request.externalOrderId);
  if (!orderId) return { status: 'refused', reason: `not a Shopify order id: ${request.externalOrderId}` };
  const data = await shopifyGraphql<OrderData>(ctx, FULFILLMENT_ORDERS_QUERY, { id: orderId }, { cost: 30 });
  if (!data.order) return { status: 'refused', reason: 'Shopify does not know this order' };

  const existing = fulfilmentWithTracking(data, request.tracking.number);
  if (existing) return { status: 'sent', fulfilmentId: existing };

  // What is left of each fulfillment-order line item, taken as the shipment's lines use it.
  const open = data.order.fulfillmentOrders.nodes.filter((fo) => FULFILLABLE.has(fo.status));
  const left = new Map<string, number>();
  for (const fo of open) for (const li of fo.lineItems.nodes) left.set(li.id, li.remainingQuantity);
  const picked = new Map<string, { fo: FulfillmentOrderNode; items: Map<string, number> }>();
  const short: string[] = [];
  for (const line of request.lines) {
    const variant = toGid('ProductVariant', line.variantId);
    const sku = line.channelSku ?? line.sku;
    const matches = (li: FoLineItem) =>
      variant ? li.lineItem?.variant?.id === variant : li.lineItem?.sku === sku;
    let needed = line.quantity;
    for (const fo of open) {
      for (const li of fo.lineItems.nodes) {
        if (needed === 0) break;
        if (!matches(li)) continue;
        const take = Math.min(needed, left.get(li.id) ?? 0);
        if (take <= 0) continue;
        left.set(li.id, (left.get(li.id) ?? 0) - take);
        needed -= take;
        const entry = picked.get(fo.id) ?? { fo, items: new Map<string, number>() };
        entry.items.set(li.id, (entry.items.get(li.id) ?? 0) + take);
        picked.set(fo.id, entry);
      }
    }
    if (needed > 0) short.push(`${line.sku} (${needed} of ${line.quantity})`);
  }
  if (short.length > 0) {
    return {
      status: 'refused',
      reason: `Shopify has nothing left to fulfil for ${short.join(', ')}: fulfilled there already, or on hold`,
    };
  }
  const locations = new Set([...picked.values()].map((p) => p.fo.assignedLocation?.location?.id ?? ''));
  if (locations.size > 1) {
    return {
      status: 'refused',
      reason: 'the shipped lines are assigned to several Shopify locations: fulfil them there',
    };
  }

  const trackingInfo: Record<string, string> = {};
  if (request.tracking.number) trackingInfo.number = request.tracking.number;
  if (request.tracking.company) trackingInfo.company = request.tracking.company;
  if (request.tracking.url) trackingInfo.url = request.tracking.url;
  const created = await shopifyGraphql<CreateData>(
    ctx,
    FULFILLMENT_CREATE_MUTATION,
    {
      fulfillment: {
        lineItemsByFulfillmentOrder: [...picked.values()].map(({ fo, items }) => ({
          fulfillmentOrderId: fo.id,
          fulfillmentOrderLineItems: [...items].map(([id, quantity]) => ({ id, quantity })),
        })),
        ...(Object.keys(trackingInfo).length > 0 ? { trackingInfo } : {}),
        notifyCustomer: ctx.settings.fulfilmentNotifyCustomer,
      },
      message: `stockbridge shipment ${request.shipmentId}`,
    },
    { cost: 10 },
  );
  const result = created.fulfillmentCreate;
  const errors = result?.userErrors ?? [];
  if (errors.length > 0) {
    // The HTTP client sends the mutation again after an answer it did not get (a timeout, a 5xx):
    // when the first one went through, Shopify refuses the second. The fulfilment it made is ours.
    if (request.tracking.number) {
      const again = await shopifyGraphql<OrderData>(
        ctx,
        FULFILLMENT_ORDERS_QUERY,
        { id: orderId },
        { cost: 30 },
      );
      const made = fulfilmentWithTracking(again, request.tracking.number);
      if (made) return { status: 'sent', fulfilmentId: made };
    }
    return {
      status: 'refused',
      reason: errors
        .map((e) => `${e.field?.length ? `${e.field.join('.')}: ` : ''}${e.message ?? 'refused'}`)
        .join('; '),
    };
  }
  if (!result?.fulfillment) return { status: 'refused', reason: 'Shopify created no fulfilment' };
  return { status: 'sent', fulfilmentId: result.fulfillment.id };
}

export const ORDER_CANCEL_MUTATION = `
mutation OrderCancel($orderId: ID!, $reason: OrderCancelReason!, $refund: Boolean!, $restock: Boolean!, $notifyCustomer: Boolean, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, refund: $refund, restock: $restock, notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    job { id }
    orderCancelUserErrors { field message code }
  }
}`;

interface CancelData {
  orderCancel: {
    job: { id: string } | null;
    orderCancelUserErrors: { field?: string[] | null; message?: string; code?: string | null }[];
  } | null;
}

/**
 * Cancels the order on Shopify with `orderCancel`, `refund: false, restock: false` (refunds and
 * restocking stay decisions for a person in the shop admin), reason `OTHER` and our reason as the
 * staff note. An order Shopify has cancelled already counts as sent.
 */
export async function cancelShopifyOrder(
  ctx: ConnectorContext<ShopifySettings>,
  request: CancellationRequest,
): Promise<FulfilmentResult> {
  const orderId = toGid('Order', request.externalOrderId);
  if (!orderId) return { status: 'refused', reason: `not a Shopify order id: ${request.externalOrderId}` };
  const data = await shopifyGraphql<CancelData>(
    ctx,
    ORDER_CANCEL_MUTATION,
    {
      orderId,
      reason: 'OTHER',
      refund: false,
      restock: false,
      notifyCustomer: ctx.settings.fulfilmentNotifyCustomer,
      staffNote: `stockbridge: ${request.reason}`.slice(0, 255),
    },
    { cost: 10 },
  );
  const errors = data.orderCancel?.orderCancelUserErrors ?? [];
  if (errors.length === 0) return { status: 'sent', fulfilmentId: data.orderCancel?.job?.id ?? null };
  if (errors.every((e) => e.code === 'ORDER_ALREADY_CANCELLED' || /already.*cancel/i.test(e.message ?? ''))) {
    return { status: 'sent', fulfilmentId: null };
  }
  return { status: 'refused', reason: errors.map((e) => e.message ?? e.code ?? 'refused').join('; ') };
}
