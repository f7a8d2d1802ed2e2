import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { type Db, dbTime, type Tx } from '../db/connection.js';
import { isDuplicateKeyError, withTransaction } from '../db/retry.js';
import type { CanonicalOrder, CustomerInput } from '../domain/order-input.js';
import { orderTotal } from '../domain/order-input.js';
import type { OrderStatus } from '../domain/order-status.js';
import { ORDER_EVENTS, ORDER_LINES, ORDERS } from './order-store.js';

export const INBOUND_EVENTS = 'inbound_events';

export interface InboundDelivery {
  /** Channel name (`api` for the admin API). */
  channel: string;
  /** The channel's id for this delivery; a second delivery with the same id is a re-delivery. */
  deliveryId: string;
  /** e.g. `orders/create`. */
  topic: string;
  /** The raw body exactly as received, kept for replay and audit. */
  rawPayload: string;
  order: CanonicalOrder;
  actor?: string;
}

export interface IntakeResult {
  orderId: number;
  status: OrderStatus;
  /** False when this delivery or this order was already known: nothing new was stored. */
  created: boolean;
}

/** Queues the processing of a stored order; may fail (Redis down) without losing anything. */
export type Enqueue = (orderIds: number[]) => Promise<void>;

async function upsertCustomer(
  tx: Tx,
  customer: CustomerInput | undefined,
  now: string,
): Promise<number | null> {
  if (!customer) return null;
  if (customer.code) {
    await tx('customers')
      .insert({
        code: customer.code,
        name: customer.name ?? null,
        email: customer.email ?? null,
        created_at: now,
        updated_at: now,
      })
      .onConflict('code')
      .ignore();
    const row = await tx('customers').where({ code: customer.code }).first('id');
    return Number(row.id);
  }
  if (customer.email) {
    const row = await tx('customers').where({ email: customer.email }).whereNull('code').first('id');
    if (row) return Number(row.id);
  }
  if (!customer.email && !customer.name) return null;
  const [id] = await tx('customers').insert({
    code: null,
    name: customer.name ?? null,
    email: customer.email ?? null,
    created_at: now,
    updated_at: now,
  });
  return Number(id);
}

async function existingResult(
  db: Db,
  channel: string,
  deliveryId: string,
  externalId: string,
): Promise<IntakeResult | null> {
  const byOrder = await db(ORDERS).where({ channel, external_id: externalId }).first('id', 'status');
  if (byOrder) return { orderId: Number(byOrder.id), status: byOrder.status, created: false };
  const event = await db(INBOUND_EVENTS).where({ channel, delivery_id: deliveryId }).first('order_id');
  if (event?.order_id) {
    const order = await db(ORDERS).where({ id: event.order_id }).first('id', 'status');
    if (order) return { orderId: Number(order.id), status: order.status, created: false };
  }
  return null;
}

export interface NewOrder {
  channel: string;
  order: CanonicalOrder;
  actor: string;
  now: string;
  /** The channel's own update time of this version of the order (ISO), when it has one. */
  channelUpdatedAt?: string | null;
}

/**
 * Inserts an order as `received` with its lines and its first history row, inside the caller's
 * transaction. A second order with the same (channel, external id) fails on the unique key.
 */
export async function insertOrder(tx: Tx, input: NewOrder): Promise<number> {
  const { channel, order, now } = input;
  const customerId = await upsertCustomer(tx, order.customer, now);
  const [orderId] = await tx(ORDERS).insert({
    channel,
    external_id: order.externalId,
    customer_id: customerId,
    status: 'received',
    intake_problems: order.problems?.length ? JSON.stringify(order.problems) : null,
    currency: order.currency,
    total_amount: orderTotal(order.lines),
    placed_at: order.placedAt ? dbTime(new Date(order.placedAt)) : now,
    channel_updated_at: input.channelUpdatedAt ? dbTime(new Date(input.channelUpdatedAt)) : null,
    created_at: now,
    updated_at: now,
  });
  await insertLines(tx, Number(orderId), order.lines);
  await tx(ORDER_EVENTS).insert({
    order_id: orderId,
    from_status: null,
    to_status: 'received',
    reason: `received via ${channel}`,
    actor: input.actor,
    created_at: now,
  });
  return Number(orderId);
}

/** Inserts an order's lines, numbered from 1. An order without lines is stored, and held later. */
export async function insertLines(
  tx: Tx,
  orderId: number,
  lines: readonly { sku: string; quantity: number; unitPrice: number }[],
): Promise<void> {
  if (lines.length === 0) return;
  await tx(ORDER_LINES).insert(
    lines.map((l, i) => ({
      order_id: orderId,
      line_no: i + 1,
      sku_code: l.sku,
      ordered: l.quantity,
      unit_price: l.unitPrice,
    })),
  );
}

/**
 * The one way an order enters: stores the raw event, the order (`received`), its lines and its
 * first history row in one transaction. The same delivery or the same (channel, external id)
 * again — at once from several requests, or days later — finds the order already there and
 * stores nothing new: the unique keys in the database decide, not timing.
 */
export async function recordOrder(db: Db, delivery: InboundDelivery): Promise<IntakeResult> {
  const { channel, deliveryId, order } = delivery;
  try {
    return await withTransaction(db, async (tx) => {
      const now = dbTime();
      const [eventId] = await tx(INBOUND_EVENTS).insert({
        channel,
        delivery_id: deliveryId,
        topic: delivery.topic,
        payload: delivery.rawPayload,
        received_at: now,
      });
      const orderId = await insertOrder(tx, {
        channel,
        order,
        actor: delivery.actor ?? `channel:${channel}`,
        now,
      });
      await tx(INBOUND_EVENTS).where({ id: eventId }).update({ order_id: orderId });
      return { orderId: Number(orderId), status: 'received' as const, created: true };
    });
  } catch (err) {
    if (!isDuplicateKeyError(err)) throw err;
    // Another request stored the same delivery or order first; answer with what it stored.
    const existing = await existingResult(db, channel, deliveryId, order.externalId);
    if (existing) return existing;
    throw err;
  }
}

/**
 * Durable intake: record first, answer after the commit, then try to enqueue. If the queue is
 * unreachable the order is already safe in the database and the relay will enqueue it.
 */
export async function intakeOrder(
  db: Db,
  enqueue: Enqueue,
  delivery: InboundDelivery,
  log?: Logger,
): Promise<IntakeResult> {
  const result = await recordOrder(db, delivery);
  if (result.created) {
    try {
      await enqueue([result.orderId]);
    } catch (err) {
      log?.warn(
        { orderId: result.orderId, err: (err as Error).message },
        'order stored but not queued; the relay will queue it',
      );
    }
  }
  return result;
}

/**
 * Records several deliveries in one transaction and one round trip (MySQL): for each, the order,
 * its lines, its first history row and the raw event, chained with LAST_INSERT_ID(). Used by the
 * IntakeBatcher for requests that arrive together. Any failure (a duplicate key above all) fails
 * the whole group, and the caller falls back to `recordOrder` one by one, which sorts duplicates
 * out exactly.
 */
export async function recordOrders(db: Db, deliveries: readonly InboundDelivery[]): Promise<IntakeResult[]> {
  return withTransaction(db, async (tx) => {
    const now = dbTime();
    const sql: string[] = [];
    const bindings: unknown[] = [];
    const add = (statement: string, values: unknown[]) => {
      sql.push(statement);
      bindings.push(...values);
    };
    for (const d of deliveries) {
      const { order } = d;
      const customer = order.customer;
      if (customer?.code) {
        add(
          'INSERT IGNORE INTO customers (code, name, email, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
          [customer.code, customer.name ?? null, customer.email ?? null, now, now],
        );
        add('SET @c = (SELECT id FROM customers WHERE code = ?)', [customer.code]);
      } else {
        add('SET @c = NULL', []);
      }
      add(
        'INSERT INTO orders (channel, external_id, customer_id, status, intake_problems, currency, total_amount, placed_at, created_at, updated_at) ' +
          "VALUES (?, ?, @c, 'received', ?, ?, ?, ?, ?, ?)",
        [
          d.channel,
          order.externalId,
          order.problems?.length ? JSON.stringify(order.problems) : null,
          order.currency,
          orderTotal(order.lines),
          order.placedAt ? dbTime(new Date(order.placedAt)) : now,
          now,
          now,
        ],
      );
      add('SET @o = LAST_INSERT_ID()', []);
      if (order.lines.length > 0) {
        add(
          `INSERT INTO order_lines (order_id, line_no, sku_code, ordered, unit_price) VALUES ${order.lines.map(() => '(@o, ?, ?, ?, ?)').join(', ')}`,
          order.lines.flatMap((l, i) => [i + 1, l.sku, l.quantity, l.unitPrice]),
        );
      }
      add(
        "INSERT INTO order_events (order_id, from_status, to_status, reason, actor, created_at) VALUES (@o, NULL, 'received', ?, ?, ?)",
        [`received via ${d.channel}`, d.actor ?? `channel:${d.channel}`, now],
      );
      add(
        'INSERT INTO inbound_events (channel, delivery_id, topic, payload, order_id, received_at) VALUES (?, ?, ?, ?, @o, ?)',
        [d.channel, d.deliveryId, d.topic, d.rawPayload, now],
      );
    }
    await tx.raw(sql.join(';\n'), bindings as Knex.RawBinding[]);
    const keys = deliveries.map((d) => [d.channel, d.order.externalId]);
    const rows = await tx(ORDERS)
      .whereIn(['channel', 'external_id'], keys as [string, string][])
      .select('id', 'channel', 'external_id');
    const idOf = new Map(rows.map((r) => [`${r.channel}\u0000${r.external_id}`, Number(r.id)]));
    return deliveries.map((d) => {
      const orderId = idOf.get(`${d.channel}\u0000${d.order.externalId}`);
      if (orderId === undefined) throw new Error(`order ${d.order.externalId} not found after insert`);
      return { orderId, status: 'received' as const, created: true };
    });
  });
}
