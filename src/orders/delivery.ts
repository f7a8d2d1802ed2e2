import { dbTime, forUpdate, isoTime, type Tx } from '../db/connection.js';
import { WriteBatch } from '../db/write-batch.js';
import {
  type DeliveryNews,
  orderIsDelivered,
  type ShipmentDelivery,
  weighDeliveryReport,
} from '../domain/delivery.js';
import { changeStatus, type LockedOrder } from './order-store.js';

export const SHIPMENTS = 'shipments';

/** One shipment of an order with what the channel was told and what it reported of its delivery. */
export interface ShipmentRow {
  id: number;
  orderId: number;
  trackingNumber: string | null;
  /** The channel's id of the fulfilment this shipment became (null: not sent, or none given). */
  fulfilmentId: string | null;
  delivery: ShipmentDelivery;
}

const toShipment = (r: Record<string, unknown>): ShipmentRow => ({
  id: Number(r.id),
  orderId: Number(r.order_id),
  trackingNumber: (r.tracking_number as string | null) ?? null,
  fulfilmentId: (r.channel_fulfilment_id as string | null) ?? null,
  delivery: {
    status: (r.delivery_status as string | null) ?? null,
    statusAt: isoTime(r.delivery_status_at as string | null),
    deliveredAt: isoTime(r.delivered_at as string | null),
  },
});

/**
 * The shipments of an order the caller has locked, read with a locking read (after the order row,
 * as everything that changes an order does).
 */
export async function lockOrderShipments(tx: Tx, orderId: number): Promise<ShipmentRow[]> {
  const rows = await forUpdate(tx(SHIPMENTS).where({ order_id: orderId }).orderBy('id').select('*'), tx);
  return rows.map(toShipment);
}

/** What recording a delivery report did. */
export interface DeliveryRecorded {
  /** The shipment's delivery state changed. */
  recorded: boolean;
  /** Why nothing changed on the shipment (see `weighDeliveryReport`). */
  why?: 'already_delivered' | 'older' | 'same' | 'no_status';
  /** The order moved to `delivered` now. */
  orderDelivered: boolean;
}

/**
 * Records what a channel reported of one shipment's delivery, on an order the caller has locked
 * (with its shipments, `lockOrderShipments`): the shipment's delivery status, when it happened, and
 * when it was delivered. When this makes every shipment of a shipped order delivered, the order
 * moves to `delivered` through the one status change (history row, `order.status_changed`).
 * Delivered is final, and a report seen before changes nothing.
 */
export async function recordDeliveryLocked(
  tx: Tx,
  locked: LockedOrder,
  shipments: ShipmentRow[],
  shipmentId: number,
  news: DeliveryNews,
  actor: string,
  now: string,
): Promise<DeliveryRecorded> {
  const shipment = shipments.find((s) => s.id === shipmentId);
  if (!shipment) throw new Error(`shipment ${shipmentId} is not one of order ${locked.order.id}'s`);
  const weighed = weighDeliveryReport(shipment.delivery, news, isoTime(now) as string);
  if (!weighed.change) return { recorded: false, why: weighed.why, orderDelivered: false };
  const next = weighed.next;
  await tx(SHIPMENTS)
    .where({ id: shipmentId })
    .update({
      delivery_status: next.status?.slice(0, 32) ?? null,
      delivery_status_at: next.statusAt ? dbTime(new Date(next.statusAt)) : null,
      delivered_at: next.deliveredAt ? dbTime(new Date(next.deliveredAt)) : null,
    });
  shipment.delivery = next;
  if (next.deliveredAt === null) return { recorded: true, orderDelivered: false };
  const delivered = await deliverIfDone(
    tx,
    locked,
    shipments,
    `delivered: shipment ${shipmentId}`,
    actor,
    now,
  );
  return { recorded: true, orderDelivered: delivered };
}

/** Moves a locked order to `delivered` when `orderIsDelivered` says so; true when it moved. */
async function deliverIfDone(
  tx: Tx,
  locked: LockedOrder,
  shipments: readonly ShipmentRow[],
  reason: string,
  actor: string,
  now: string,
): Promise<boolean> {
  const { order, lines } = locked;
  if (
    !orderIsDelivered(
      order.status,
      lines,
      shipments.map((s) => s.delivery),
    )
  )
    return false;
  const batch = new WriteBatch(tx);
  changeStatus(batch, order, { to: 'delivered', reason, actor }, now);
  await batch.flush();
  return true;
}
