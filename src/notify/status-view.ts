import { type Conn, isoTime } from '../db/connection.js';
import { findCarrier, shipmentTracking } from '../domain/carriers.js';
import type { OrderStatus } from '../domain/order-status.js';

/**
 * What a customer sees of an order on its status page, and nothing more: the order number the
 * customer knows (the channel's or caller's external id, never our row ids), the lines by SKU
 * and product name with their quantities, the status and its history (statuses and times only:
 * reasons and actors are staff notes), shipments with carrier and tracking, and lines waiting for
 * stock. No prices or amounts (an invoice carries those), no customer, salesperson, warehouse,
 * hold reason or channel data.
 */
export interface StatusView {
  orderNumber: string;
  placedAt: string;
  status: OrderStatus;
  /** The order's contact language and time zone as stored, for the page's defaults. */
  contactLanguage: string | null;
  contactTimeZone: string | null;
  lines: StatusLine[];
  timeline: { status: OrderStatus; at: string }[];
  shipments: StatusShipment[];
  backordered: StatusBackorder[];
}

/** Where a line stands, from its quantities. */
export type LineState =
  | 'processing'
  | 'ready'
  | 'backordered'
  | 'partially_shipped'
  | 'shipped'
  | 'cancelled';

export interface StatusLine {
  lineNo: number;
  sku: string;
  /** Our product name; null for a SKU we do not know. */
  name: string | null;
  ordered: number;
  /** Reserved for the order, not yet shipped. */
  ready: number;
  backordered: number;
  shipped: number;
  cancelled: number;
  state: LineState;
}

export interface StatusShipment {
  shippedAt: string;
  /** Our carrier code (`sf`, `ups`, …), `other`, or null when the shipment named none. */
  carrier: string | null;
  /** The carrier's name in English and Chinese (the name as given for one not in our table). */
  carrierName: { en: string; zh: string } | null;
  trackingNumber: string | null;
  /** An http(s) tracking page, or null. */
  trackingUrl: string | null;
  lines: { sku: string; name: string | null; quantity: number }[];
}

export interface StatusBackorder {
  lineNo: number;
  sku: string;
  name: string | null;
  ordered: number;
  /** Units still waiting for stock. */
  waiting: number;
  /** `waiting_for_stock`: nothing of the line available yet; `partly_available`: some of it is. */
  state: 'waiting_for_stock' | 'partly_available';
}

/** A line's state, read off its quantities (`reserved + backordered + shipped + cancelled = ordered`). */
export function lineState(l: {
  ordered: number;
  reserved: number;
  backordered: number;
  shipped: number;
  cancelled: number;
}): LineState {
  if (l.cancelled >= l.ordered) return 'cancelled';
  if (l.shipped > 0 && l.shipped >= l.ordered - l.cancelled) return 'shipped';
  if (l.backordered > 0) return 'backordered';
  if (l.shipped > 0) return 'partially_shipped';
  if (l.reserved > 0) return 'ready';
  return 'processing';
}

const safeHttpUrl = (url: string | null): string | null => {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.toString() : null;
  } catch {
    return null;
  }
};

/** The customer's view of one order; null when there is no such order. */
export async function orderStatusView(db: Conn, orderId: number): Promise<StatusView | null> {
  const order = await db('orders')
    .where({ id: orderId })
    .first('external_id', 'status', 'placed_at', 'contact_language', 'contact_time_zone');
  if (!order) return null;
  const [lineRows, events, shipmentRows, shipmentLines] = await Promise.all([
    db('order_lines as l')
      .leftJoin('skus as s', 's.id', 'l.sku_id')
      .where('l.order_id', orderId)
      .orderBy('l.line_no')
      .select(
        'l.id',
        'l.line_no',
        'l.sku_code',
        's.name',
        'l.ordered',
        'l.reserved',
        'l.backordered',
        'l.shipped',
        'l.cancelled',
      ),
    db('order_events')
      .where({ order_id: orderId })
      .orderBy('id')
      .select('from_status', 'to_status', 'created_at'),
    db('shipments')
      .where({ order_id: orderId })
      .orderBy('id')
      .select('id', 'carrier', 'tracking_number', 'tracking_url', 'created_at'),
    db('shipment_lines as sl')
      .join('shipments as sh', 'sh.id', 'sl.shipment_id')
      .where('sh.order_id', orderId)
      .select('sl.shipment_id', 'sl.order_line_id', 'sl.quantity'),
  ]);
  const lines = lineRows.map((r) => {
    const q = {
      ordered: Number(r.ordered),
      reserved: Number(r.reserved),
      backordered: Number(r.backordered),
      shipped: Number(r.shipped),
      cancelled: Number(r.cancelled),
    };
    return {
      id: Number(r.id),
      line: {
        lineNo: Number(r.line_no),
        sku: String(r.sku_code),
        name: (r.name as string | null) ?? null,
        ordered: q.ordered,
        ready: q.reserved,
        backordered: q.backordered,
        shipped: q.shipped,
        cancelled: q.cancelled,
        state: lineState(q),
      } satisfies StatusLine,
    };
  });
  const lineById = new Map(lines.map((l) => [l.id, l.line]));
  return {
    orderNumber: String(order.external_id),
    placedAt: isoTime(order.placed_at) as string,
    status: order.status as OrderStatus,
    contactLanguage: (order.contact_language as string | null) ?? null,
    contactTimeZone: (order.contact_time_zone as string | null) ?? null,
    lines: lines.map((l) => l.line),
    // Changes of status only: rows that keep the status (an amendment, a return) are staff notes.
    timeline: events
      .filter((e) => e.from_status !== e.to_status)
      .map((e) => ({ status: e.to_status as OrderStatus, at: isoTime(e.created_at) as string })),
    shipments: shipmentRows.map((s) => {
      const tracking = shipmentTracking({
        carrier: s.carrier,
        trackingNumber: s.tracking_number,
        trackingUrl: s.tracking_url,
      });
      const known = findCarrier(s.carrier);
      return {
        shippedAt: isoTime(s.created_at) as string,
        carrier: tracking.carrier,
        carrierName: known
          ? { en: known.company, zh: known.nameZh }
          : tracking.company
            ? { en: tracking.company, zh: tracking.company }
            : null,
        trackingNumber: tracking.number,
        trackingUrl: safeHttpUrl(tracking.url),
        lines: shipmentLines
          .filter((sl) => Number(sl.shipment_id) === Number(s.id))
          .map((sl) => {
            const line = lineById.get(Number(sl.order_line_id));
            return { sku: line?.sku ?? '', name: line?.name ?? null, quantity: Number(sl.quantity) };
          }),
      };
    }),
    backordered: lines
      .map((l) => l.line)
      .filter((l) => l.backordered > 0)
      .map((l) => ({
        lineNo: l.lineNo,
        sku: l.sku,
        name: l.name,
        ordered: l.ordered,
        waiting: l.backordered,
        state: l.ready > 0 || l.shipped > 0 ? 'partly_available' : 'waiting_for_stock',
      })),
  };
}
