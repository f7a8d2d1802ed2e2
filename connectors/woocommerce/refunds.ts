import type { ConnectorContext } from '../contract.js';
import { isRecord } from '../shared/payload.js';
import { wooIdString } from './normalize.js';
import { jsonBody, WooCommerceResponseError, wooRequest } from './request.js';
import type { WooCommerceSettings } from './settings.js';

/** Refunds asked for per page; an order with more is read page by page. */
const REFUNDS_PAGE_SIZE = 100;

/**
 * Whether the order lists refunds whose line items it does not carry: an order's own JSON (every
 * webhook body, every pulled order) lists each refund as `{id, reason, total}` only.
 */
export function lacksRefundLines(payload: unknown): boolean {
  return (
    isRecord(payload) &&
    Array.isArray(payload.refunds) &&
    payload.refunds.some((r) => isRecord(r) && !Array.isArray(r.line_items))
  );
}

/** Every refund of an order, with its line items (`GET orders/<id>/refunds`, page by page). */
export async function fetchRefunds(
  ctx: ConnectorContext<WooCommerceSettings>,
  orderId: string,
): Promise<unknown[]> {
  const all: unknown[] = [];
  for (let page = 1; ; page++) {
    const res = await wooRequest<unknown>(ctx, {
      method: 'GET',
      url: `orders/${orderId}/refunds`,
      params: { per_page: REFUNDS_PAGE_SIZE, page },
    });
    const body = jsonBody(res.data, 'order refunds');
    if (!Array.isArray(body))
      throw new WooCommerceResponseError('WooCommerce order refunds: the response is not a list');
    all.push(...body);
    if (body.length < REFUNDS_PAGE_SIZE) return all;
  }
}

/**
 * The order with its refunds' line items, so that refunded units can be taken off its lines: an
 * order listing refunds (a partial refund fires `order.updated` with them) gets them read from
 * the site; any other payload is returned as it is, without a request.
 */
export async function withRefundLines(
  ctx: ConnectorContext<WooCommerceSettings>,
  payload: unknown,
): Promise<unknown> {
  if (!lacksRefundLines(payload)) return payload;
  const order = payload as Record<string, unknown>;
  const id = wooIdString(order.id);
  if (!id) return payload;
  return { ...order, refunds: await fetchRefunds(ctx, id) };
}
