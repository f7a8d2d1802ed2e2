import type {
  CancellationRequest,
  ConnectorContext,
  FulfilmentRequest,
  FulfilmentResult,
} from '../contract.js';
import { jsonBody, wooRequest } from './request.js';
import type { WooCommerceSettings } from './settings.js';

/** Marks our notes, so that a note is added once per shipment however often it is sent. */
export const shipmentMarker = (shipmentId: number) => `[stockbridge shipment ${shipmentId}]`;

/** The note the buyer reads (WooCommerce e-mails customer notes), in Chinese and English. */
export function shipmentNote(request: FulfilmentRequest): string {
  const { company, number, url } = request.tracking;
  const parts = [
    `已发货 Shipped: ${request.lines.map((l) => `${l.quantity} × ${l.channelSku ?? l.sku}`).join(', ')}`,
  ];
  if (company) parts.push(`承运商 Carrier: ${company}`);
  if (number) parts.push(`运单号 Tracking number: ${number}`);
  if (url) parts.push(`查询 Track: ${url}`);
  parts.push(shipmentMarker(request.shipmentId));
  return parts.join('\n');
}

/**
 * Tells WooCommerce about a shipment: a customer note with the tracking (added once: a note that
 * already carries this shipment's marker is not added again), and, when the order has now shipped
 * in full and the channel's `fulfilmentStatus` is `complete`, the order set to `completed` (which
 * makes WooCommerce send its own "order completed" e-mail). Setting a status is idempotent.
 * The `order.updated` webhook WooCommerce sends back changes nothing here (same lines).
 */
export async function sendWooCommerceFulfilment(
  ctx: ConnectorContext<WooCommerceSettings>,
  request: FulfilmentRequest,
): Promise<FulfilmentResult> {
  const id = request.externalOrderId;
  if (!/^\d+$/.test(id)) return { status: 'refused', reason: `not a WooCommerce order id: ${id}` };
  const notesUrl = `orders/${id}/notes`;
  const marker = shipmentMarker(request.shipmentId);
  const existing = jsonBody(
    (await wooRequest<unknown>(ctx, { method: 'GET', url: notesUrl })).data,
    notesUrl,
  );
  const found = Array.isArray(existing)
    ? (existing as { id?: unknown; note?: unknown }[]).find(
        (n) => typeof n.note === 'string' && n.note.includes(marker),
      )
    : undefined;
  let noteId = found?.id !== undefined ? String(found.id) : null;
  if (!found) {
    const res = await wooRequest<unknown>(ctx, {
      method: 'POST',
      url: notesUrl,
      data: { note: shipmentNote(request), customer_note: true },
      headers: { 'Content-Type': 'application/json' },
    });
    const body = jsonBody(res.data, notesUrl) as { id?: unknown } | null;
    noteId = body && body.id !== undefined ? String(body.id) : null;
  }
  let completed = false;
  if (request.orderFullyShipped && ctx.settings.fulfilmentStatus === 'complete') {
    const url = `orders/${id}`;
    const res = await wooRequest<unknown>(ctx, {
      method: 'PUT',
      url,
      data: { status: 'completed' },
      headers: { 'Content-Type': 'application/json' },
    });
    const body = jsonBody(res.data, url) as { status?: unknown } | null;
    if (body?.status !== 'completed') {
      return {
        status: 'refused',
        reason: `WooCommerce left the order ${String(body?.status ?? 'unchanged')}`,
      };
    }
    completed = true;
  }
  return {
    status: 'sent',
    fulfilmentId:
      [noteId ? `note ${noteId}` : null, completed ? 'completed' : null].filter(Boolean).join(', ') || null,
  };
}

/**
 * Sets the WooCommerce order `cancelled` (WooCommerce refunds nothing on its own; whether it puts
 * stock back follows the shop's own settings). Setting a status again is harmless.
 */
export async function cancelWooCommerceOrder(
  ctx: ConnectorContext<WooCommerceSettings>,
  request: CancellationRequest,
): Promise<FulfilmentResult> {
  const id = request.externalOrderId;
  if (!/^\d+$/.test(id)) return { status: 'refused', reason: `not a WooCommerce order id: ${id}` };
  const url = `orders/${id}`;
  const res = await wooRequest<unknown>(ctx, {
    method: 'PUT',
    url,
    data: { status: 'cancelled' },
    headers: { 'Content-Type': 'application/json' },
  });
  const body = jsonBody(res.data, url) as { status?: unknown } | null;
  if (body?.status !== 'cancelled') {
    return { status: 'refused', reason: `WooCommerce left the order ${String(body?.status ?? 'unchanged')}` };
  }
  return { status: 'sent', fulfilmentId: null };
}
