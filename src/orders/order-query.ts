import { orderContractView } from '../customers/contracts.js';
import { orderPromotions } from '../customers/promotions.js';
import { type Conn, isoTime } from '../db/connection.js';
import { shipmentTracking } from '../domain/carriers.js';
import type { OrderStatus } from '../domain/order-status.js';
import { notFound } from '../errors/domain-errors.js';
import { orderNotifications } from '../notify/store.js';
import { orderApprovals } from './approvals.js';
import { moneyView } from './money.js';
import { findOrder, ORDERS, orderHistory, orderLines, toOrder } from './order-store.js';

export interface OrderListFilter {
  channel?: string | undefined;
  externalId?: string | undefined;
  status?: OrderStatus | undefined;
  customer?: string | undefined;
  salesperson?: string | undefined;
  /** Placed on or after this day (UTC, `YYYY-MM-DD`). */
  placedFrom?: string | undefined;
  /** Placed on or before this day (UTC, `YYYY-MM-DD`). */
  placedTo?: string | undefined;
  limit: number;
}

/** Newest first, by id: a stable order, so that pages neither skip nor repeat while orders arrive. */
export async function listOrders(db: Conn, filter: OrderListFilter, beforeId: number | null) {
  let q = db(`${ORDERS} as o`)
    .leftJoin('customers as c', 'c.id', 'o.customer_id')
    .select('o.*', 'c.code as customer_code');
  if (filter.channel) q = q.where('o.channel', filter.channel);
  if (filter.externalId) q = q.where('o.external_id', filter.externalId);
  if (filter.status) q = q.where('o.status', filter.status);
  if (filter.customer) q = q.where('c.code', filter.customer);
  if (filter.salesperson)
    q = q.whereIn('c.salesperson_id', (s) =>
      s.from('salespeople').where('code', filter.salesperson!).select('id'),
    );
  // Stored times are `YYYY-MM-DD hh:mm:ss.sss` (dbTime): a day's bounds compare as text on both databases.
  if (filter.placedFrom) q = q.where('o.placed_at', '>=', `${filter.placedFrom} 00:00:00`);
  if (filter.placedTo) q = q.where('o.placed_at', '<', `${nextDay(filter.placedTo)} 00:00:00`);
  if (beforeId !== null) q = q.where('o.id', '<', beforeId);
  const rows = await q.orderBy('o.id', 'desc').limit(filter.limit + 1);
  const page = rows.slice(0, filter.limit);
  const items = page.map((r) => {
    const o = toOrder(r);
    return {
      id: o.id,
      channel: o.channel,
      externalId: o.externalId,
      status: o.status,
      holdReason: o.holdReason,
      customer: r.customer_code ?? null,
      currency: o.currency,
      totalAmount: o.totalAmount,
      placedAt: o.placedAt,
      updatedAt: o.updatedAt,
    };
  });
  const last = page[page.length - 1];
  // The HTTP edge turns `nextId` into the list's opaque cursor.
  return { items, nextId: rows.length > filter.limit && last ? Number(last.id) : null };
}

/** The day after a `YYYY-MM-DD` day (UTC). */
function nextDay(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/** Per line: the price the order carried, and the price list check (our price, its rule, the difference). */
async function linePriceChecks(db: Conn, orderId: number) {
  const rows = await db('order_lines')
    .where({ order_id: orderId })
    .select('id', 'carried_unit_price', 'checked_price', 'price_rule_id', 'price_variance');
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return new Map(
    rows.map((r) => [
      Number(r.id),
      {
        orderUnitPrice: num(r.carried_unit_price),
        checkedPrice: num(r.checked_price),
        priceRuleId: num(r.price_rule_id),
        priceVariance: num(r.price_variance),
      },
    ]),
  );
}

export async function orderDetail(db: Conn, id: number) {
  const order = await findOrder(db, id);
  if (!order) throw notFound(`order ${id}`);
  const [lines, history, customer, shipments, contact, prices, contract, promotions] = await Promise.all([
    orderLines(db, id),
    orderHistory(db, id),
    order.customerId
      ? db('customers as c')
          .leftJoin('salespeople as s', 's.id', 'c.salesperson_id')
          .where('c.id', order.customerId)
          .first(
            'c.code',
            'c.name',
            'c.email',
            'c.customer_group',
            's.code as salesperson_code',
            's.name as salesperson_name',
          )
      : null,
    db('shipments').where({ order_id: id }).orderBy('id'),
    orderContact(db, id),
    linePriceChecks(db, id),
    orderContractView(db, id),
    orderPromotions(db, id),
  ]);
  const promotionsOf = (lineId: number | null) =>
    promotions
      .filter((p) => p.lineId === lineId)
      .map(({ code, name, discount }) => ({ code, name, discount }));
  const shipmentLines = shipments.length
    ? await db('shipment_lines as sl')
        .join('order_lines as ol', 'ol.id', 'sl.order_line_id')
        .whereIn(
          'sl.shipment_id',
          shipments.map((s) => s.id),
        )
        .select('sl.shipment_id', 'ol.sku_code', 'sl.quantity')
    : [];
  return {
    id: order.id,
    channel: order.channel,
    externalId: order.externalId,
    status: order.status,
    holdReason: order.holdReason,
    holdDetails: order.holdDetails,
    warnings: order.warnings,
    customer: customer
      ? { code: customer.code, name: customer.name, email: customer.email, group: customer.customer_group }
      : null,
    contact,
    contract: contract.contract,
    salesperson: customer?.salesperson_code
      ? { code: customer.salesperson_code, name: customer.salesperson_name }
      : null,
    approvals: await orderApprovals(db, id),
    currency: order.currency,
    totalAmount: order.totalAmount,
    placedAt: order.placedAt,
    createdAt: order.createdAt,
    updatedAt: order.updatedAt,
    lines: lines.map((l) => ({
      lineNo: l.lineNo,
      sku: l.sku,
      ordered: l.ordered,
      reserved: l.reserved,
      backordered: l.backordered,
      shipped: l.shipped,
      cancelled: l.cancelled,
      returned: l.returned,
      unitPrice: l.unitPrice,
      ...prices.get(l.id),
      contract: contract.lines.get(l.id) ?? null,
      promotions: promotionsOf(l.id),
    })),
    promotions: promotionsOf(null),
    money: moneyView(order, lines),
    history,
    // What was sent about the order (issue 16): each notification with its state.
    notifications: await orderNotifications(db, id),
    shipments: shipments.map((s) => ({
      id: Number(s.id),
      carrier: s.carrier,
      carrierCode: shipmentTracking({ carrier: s.carrier }).carrier,
      trackingNumber: s.tracking_number,
      trackingUrl: s.tracking_url ?? null,
      at: isoTime(s.created_at),
      // Null for an order of no channel; else what the channel was told (issue 17, fulfilment).
      channel: s.channel_state
        ? {
            state: s.channel_state,
            fulfilmentId: s.channel_fulfilment_id ?? null,
            reason: s.channel_reason ?? null,
            attempts: Number(s.channel_attempts ?? 0),
            sentAt: s.channel_sent_at ? isoTime(s.channel_sent_at) : null,
          }
        : null,
      // What the channel reported of the parcel's delivery (issue 17, delivery); null before any report.
      delivery:
        s.delivery_status || s.delivered_at
          ? {
              status: s.delivery_status ?? null,
              at: s.delivery_status_at ? isoTime(s.delivery_status_at) : null,
              deliveredAt: s.delivered_at ? isoTime(s.delivered_at) : null,
            }
          : null,
      lines: shipmentLines
        .filter((l) => Number(l.shipment_id) === Number(s.id))
        .map((l) => ({ sku: l.sku_code, quantity: Number(l.quantity) })),
    })),
  };
}

/** The buyer's contact as the order brought it (name, e-mail, phone, language, time zone). */
async function orderContact(db: Conn, id: number) {
  const r = await db(ORDERS)
    .where({ id })
    .first('contact_name', 'contact_email', 'contact_phone', 'contact_language', 'contact_time_zone');
  return {
    name: r?.contact_name ?? null,
    email: r?.contact_email ?? null,
    phone: r?.contact_phone ?? null,
    language: r?.contact_language ?? null,
    timeZone: r?.contact_time_zone ?? null,
  };
}
