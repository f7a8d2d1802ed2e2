import { type Conn, dbTime, isoTime } from '../../db/connection.js';

export const WEBHOOK_DELIVERIES = 'webhook_deliveries';

/** Characters of an answer's body kept in the log. */
export const RESPONSE_BODY_CHARS = 1000;

export interface DeliveryRecord {
  endpointId: number;
  messageId: string;
  notificationId: number | null;
  event: string;
  trigger: 'dispatch' | 'redeliver';
  redeliveryOf: number | null;
  body: string;
  outcome: 'sent' | 'failed';
  statusCode: number | null;
  durationMs: number;
  responseBody: string | null;
  error: string | null;
  retryAt: Date | null;
  attemptedAt: Date;
}

export interface Delivery extends Omit<DeliveryRecord, 'body' | 'retryAt' | 'attemptedAt'> {
  id: number;
  retryAt: string | null;
  attemptedAt: string;
}

type Row = Record<string, unknown>;

function fromRow(r: Row): Delivery {
  return {
    id: Number(r.id),
    endpointId: Number(r.endpoint_id),
    messageId: String(r.message_id),
    notificationId: r.notification_id === null ? null : Number(r.notification_id),
    event: String(r.event),
    trigger: r.triggered_by === 'redeliver' ? 'redeliver' : 'dispatch',
    redeliveryOf: r.redelivery_of === null ? null : Number(r.redelivery_of),
    outcome: r.outcome === 'sent' ? 'sent' : 'failed',
    statusCode: r.status_code === null ? null : Number(r.status_code),
    durationMs: Number(r.duration_ms),
    responseBody: (r.response_body as string | null) ?? null,
    error: (r.error as string | null) ?? null,
    retryAt: isoTime(r.retry_at as string | null),
    attemptedAt: isoTime(r.attempted_at as string) as string,
  };
}

export async function recordDelivery(db: Conn, d: DeliveryRecord): Promise<Delivery> {
  const [id] = await db(WEBHOOK_DELIVERIES).insert({
    endpoint_id: d.endpointId,
    message_id: d.messageId,
    notification_id: d.notificationId,
    event: d.event,
    triggered_by: d.trigger,
    redelivery_of: d.redeliveryOf,
    body: d.body,
    outcome: d.outcome,
    status_code: d.statusCode,
    duration_ms: d.durationMs,
    response_body: d.responseBody === null ? null : d.responseBody.slice(0, RESPONSE_BODY_CHARS),
    error: d.error === null ? null : d.error.slice(0, 500),
    retry_at: d.retryAt ? dbTime(d.retryAt) : null,
    attempted_at: dbTime(d.attemptedAt),
  });
  return (await getDelivery(db, d.endpointId, Number(id))) as Delivery;
}

export async function getDelivery(db: Conn, endpointId: number, id: number): Promise<Delivery | null> {
  const row = await db(WEBHOOK_DELIVERIES).where({ id, endpoint_id: endpointId }).first();
  return row ? fromRow(row) : null;
}

/** The body a delivery sent (for a redelivery of the same bytes). */
export async function deliveryBody(db: Conn, id: number): Promise<string | null> {
  const row = await db(WEBHOOK_DELIVERIES).where({ id }).first('body');
  return row ? String(row.body) : null;
}

/** An endpoint's attempts, newest first; `before` pages on by id. */
export async function listDeliveries(
  db: Conn,
  endpointId: number,
  options: { limit: number; before?: number },
): Promise<Delivery[]> {
  const q = db(WEBHOOK_DELIVERIES)
    .where({ endpoint_id: endpointId })
    .orderBy('id', 'desc')
    .limit(options.limit);
  if (options.before !== undefined) q.andWhere('id', '<', options.before);
  return (await q).map(fromRow);
}

/** What earlier dispatch attempts of one message to one endpoint did. */
export async function dispatchHistory(
  db: Conn,
  endpointId: number,
  messageId: string,
): Promise<{
  attempts: number;
  firstAttemptAt: Date | null;
  firstBody: string | null;
  sentId: number | null;
}> {
  const rows = (await db(WEBHOOK_DELIVERIES)
    .where({ endpoint_id: endpointId, message_id: messageId, triggered_by: 'dispatch' })
    .orderBy('id')
    .select('id', 'outcome', 'attempted_at', 'body')) as Row[];
  const first = rows[0];
  const sent = rows.find((r) => r.outcome === 'sent');
  return {
    attempts: rows.length,
    firstAttemptAt: first ? new Date(isoTime(first.attempted_at as string) as string) : null,
    firstBody: first ? String(first.body) : null,
    sentId: sent ? Number(sent.id) : null,
  };
}
