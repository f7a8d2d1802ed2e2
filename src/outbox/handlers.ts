import { markPushPending } from '../channels/stock-push.js';
import type { OutboxHandler } from '../queue/relay.js';
import { evaluateLowStock } from '../stock/low-stock.js';
import type { OutboxTopic } from './outbox.js';

export interface OutboxHandlerOptions {
  /** Queues a (debounced) stock push for these channels; called after the relay's commit. */
  requestPush?: (channelIds: number[]) => Promise<void>;
}

/** What the relay does with each outbox topic (each handler is idempotent). */
export function outboxHandlers(
  options: OutboxHandlerOptions = {},
): Partial<Record<OutboxTopic, OutboxHandler>> {
  return {
    'stock.changed': async (rows, tx) => {
      const skuIds = rows.flatMap((r) =>
        Array.isArray(r.payload.skuIds) ? (r.payload.skuIds as number[]) : [],
      );
      await evaluateLowStock(tx, skuIds);
      // Every channel selling these SKUs needs to hear the new figures: mark them in this
      // transaction, queue the channels' pushes once it has committed.
      const channelIds = await markPushPending(tx, skuIds);
      const { requestPush } = options;
      if (channelIds.length > 0 && requestPush) return () => requestPush(channelIds);
      return undefined;
    },
  };
}
