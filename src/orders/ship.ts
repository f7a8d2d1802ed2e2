import { getConnector, listConnectorTypes } from '../../connectors/registry.js';
import { type Db, dbTime } from '../db/connection.js';
import { WriteBatch } from '../db/write-batch.js';
import { byPriority } from '../domain/allocation.js';
import { shipmentTracking } from '../domain/carriers.js';
import { fulfilmentStatus, type OrderStatus } from '../domain/order-status.js';
import { conflict, unprocessable } from '../errors/domain-errors.js';
import { addToOutbox } from '../outbox/outbox.js';
import {
  applyStockDeltas,
  lockStock,
  mergeDeltas,
  type StockDelta,
  warehousePriorities,
} from '../stock/stock-store.js';
import {
  changeStatus,
  type LineRow,
  ORDER_ALLOCATIONS,
  type OrderRow,
  saveLineQuantities,
  withOrderLocked,
} from './order-store.js';

export interface ShipmentRequest {
  lines?: { sku: string; quantity: number }[] | undefined;
  carrier?: string | undefined;
  trackingNumber?: string | undefined;
  /** The tracking page; for a carrier not in the table, a template may hold `{number}`. */
  trackingUrl?: string | undefined;
}

/**
 * The channel a shipment of this order is told to (`type:id` of a connector that sends
 * fulfilments), or null for orders of no such channel (API, Excel).
 */
export function fulfilmentChannelOf(orderChannel: string): { type: string; channelId: number } | null {
  const m = /^([a-z0-9_-]+):(\d+)$/.exec(orderChannel);
  if (!m || !listConnectorTypes().includes(m[1]!)) return null;
  const connector = getConnector(m[1]!);
  if (!connector.sendFulfilment || !connector.manifest.capabilities.includes('fulfilmentPush')) return null;
  return { type: m[1]!, channelId: Number(m[2]) };
}

export interface ShipmentResult {
  shipmentId: number;
  order: OrderRow;
  lines: { sku: string; quantity: number }[];
}

export interface ShipOptions {
  /**
   * The newest shipment of the order when the form was shown (0: none): a form posted twice, or
   * after someone else shipped, is refused (409) instead of recording a second shipment.
   */
  lastShipmentId?: number | undefined;
}

/** The statuses in which an order has reserved units that may ship. */
export const SHIPPABLE: readonly OrderStatus[] = ['confirmed', 'backordered', 'partially_shipped'];

/**
 * Ships reserved units: each becomes an on-hand deduction (reserved and on hand both fall, ledger
 * rows say so), taken from the warehouses that hold the line's reservation in priority order.
 * Without `lines`, everything reserved ships. The order is locked first, then its stock rows.
 */
export async function shipOrder(
  db: Db,
  orderId: number,
  request: ShipmentRequest,
  actor: string,
  options: ShipOptions = {},
): Promise<ShipmentResult> {
  return withOrderLocked(db, orderId, async (tx, { order, lines, allocations }) => {
    const now = dbTime();
    if (options.lastShipmentId !== undefined) {
      const newer = await tx('shipments')
        .where('order_id', orderId)
        .where('id', '>', options.lastShipmentId)
        .first('id');
      if (newer)
        throw conflict(
          'shipped_meanwhile',
          `shipment ${newer.id} of this order was recorded after the form was shown: nothing shipped`,
          { shipmentId: Number(newer.id) },
        );
    }
    if (!SHIPPABLE.includes(order.status)) {
      throw conflict('not_shippable', `an order in status ${order.status} has nothing that can ship`, {
        status: order.status,
      });
    }
    const plan = planShipment(lines, request.lines);
    if (plan.size === 0) throw conflict('nothing_to_ship', 'no reserved units to ship');

    const priorities = await warehousePriorities(tx);
    const skuIds = [...new Set(lines.filter((l) => plan.has(l.id)).map((l) => l.skuId as number))];
    const stock = await lockStock(tx, skuIds);

    const tracking = shipmentTracking(request);
    const toChannel = fulfilmentChannelOf(order.channel);
    const [shipmentId] = await tx('shipments').insert({
      order_id: orderId,
      carrier: request.carrier ?? null,
      tracking_number: request.trackingNumber ?? null,
      tracking_url: tracking.url,
      channel_state: toChannel ? 'pending' : null,
      created_at: now,
    });
    const batch = new WriteBatch(tx);
    const deltas: StockDelta[] = [];
    for (const line of lines) {
      const qty = plan.get(line.id);
      if (!qty) continue;
      let remaining = qty;
      const held = byPriority(
        allocations
          .filter((a) => a.lineId === line.id && a.reserved > 0)
          .map((a) => ({
            ...a,
            priority: priorities.get(a.warehouseId)?.priority ?? 0,
            code: priorities.get(a.warehouseId)?.code ?? '',
          })),
      );
      for (const a of held) {
        if (remaining === 0) break;
        const take = Math.min(a.reserved, remaining);
        remaining -= take;
        deltas.push({
          skuId: line.skuId as number,
          warehouseId: a.warehouseId,
          dOnHand: -take,
          dReserved: -take,
        });
        batch.add(
          tx(ORDER_ALLOCATIONS)
            .where({ order_line_id: line.id, warehouse_id: a.warehouseId })
            .update({ reserved: a.reserved - take, shipped: a.shipped + take }),
        );
      }
      if (remaining !== 0) throw new Error(`allocations of line ${line.id} do not cover its reservation`);
      line.reserved -= qty;
      line.shipped += qty;
      saveLineQuantities(batch, line);
      batch.add(
        tx('shipment_lines').insert({ shipment_id: shipmentId, order_line_id: line.id, quantity: qty }),
      );
    }
    applyStockDeltas(
      batch,
      stock,
      mergeDeltas(deltas),
      'shipment',
      { type: 'shipment', id: Number(shipmentId) },
      now,
    );
    const status = fulfilmentStatus(lines);
    changeStatus(batch, order, { to: status, reason: `shipment ${shipmentId}`, actor }, now);
    addToOutbox(
      batch,
      [
        { topic: 'stock.changed', payload: { skuIds } },
        ...(toChannel
          ? [
              {
                topic: 'shipment.created' as const,
                payload: { shipmentId: Number(shipmentId), channelId: toChannel.channelId },
              },
            ]
          : []),
      ],
      now,
    );
    await batch.flush();
    return {
      shipmentId: Number(shipmentId),
      order,
      lines: lines.filter((l) => plan.has(l.id)).map((l) => ({ sku: l.sku, quantity: plan.get(l.id)! })),
    };
  });
}

/**
 * Decides how many units of each line ship. A requested SKU is spread over that SKU's lines in line
 * order. Asking for a SKU not on the order is 422; asking for more than is reserved is 409.
 */
function planShipment(
  lines: readonly LineRow[],
  requested?: { sku: string; quantity: number }[],
): Map<number, number> {
  const plan = new Map<number, number>();
  if (!requested) {
    for (const l of lines) if (l.reserved > 0) plan.set(l.id, l.reserved);
    return plan;
  }
  const wanted = new Map<string, number>();
  for (const r of requested) wanted.set(r.sku, (wanted.get(r.sku) ?? 0) + r.quantity);
  const unknown = [...wanted.keys()].filter((sku) => !lines.some((l) => l.sku === sku));
  if (unknown.length)
    throw unprocessable('unknown_line', `SKUs not on this order: ${unknown.join(', ')}`, { skus: unknown });
  for (const [sku, quantity] of wanted) {
    let remaining = quantity;
    for (const l of lines) {
      if (l.sku !== sku || remaining === 0) continue;
      const take = Math.min(l.reserved, remaining);
      if (take > 0) plan.set(l.id, take);
      remaining -= take;
    }
    if (remaining > 0) {
      const reserved = lines.filter((l) => l.sku === sku).reduce((n, l) => n + l.reserved, 0);
      throw conflict(
        'insufficient_reserved',
        `only ${reserved} of ${sku} are reserved; ${quantity} cannot ship`,
        { sku, reserved, requested: quantity },
      );
    }
  }
  return plan;
}
