import type { OutboxHandler } from '../queue/relay.js';
import { evaluateLowStock } from '../stock/low-stock.js';
import type { OutboxTopic } from './outbox.js';

/** What the relay does with each outbox topic (each handler is idempotent). */
export function outboxHandlers(): Partial<Record<OutboxTopic, OutboxHandler>> {
  return {
    'stock.changed': async (rows, tx) => {
      const skuIds = rows.flatMap((r) =>
        Array.isArray(r.payload.skuIds) ? (r.payload.skuIds as number[]) : [],
      );
      await evaluateLowStock(tx, skuIds);
    },
  };
}
