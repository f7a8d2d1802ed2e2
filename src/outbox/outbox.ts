import { dbTime } from '../db/connection.js';
import { placeholders, type WriteBatch } from '../db/write-batch.js';

export const OUTBOX = 'outbox';

/** Topics written to the outbox; each row is handed to the handlers registered for its topic. */
export type OutboxTopic =
  | 'order.status_changed'
  | 'stock.changed'
  | 'alert.raised'
  | 'reconciliation.finding'
  /** A shipment of a channel order, to tell the channel (payload: shipmentId, channelId). */
  | 'shipment.created'
  /** An order we cancelled (not the channel), to tell its channel if it asks for that (payload: orderId, channelId). */
  | 'order.cancelled';

export interface OutboxMessage {
  topic: OutboxTopic;
  payload: Record<string, unknown>;
}

/** Adds outbox rows to the caller's transaction (via its batch), so they exist exactly when the change does. */
export function addToOutbox(batch: WriteBatch, messages: readonly OutboxMessage[], now = dbTime()): void {
  if (messages.length === 0) return;
  batch.addSql(
    `INSERT INTO outbox (topic, payload, created_at) VALUES ${placeholders(messages.length, 3)}`,
    messages.flatMap((m) => [m.topic, JSON.stringify(m.payload), now]),
  );
}
