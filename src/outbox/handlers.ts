import { markPushPending } from '../channels/stock-push.js';
import type { OutboxHandler } from '../queue/relay.js';
import { evaluateLowStock } from '../stock/low-stock.js';
import type { OutboxTopic } from './outbox.js';

export interface OutboxHandlerOptions {
  /** Queues a (debounced) stock push for these channels; called after the relay's commit. */
  requestPush?: (channelIds: number[]) => Promise<void>;
  /**
   * Lets waiting backorders of these SKUs take stock that became available (after the relay's
   * commit). The change that freed the stock does this itself; this is the backstop for a process
   * that died in between, or a batch bound that left some for later.
   */
  fillBackorders?: (skuIds: number[]) => Promise<unknown>;
  /** Queues telling a channel about a shipment (the channels queue); called after the relay's commit. */
  requestFulfilment?: (channelId: number, shipmentId: number) => Promise<void>;
  /** Queues telling a channel about an order we cancelled; called after the relay's commit. */
  requestCancellation?: (channelId: number, orderId: number) => Promise<void>;
  /** Handlers that make notifications (src/notify/outbox-handlers.ts); none without them. */
  notifications?: Partial<Record<OutboxTopic, OutboxHandler>>;
}

/** What the relay does with each outbox topic (each handler is idempotent). */
export function outboxHandlers(
  options: OutboxHandlerOptions = {},
): Partial<Record<OutboxTopic, OutboxHandler>> {
  return {
    ...options.notifications,
    'stock.changed': async (rows, tx) => {
      const skuIds = rows.flatMap((r) =>
        Array.isArray(r.payload.skuIds) ? (r.payload.skuIds as number[]) : [],
      );
      await evaluateLowStock(tx, skuIds);
      // Every channel selling these SKUs needs to hear the new figures: mark them in this
      // transaction, queue the channels' pushes once it has committed.
      const channelIds = await markPushPending(tx, skuIds);
      const { requestPush, fillBackorders } = options;
      const after: (() => Promise<unknown>)[] = [];
      if (channelIds.length > 0 && requestPush) after.push(() => requestPush(channelIds));
      if (fillBackorders && skuIds.length > 0) after.push(() => fillBackorders([...new Set(skuIds)]));
      if (after.length === 0) return undefined;
      return async () => {
        for (const run of after) await run();
      };
    },
    // A shipment of a channel order: its job is queued once the relay has committed (a lost job
    // is queued again by the scheduler's sweep of pending shipments).
    'shipment.created': async (rows) => {
      const { requestFulfilment } = options;
      if (!requestFulfilment) return undefined;
      const items = rows
        .map((r) => ({ channelId: Number(r.payload.channelId), shipmentId: Number(r.payload.shipmentId) }))
        .filter((i) => Number.isInteger(i.channelId) && Number.isInteger(i.shipmentId));
      if (items.length === 0) return undefined;
      return async () => {
        for (const i of items) await requestFulfilment(i.channelId, i.shipmentId);
      };
    },
    'order.cancelled': async (rows) => {
      const { requestCancellation } = options;
      if (!requestCancellation) return undefined;
      const items = rows
        .map((r) => ({ channelId: Number(r.payload.channelId), orderId: Number(r.payload.orderId) }))
        .filter((i) => Number.isInteger(i.channelId) && Number.isInteger(i.orderId));
      if (items.length === 0) return undefined;
      return async () => {
        for (const i of items) await requestCancellation(i.channelId, i.orderId);
      };
    },
  };
}
