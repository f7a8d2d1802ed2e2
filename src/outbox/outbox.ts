import type { Conn } from '../db/connection.js';
import { dbTime } from '../db/connection.js';

export const OUTBOX = 'outbox';

/** Topics written to the outbox; each row is handed to the handlers registered for its topic. */
export type OutboxTopic = 'order.status_changed' | 'stock.changed';

export interface OutboxMessage {
  topic: OutboxTopic;
  payload: Record<string, unknown>;
}

/** Adds outbox rows in the caller's transaction, so they exist exactly when the change does. */
export async function addToOutbox(
  db: Conn,
  messages: readonly OutboxMessage[],
  now = dbTime(),
): Promise<void> {
  if (messages.length === 0) return;
  await db(OUTBOX).insert(
    messages.map((m) => ({ topic: m.topic, payload: JSON.stringify(m.payload), created_at: now })),
  );
}
