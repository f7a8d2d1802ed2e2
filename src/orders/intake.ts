import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { type OrderCustomer, resolveOrderCustomers } from '../customers/order-customer.js';
import { type Db, dbTime, dialectOf, type Tx } from '../db/connection.js';
import { isDuplicateKeyError, withTransaction } from '../db/retry.js';
import { codeKey } from '../domain/codes.js';
import type { CanonicalOrder, CustomerInput, OrderInput } from '../domain/order-input.js';
import { orderFingerprint } from '../domain/order-input.js';
import type { OrderStatus } from '../domain/order-status.js';
import { unprocessable } from '../errors/domain-errors.js';
import { ordersReceived } from '../metrics.js';
import { completeOrderMoney, orderMoneyColumns } from './money.js';
import { ORDERS } from './order-store.js';

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
  /**
   * What the request asks for, as a digest (`orderFingerprint`), for deliveries whose id the
   * client chose (an Idempotency-Key): the same id again with another digest is refused (422)
   * instead of answered with the first order.
   */
  fingerprint?: string | undefined;
}

export interface IntakeResult {
  orderId: number;
  status: OrderStatus;
  /** False when this delivery or this order was already known: nothing new was stored. */
  created: boolean;
}

/** The channel name of orders posted to the admin API. */
export const API_CHANNEL = 'api';

/**
 * An order posted to the admin API as a delivery: identified by its Idempotency-Key when it has
 * one (and then tied to what it asks for), else by its external id.
 */
export function apiOrderDelivery(
  order: OrderInput,
  rawPayload: string,
  idempotencyKey?: string,
  /** Who the order's history names (the console passes the person who placed a phone order). */
  actor = 'admin',
): InboundDelivery {
  return {
    channel: API_CHANNEL,
    deliveryId: idempotencyKey === undefined ? `order:${order.externalId}` : `key:${idempotencyKey}`,
    topic: 'orders/create',
    rawPayload,
    order,
    actor,
    fingerprint: idempotencyKey === undefined ? undefined : orderFingerprint(order),
  };
}

/** Queues the processing of a stored order; may fail (Redis down) without losing anything. */
export type Enqueue = (orderIds: number[]) => Promise<void>;

/** A value a later statement of the same order write refers to: the customer's or the order's new id. */
const CUSTOMER_ID = Symbol('customer id');
const ORDER_ID = Symbol('order id');
type Ref = typeof CUSTOMER_ID | typeof ORDER_ID;

interface Statement {
  sql: string;
  bindings: unknown[];
  /** The statement creates (or finds) the row whose id the name stands for. */
  defines?: Ref;
}

/**
 * Creates the channel customer a buyer is keyed by, or finds it, in one statement
 * (`INSERT … ON DUPLICATE KEY UPDATE`): two orders bringing the same new buyer at once both end
 * with its id, and neither reads before it holds the row. Only on first sight: afterwards the
 * buyer is found by `resolveOrderCustomers` and no customer row is touched.
 */
function channelCustomerStatement(
  customer: { channel: string; channelCustomerId: string },
  input: CustomerInput | undefined,
  now: string,
): Statement {
  return {
    sql:
      'INSERT INTO customers (channel, channel_customer_id, customer_group, name, email, created_at, updated_at) ' +
      "VALUES (?, ?, 'retail', ?, ?, ?, ?) {upsert:channel}",
    bindings: [
      customer.channel,
      customer.channelCustomerId,
      input?.name ?? null,
      input?.email ?? null,
      now,
      now,
    ],
    defines: CUSTOMER_ID,
  };
}

/** The stored event an order arrived with (API and Excel orders: applied as they are stored). */
interface EventWrite {
  deliveryId: string;
  topic: string;
  rawPayload: string;
  fingerprint?: string | undefined;
}

/**
 * The one order writer: the statements that store an order as `received` with its lines, its
 * first history row and (optionally) the event it came with. Every path that creates an order —
 * the API, the Excel importer, channel events, one at a time or in groups — writes it through here.
 */
function orderStatements(input: NewOrder, customer: OrderCustomer, event?: EventWrite): Statement[] {
  const { channel, order, now } = input;
  const out: Statement[] = [];
  if (customer.kind === 'new_channel_customer')
    out.push(channelCustomerStatement(customer, order.customer, now));
  const contact = order.customer;
  const money = orderMoneyColumns(order);
  out.push({
    sql:
      'INSERT INTO orders (channel, external_id, customer_id, status, intake_problems, currency, total_amount, ' +
      'shipping_amount, discount_amount, tax_amount, prices_include_tax, channel_total, ' +
      'placed_at, channel_updated_at, created_at, updated_at, ' +
      'customer_code, contact_name, contact_email, contact_phone, contact_language, contact_time_zone, contract_number, paid_on_channel) ' +
      "VALUES (?, ?, ?, 'received', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    bindings: [
      channel,
      order.externalId,
      customer.kind === 'known' ? customer.customerId : customer.kind === 'none' ? null : CUSTOMER_ID,
      order.problems?.length ? JSON.stringify(order.problems) : null,
      order.currency,
      money.total_amount,
      money.shipping_amount,
      money.discount_amount,
      money.tax_amount,
      money.prices_include_tax,
      money.channel_total,
      order.placedAt ? dbTime(new Date(order.placedAt)) : now,
      input.channelUpdatedAt ? dbTime(new Date(input.channelUpdatedAt)) : null,
      now,
      now,
      contact?.code ?? null,
      contact?.name ?? null,
      contact?.email ?? null,
      contact?.phone ?? null,
      contact?.language ?? null,
      contact?.timeZone ?? null,
      order.contract ?? null,
      order.paidOnChannel ? 1 : 0,
    ],
    defines: ORDER_ID,
  });
  if (order.lines.length > 0) out.push(linesStatement(ORDER_ID, order.lines));
  // The promotion codes the order names, when it names any (src/customers/promotion-rule.ts).
  if (order.promotionCodes?.length) {
    const codes = [...new Map(order.promotionCodes.map((c) => [codeKey(c), c])).values()];
    out.push({
      sql: `INSERT INTO order_promotion_codes (order_id, code) VALUES ${codes.map(() => '(?, ?)').join(', ')}`,
      bindings: codes.flatMap((c) => [ORDER_ID, c]),
    });
  }
  out.push({
    sql: "INSERT INTO order_events (order_id, from_status, to_status, reason, actor, created_at) VALUES (?, NULL, 'received', ?, ?, ?)",
    bindings: [ORDER_ID, `received via ${channel}`, input.actor, now],
  });
  if (input.fromEventId !== undefined) {
    out.push({
      sql:
        "UPDATE inbound_events SET order_id = ?, processed_at = ?, error = NULL, note = 'created', " +
        'external_id = COALESCE(external_id, ?) WHERE id = ?',
      bindings: [ORDER_ID, now, order.externalId, input.fromEventId],
    });
  }
  if (event) {
    out.push({
      sql:
        'INSERT INTO inbound_events (channel, delivery_id, request_hash, topic, payload, order_id, received_at, processed_at) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      bindings: [
        channel,
        event.deliveryId,
        event.fingerprint ?? null,
        event.topic,
        event.rawPayload,
        ORDER_ID,
        now,
        now,
      ],
    });
  }
  return out;
}

/** An order line as the writer stores it; discount and tax default to 0, a price may be absent. */
type LineWrite = {
  sku: string;
  quantity: number;
  unitPrice?: number | undefined;
  discount?: number | undefined;
  tax?: number | undefined;
  /** Set by `completeOrderMoney` when the tax is ours, from rates (computed again on repricing). */
  taxFromRates?: boolean | undefined;
};

function linesStatement(orderId: number | typeof ORDER_ID, lines: readonly LineWrite[]): Statement {
  // carried_unit_price keeps what the order said (null: nothing) for the price check, however often it runs.
  return {
    sql: `INSERT INTO order_lines (order_id, line_no, sku_code, ordered, unit_price, carried_unit_price, discount_amount, tax_amount, tax_from_rates) VALUES ${lines.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
    bindings: lines.flatMap((l, i) => [
      orderId,
      i + 1,
      l.sku,
      l.quantity,
      l.unitPrice ?? 0,
      l.unitPrice ?? null,
      l.discount ?? 0,
      l.tax ?? 0,
      l.taxFromRates ? 1 : 0,
    ]),
  };
}

/**
 * Runs order-writer statements. MySQL: all in one round trip, the new ids carried in session
 * variables (`@c`, `@o`). SQLite: one after another, the ids read back with RETURNING. Returns the
 * id of the last order written, if any.
 */
async function runStatements(tx: Tx, statements: readonly Statement[]): Promise<number | null> {
  if (dialectOf(tx) === 'mysql') {
    const sql: string[] = [];
    const bindings: unknown[] = [];
    for (const st of statements) {
      let text = st.sql.replace('{upsert:channel}', 'ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)');
      let i = 0;
      text = text.replace(/\?/g, () => {
        const b = st.bindings[i++];
        if (b === CUSTOMER_ID) return '@c';
        if (b === ORDER_ID) return '@o';
        bindings.push(b);
        return '?';
      });
      sql.push(text);
      if (st.defines) sql.push(`SET ${st.defines === CUSTOMER_ID ? '@c' : '@o'} = LAST_INSERT_ID()`);
    }
    const defines = statements.some((st) => st.defines === ORDER_ID);
    if (defines) sql.push('SELECT @o AS id');
    const [results] = (await tx.raw(sql.join(';\n'), bindings as Knex.RawBinding[])) as [unknown[]];
    if (!defines) return null;
    const last = (sql.length > 1 ? results[results.length - 1] : results) as { id: unknown }[];
    return Number(last[0]!.id);
  }
  const ids = new Map<Ref, unknown>();
  for (const st of statements) {
    // The no-op update makes RETURNING give the existing row's id.
    const text = st.sql.replace(
      '{upsert:channel}',
      'ON CONFLICT (channel, channel_customer_id) DO UPDATE SET channel = customers.channel',
    );
    const bindings = st.bindings.map((b) => (b === CUSTOMER_ID || b === ORDER_ID ? ids.get(b) : b));
    if (st.defines) {
      const rows = (await tx.raw(`${text} RETURNING id`, bindings as Knex.RawBinding[])) as { id: number }[];
      ids.set(st.defines, Number(rows[0]!.id));
    } else {
      await tx.raw(text, bindings as Knex.RawBinding[]);
    }
  }
  return ids.has(ORDER_ID) ? Number(ids.get(ORDER_ID)) : null;
}

/** Writes one order in the caller's transaction and returns its id. */
async function writeOrder(tx: Tx, given: NewOrder, event?: EventWrite): Promise<number> {
  const [input] = (await completeOrderMoney(tx, [given])) as [NewOrder];
  const [customer] = await resolveOrderCustomers(tx, [
    { channel: input.channel, customer: input.order.customer },
  ]);
  const id = await runStatements(tx, orderStatements(input, customer!, event));
  return id as number;
}

/**
 * What an earlier delivery stored, for a delivery that found it there: the order its delivery id
 * brought (the same id with another fingerprint is refused), else the order with its external id.
 */
async function existingResult(db: Db, delivery: InboundDelivery): Promise<IntakeResult | null> {
  const { channel, deliveryId } = delivery;
  const event = await db(INBOUND_EVENTS)
    .where({ channel, delivery_id: deliveryId })
    .first('order_id', 'request_hash');
  if (event && delivery.fingerprint && event.request_hash && event.request_hash !== delivery.fingerprint)
    throw unprocessable(
      'idempotency_key_reused',
      'this Idempotency-Key was already used for a different order; nothing was stored',
    );
  if (event?.order_id) {
    const order = await db(ORDERS).where({ id: event.order_id }).first('id', 'status');
    if (order) return { orderId: Number(order.id), status: order.status, created: false };
  }
  const byOrder = await db(ORDERS)
    .where({ channel, external_id: delivery.order.externalId })
    .first('id', 'status');
  if (byOrder) return { orderId: Number(byOrder.id), status: byOrder.status, created: false };
  return null;
}

export interface NewOrder {
  channel: string;
  order: CanonicalOrder;
  actor: string;
  now: string;
  /** The channel's own update time of this version of the order (ISO), when it has one. */
  channelUpdatedAt?: string | null;
  /** A stored inbound event this order is created from: marked applied (`created`) with it. */
  fromEventId?: number;
}

/**
 * Inserts an order as `received` with its lines and its first history row, inside the caller's
 * transaction. A second order with the same (channel, external id) fails on the unique key.
 */
export function insertOrder(tx: Tx, input: NewOrder): Promise<number> {
  return writeOrder(tx, input);
}

/**
 * Inserts several new orders in the caller's transaction, in one round trip on MySQL (their
 * customers are looked up first, for the whole group at once), and returns their ids in order. Any of them already
 * stored fails the whole call on the unique key.
 */
export async function insertOrders(
  tx: Tx,
  given: readonly NewOrder[],
  events?: readonly EventWrite[],
): Promise<number[]> {
  if (given.length === 0) return [];
  const inputs = await completeOrderMoney(tx, given);
  const customers = await resolveOrderCustomers(
    tx,
    inputs.map((i) => ({ channel: i.channel, customer: i.order.customer })),
  );
  const statements = inputs.flatMap((input, i) => orderStatements(input, customers[i]!, events?.[i]));
  await runStatements(tx, statements);
  const rows = await tx(ORDERS)
    .whereIn(
      ['channel', 'external_id'],
      inputs.map((i) => [i.channel, i.order.externalId] as [string, string]),
    )
    .select('id', 'channel', 'external_id');
  const idOf = new Map(rows.map((r) => [`${r.channel}\u0000${r.external_id}`, Number(r.id)]));
  return inputs.map((i) => {
    const id = idOf.get(`${i.channel}\u0000${i.order.externalId}`);
    if (id === undefined) throw new Error(`order ${i.order.externalId} not found after insert`);
    return id;
  });
}

/** Inserts an order's lines, numbered from 1. An order without lines is stored, and held later. */
export async function insertLines(tx: Tx, orderId: number, lines: readonly LineWrite[]): Promise<void> {
  if (lines.length === 0) return;
  await runStatements(tx, [linesStatement(orderId, lines)]);
}

const newOrderOf = (d: InboundDelivery, now: string): NewOrder => ({
  channel: d.channel,
  order: d.order,
  actor: d.actor ?? `channel:${d.channel}`,
  now,
});

/**
 * The one way an order enters from the API or a file: stores the raw event (marked processed: the
 * order it carries is stored with it), the order (`received`), its lines and its first history
 * row in one transaction. The same delivery or the same (channel, external id) again — at once
 * from several requests, or days later — finds the order already there and stores nothing new:
 * the unique keys in the database decide, not timing.
 */
export async function recordOrder(db: Db, delivery: InboundDelivery): Promise<IntakeResult> {
  const result = await storeOrder(db, delivery);
  ordersReceived.inc({ channel: delivery.channel, outcome: result.created ? 'created' : 'duplicate' });
  return result;
}

async function storeOrder(db: Db, delivery: InboundDelivery): Promise<IntakeResult> {
  try {
    return await withTransaction(db, async (tx) => {
      const orderId = await writeOrder(tx, newOrderOf(delivery, dbTime()), delivery);
      return { orderId, status: 'received' as const, created: true };
    });
  } catch (err) {
    if (!isDuplicateKeyError(err)) throw err;
    // Another request stored the same delivery or order first; answer with what it stored.
    const existing = await existingResult(db, delivery);
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
 * Records several deliveries in one transaction and one round trip (MySQL), each written by the
 * one order writer. Used by the IntakeBatcher for requests that arrive together. Any failure (a duplicate key above all) fails
 * the whole group, and the caller falls back to `recordOrder` one by one, which sorts duplicates
 * out exactly.
 */
export async function recordOrders(db: Db, deliveries: readonly InboundDelivery[]): Promise<IntakeResult[]> {
  const results = await withTransaction(db, async (tx) => {
    const now = dbTime();
    const ids = await insertOrders(
      tx,
      deliveries.map((d) => newOrderOf(d, now)),
      deliveries,
    );
    return ids.map((orderId) => ({ orderId, status: 'received' as const, created: true }));
  });
  for (const d of deliveries) ordersReceived.inc({ channel: d.channel, outcome: 'created' });
  return results;
}
