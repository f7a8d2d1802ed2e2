import type { Db } from '../../src/db/connection.js';

export interface AppliedEvent {
  /** What applying the event did: `created`, `updated`, `cancelled`, `stale`, `failed`, ... */
  status: string;
  orderId: number | null;
  eventId: number;
  note: string | null;
}

/**
 * Waits until a stored webhook event has been applied by the event worker (or parked as failed)
 * and tells what applying it did, read from the event row: the shape the webhook answer had
 * before webhooks were acknowledged at store time.
 */
export async function appliedEvent(db: Db, eventId: number, timeoutMs = 30_000): Promise<AppliedEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await db('inbound_events').where({ id: eventId }).first('order_id', 'note', 'processed_at');
    if (row && (row.processed_at !== null || row.note === 'failed')) {
      const note = (row.note as string | null) ?? null;
      return {
        status: note?.split(':')[0] ?? 'unknown',
        orderId: row.order_id === null ? null : Number(row.order_id),
        eventId,
        note,
      };
    }
    if (Date.now() > deadline) throw new Error(`event ${eventId} was not applied within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The answer to a webhook as tests want to read it: for an accepted delivery, what applying it did
 * (waited for); for a duplicate, the order it belongs to.
 */
export async function webhookOutcome(
  db: Db,
  status: number,
  body: Record<string, any>,
): Promise<{ status: number; body: Record<string, any> }> {
  if (status !== 200 || (body.status !== 'accepted' && body.status !== 'duplicate')) return { status, body };
  const applied = await appliedEvent(db, Number(body.eventId));
  if (body.status === 'duplicate') return { status, body: { ...body, orderId: applied.orderId } };
  return { status, body: { ...body, ...applied, accepted: true } };
}
