import type { LineQuantities, OrderStatus } from './order-status.js';

/** What we hold about the delivery of one shipment. */
export interface ShipmentDelivery {
  /** The channel's latest delivery status, or null before any report. */
  status: string | null;
  /** When that status happened (ISO 8601 UTC), or null. */
  statusAt: string | null;
  /** When the shipment was delivered (ISO 8601 UTC), or null while it is not. */
  deliveredAt: string | null;
}

/** A report about one shipment's delivery, as the channel gave it. */
export interface DeliveryNews {
  status: string;
  delivered: boolean;
  /** ISO 8601 UTC, or null when the channel did not say. */
  happenedAt: string | null;
}

/** What a report changes on its shipment: nothing (and why), or the shipment's new delivery state. */
export type DeliveryChange =
  | { change: false; why: 'already_delivered' | 'older' | 'same' | 'no_status' }
  | { change: true; next: ShipmentDelivery };

/**
 * Weighs a delivery report against what the shipment holds. Delivered is final: a shipment once
 * delivered takes no further report (a late `in_transit`, a repeat). A report older than the status
 * held is not applied unless it says delivered; one that repeats the status held changes nothing.
 * `now` (ISO) stands in for a report that does not say when it happened.
 */
export function weighDeliveryReport(held: ShipmentDelivery, news: DeliveryNews, now: string): DeliveryChange {
  if (held.deliveredAt !== null) return { change: false, why: 'already_delivered' };
  if (!news.delivered && news.status === '') return { change: false, why: 'no_status' };
  const at = news.happenedAt ?? now;
  if (!news.delivered) {
    if (news.status === held.status) return { change: false, why: 'same' };
    if (held.statusAt !== null && Date.parse(at) < Date.parse(held.statusAt))
      return { change: false, why: 'older' };
  }
  const newer = held.statusAt === null || Date.parse(at) >= Date.parse(held.statusAt);
  return {
    change: true,
    next: {
      status: news.delivered ? 'delivered' : news.status,
      statusAt: newer ? at : held.statusAt,
      deliveredAt: news.delivered ? at : null,
    },
  };
}

/**
 * Whether an order is delivered: it is `shipped` (nothing left to ship: no line reserved or
 * waiting), it has shipments, and every one of them is delivered. A partly shipped order is not,
 * whatever its shipments say: it becomes delivered once the rest has shipped and been delivered.
 */
export function orderIsDelivered(
  status: OrderStatus,
  lines: readonly LineQuantities[],
  shipments: readonly Pick<ShipmentDelivery, 'deliveredAt'>[],
): boolean {
  if (status !== 'shipped' || shipments.length === 0) return false;
  if (lines.some((l) => l.reserved + l.backordered > 0)) return false;
  return shipments.every((s) => s.deliveredAt !== null);
}
