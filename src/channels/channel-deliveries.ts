import type { DeliveryReport } from '../../connectors/contract.js';
import type { Tx } from '../db/connection.js';
import type { OrderStatus } from '../domain/order-status.js';
import { lockOrderShipments, recordDeliveryLocked, type ShipmentRow } from '../orders/delivery.js';
import { lockOrderForChange } from '../orders/order-store.js';
import type { ApplyOutcome } from './apply-order.js';
import { type Channel, channelKey } from './channel-store.js';

/** Orders whose shipments take delivery reports: the rest (cancelled, completed…) change nothing. */
const DELIVERING: readonly OrderStatus[] = ['partially_shipped', 'shipped'];

export interface DeliveryApplied {
  outcome: ApplyOutcome;
  orderId: number | null;
  note: string;
}

/**
 * The shipment a report is about: the one that became the channel's fulfilment (its id as
 * `sendFulfilment` recorded it), else the one shipment not yet known to the channel by id that
 * carries one of the report's tracking numbers (sent, the answer not recorded yet).
 */
export function shipmentOfReport(
  shipments: readonly ShipmentRow[],
  report: DeliveryReport,
): ShipmentRow | null {
  if (report.fulfilmentId !== null) {
    const byId = shipments.find((s) => s.fulfilmentId === report.fulfilmentId);
    if (byId) return byId;
  }
  const numbers = new Set(report.trackingNumbers);
  const byNumber = shipments.filter(
    (s) => s.fulfilmentId === null && s.trackingNumber !== null && numbers.has(s.trackingNumber),
  );
  return byNumber.length === 1 ? byNumber[0]! : null;
}

/**
 * Applies a channel's delivery report in the caller's transaction: the order (found by channel and
 * external id) is locked first, then its shipments; the report is recorded on the shipment it is
 * about, and the order moves to `delivered` once everything shipped is delivered (the orders
 * module's `recordDeliveryLocked`). A report about an order or a fulfilment we do not have is
 * `ignored` with the reason; one about an order past delivery (cancelled, completed) or repeating
 * what we hold is `unchanged`.
 */
export async function applyDeliveryReport(
  tx: Tx,
  channel: Channel,
  report: DeliveryReport,
  actor: string,
  now: string,
): Promise<DeliveryApplied> {
  const locked = await lockOrderForChange(tx, {
    channel: channelKey(channel),
    externalId: report.externalOrderId,
  });
  if (!locked) {
    return { outcome: 'ignored', orderId: null, note: 'a delivery report of an order we do not have' };
  }
  const { order } = locked;
  const what = `${report.fulfilmentId ?? 'a fulfilment'} ${report.status || 'without a status'}`;
  if (!DELIVERING.includes(order.status)) {
    return {
      outcome: 'unchanged',
      orderId: order.id,
      note: `${what}: the order is ${order.status}, a delivery report changes nothing`,
    };
  }
  const shipments = await lockOrderShipments(tx, order.id);
  const shipment = shipmentOfReport(shipments, report);
  if (!shipment) {
    return {
      outcome: 'ignored',
      orderId: order.id,
      note: `${what}: none of our shipments of this order (fulfilled on the channel by hand?)`,
    };
  }
  const done = await recordDeliveryLocked(
    tx,
    locked,
    shipments,
    shipment.id,
    { status: report.status, delivered: report.delivered, happenedAt: report.happenedAt },
    actor,
    now,
  );
  if (!done.recorded) {
    const why = {
      already_delivered: 'delivered already',
      older: 'an older report than the one we hold',
      same: 'the status we hold',
      no_status: 'no delivery status',
    }[done.why ?? 'same'];
    return { outcome: 'unchanged', orderId: order.id, note: `shipment ${shipment.id}: ${why}` };
  }
  return {
    outcome: 'updated',
    orderId: order.id,
    note: `shipment ${shipment.id} ${report.delivered ? 'delivered' : report.status}${
      done.orderDelivered ? '; order delivered' : ''
    }`,
  };
}
