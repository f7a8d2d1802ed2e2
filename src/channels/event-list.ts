import { type Conn, dbTime, isoTime } from '../db/connection.js';
import { notFound } from '../errors/domain-errors.js';
import { INBOUND_EVENTS } from '../orders/intake.js';

/**
 * Where an inbound event stands: `processed` (applied), `pending` (stored, not applied yet),
 * `failed` (applying it failed; includes the parked ones), `parked` (its payload could not be read:
 * the relay leaves it for a person to replay).
 */
export type InboundEventState = 'processed' | 'pending' | 'failed' | 'parked';

export interface InboundEventFilter {
  channel?: string | undefined;
  orderId?: number | undefined;
  topic?: string | undefined;
  status?: InboundEventState | undefined;
  /** Received at or after (UTC). */
  receivedFrom?: Date | undefined;
  /** Received before (UTC). */
  receivedBefore?: Date | undefined;
  /** The page holds the ids below this one (null: the newest). */
  beforeId?: number | null | undefined;
  limit: number;
}

export interface InboundEventRow {
  id: number;
  channel: string;
  deliveryId: string;
  topic: string;
  kind: string | null;
  externalId: string | null;
  orderId: number | null;
  receivedAt: string | null;
  processedAt: string | null;
  note: string | null;
  error: string | null;
  attempts: number;
  retryAt: string | null;
  payload?: string;
}

export function toInboundEvent(r: Record<string, unknown>, withPayload: boolean): InboundEventRow {
  return {
    id: Number(r.id),
    channel: String(r.channel),
    deliveryId: String(r.delivery_id),
    topic: String(r.topic),
    kind: (r.kind as string | null) ?? null,
    externalId: (r.external_id as string | null) ?? null,
    orderId: r.order_id === null ? null : Number(r.order_id),
    receivedAt: isoTime(r.received_at as string),
    processedAt: isoTime(r.processed_at as string | null),
    note: (r.note as string | null) ?? null,
    error: (r.error as string | null) ?? null,
    /** Failed attempts to apply it, and when the relay tries again (null: not waiting to). */
    attempts: Number(r.attempts ?? 0),
    retryAt: r.processed_at === null ? isoTime((r.retry_at as string | null) ?? null) : null,
    ...(withPayload ? { payload: String(r.payload) } : {}),
  };
}

/** The state of an event as `InboundEventFilter.status` names it (`failed` for a parked one: `parked`). */
export function inboundEventState(
  e: Pick<InboundEventRow, 'processedAt' | 'error' | 'note'>,
): InboundEventState {
  if (e.processedAt !== null) return 'processed';
  if (e.note === 'failed') return 'parked';
  return e.error !== null ? 'failed' : 'pending';
}

/** A page of the stored inbound events, newest first (without their payloads); one more row tells there is a next page. */
export async function listInboundEvents(db: Conn, f: InboundEventFilter): Promise<InboundEventRow[]> {
  const query = db(INBOUND_EVENTS)
    .select(
      'id',
      'channel',
      'delivery_id',
      'topic',
      'kind',
      'external_id',
      'order_id',
      'received_at',
      'processed_at',
      'note',
      'error',
      'attempts',
      'retry_at',
    )
    .orderBy('id', 'desc')
    .limit(f.limit);
  if (f.channel) query.where('channel', f.channel);
  if (f.orderId) query.where('order_id', f.orderId);
  if (f.topic) query.where('topic', f.topic);
  if (f.status === 'failed') query.whereNotNull('error');
  if (f.status === 'parked') query.whereNull('processed_at').where('note', 'failed');
  if (f.status === 'pending') query.whereNull('processed_at').whereNull('error');
  if (f.status === 'processed') query.whereNotNull('processed_at');
  if (f.receivedFrom) query.where('received_at', '>=', dbTime(f.receivedFrom));
  if (f.receivedBefore) query.where('received_at', '<', dbTime(f.receivedBefore));
  if (f.beforeId !== null && f.beforeId !== undefined) query.where('id', '<', f.beforeId);
  const rows = await query;
  return rows.map((r) => toInboundEvent(r, false));
}

/** One stored event with its payload; NotFoundError. */
export async function getInboundEvent(db: Conn, id: number): Promise<InboundEventRow> {
  const row = await db(INBOUND_EVENTS).where({ id }).first();
  if (!row) throw notFound(`inbound event ${id}`);
  return toInboundEvent(row, true);
}
