import { formatMinor } from '../../connectors/excel-inbox/money.js';
import type { Conn } from '../db/connection.js';
import { findCarrier, shipmentTracking } from '../domain/carriers.js';
import { notFound } from '../errors/domain-errors.js';
import { findOrder, orderLines } from '../orders/order-store.js';
import type { NotificationLanguage } from './contract.js';

/** Builds the status page link of an order (the status page's own module); null: no link. */
export type StatusLink = (orderId: number) => Promise<string | null>;

export interface TemplateInput {
  event: string;
  orderId: number | null;
  customerId: number | null;
  language: NotificationLanguage;
  /** The medium and recipient: the greeting names the order's contact only when writing to it. */
  toContact: boolean;
  data: Record<string, unknown>;
}

const money = (minor: number, currency: string) => `${currency} ${formatMinor(minor, currency)}`;

/** What an order's templates show: the order, its customer and contact, lines, shipments with tracking links. */
async function orderData(conn: Conn, orderId: number, language: NotificationLanguage) {
  const order = await findOrder(conn, orderId);
  if (!order) throw notFound(`order ${orderId}`);
  const [lines, shipments, extra, customer] = await Promise.all([
    orderLines(conn, orderId),
    conn('shipments').where({ order_id: orderId }).orderBy('id'),
    conn('orders').where({ id: orderId }).first('contact_name', 'contact_email'),
    order.customerId ? conn('customers').where({ id: order.customerId }).first('code', 'name') : null,
  ]);
  const skuIds = lines.flatMap((l) => (l.skuId === null ? [] : [l.skuId]));
  const names = new Map<number, string>(
    skuIds.length
      ? (await conn('skus').whereIn('id', skuIds).select('id', 'name')).map((r) => [
          Number(r.id),
          String(r.name),
        ])
      : [],
  );
  return {
    order: {
      id: order.id,
      externalId: order.externalId,
      channel: order.channel,
      status: order.status,
      holdReason: order.holdReason,
      currency: order.currency,
      total: money(order.totalAmount, order.currency),
      placedAt: order.placedAt,
    },
    customer: customer ? { code: customer.code ?? null, name: customer.name ?? null } : null,
    contact: { name: extra?.contact_name ?? null, email: extra?.contact_email ?? null },
    lines: lines.map((l) => ({
      sku: l.sku,
      name: l.skuId === null ? '' : (names.get(l.skuId) ?? ''),
      ordered: l.ordered,
      reserved: l.reserved,
      backordered: l.backordered,
      shipped: l.shipped,
      cancelled: l.cancelled,
      unitPrice: money(l.unitPrice, order.currency),
    })),
    shipments: shipments.map((s) => {
      const t = shipmentTracking({
        carrier: s.carrier,
        trackingNumber: s.tracking_number,
        trackingUrl: s.tracking_url,
      });
      const known = findCarrier(s.carrier);
      return {
        carrier: known ? (language === 'zh-CN' ? known.nameZh : known.company) : (t.company ?? ''),
        trackingNumber: t.number ?? '',
        trackingUrl: t.url,
      };
    }),
  };
}

async function alertData(conn: Conn, alertId: number) {
  const a = await conn('stock_alerts as a')
    .join('skus as s', 's.id', 'a.sku_id')
    .leftJoin('warehouses as w', 'w.id', 'a.warehouse_id')
    .where('a.id', alertId)
    .first('s.code as sku', 's.name', 'w.code as warehouse', 'a.available', 'a.reorder_point');
  if (!a) return null;
  return {
    sku: a.sku,
    name: a.name,
    warehouse: a.warehouse ?? '*',
    available: Number(a.available),
    reorderPoint: Number(a.reorder_point),
  };
}

/**
 * The data a notification's templates are rendered with. `statusLink` (the status page's) adds the
 * order's link to customers' notifications; it is asked when rendering, never stored.
 */
export async function templateData(
  conn: Conn,
  input: TemplateInput,
  statusLink?: StatusLink,
): Promise<Record<string, unknown>> {
  const data: Record<string, unknown> = {
    event: input.event,
    language: input.language,
    recipientName: null,
    statusLink: null,
    lines: [],
    shipments: [],
  };
  if (input.orderId !== null) {
    const o = await orderData(conn, input.orderId, input.language);
    // A hold's notification tells the reason of that hold, not whatever the order is held for by now.
    if (typeof input.data.holdReason === 'string') o.order.holdReason = input.data.holdReason;
    Object.assign(data, o);
    if (input.toContact) {
      data.recipientName = o.contact.name;
      data.statusLink = statusLink ? await statusLink(input.orderId) : null;
    }
  }
  const d = input.data;
  if (input.event === 'alert.low_stock' && typeof d.alertId === 'number')
    data.alert = await alertData(conn, d.alertId);
  if (input.event === 'reconciliation.finding') data.finding = d;
  if (input.event === 'job.failed') data.job = d;
  if (input.event === 'channel.failing') data.channel = d;
  if (input.event.startsWith('document.')) {
    data.document = d;
    if (input.customerId !== null && !data.customer) {
      const c = await conn('customers').where({ id: input.customerId }).first('code', 'name');
      data.customer = c ? { code: c.code, name: c.name } : null;
      data.recipientName = c?.name ?? null;
    }
  }
  return data;
}
