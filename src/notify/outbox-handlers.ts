import type { Tx } from '../db/connection.js';
import type { OutboxTopic } from '../outbox/outbox.js';
import type { OutboxHandler, OutboxRow } from '../queue/relay.js';
import { type EventOccurrence, statusChangeEvents } from './events.js';
import { fanOut } from './fan-out.js';

export interface NotificationFanOutOptions {
  /** The host of Message-IDs (the From address's domain). */
  host: string;
  /** Queues sending these notifications; called after the relay's commit (the sweep is the backstop). */
  requestDispatch?: (items: { id: number; orderId: number | null }[]) => Promise<void>;
}

/**
 * The outbox handlers that make notifications, inside the relay's transaction: what they insert
 * and the rows' published mark commit together, and a row handed over twice makes nothing twice
 * (the notifications' unique key).
 */
export function notificationOutboxHandlers(
  options: NotificationFanOutOptions,
): Partial<Record<OutboxTopic, OutboxHandler>> {
  // The default rules are made when the worker starts (startNotifications), not in this transaction.
  const run = async (tx: Tx, occurrences: EventOccurrence[]) => {
    const made = await fanOut(tx, occurrences, options.host);
    const { requestDispatch } = options;
    if (made.length === 0 || !requestDispatch) return undefined;
    return () => requestDispatch(made);
  };
  return {
    'order.status_changed': async (rows, tx) => {
      const valid = rows.filter((r) => Number.isInteger(Number(r.payload.orderId)));
      if (valid.length === 0) return undefined;
      // The hold reason of the payload (as it was at the hold); rows written before it carried one
      // fall back to the order's as it is now.
      const payloadHold = (r: OutboxRow) =>
        typeof r.payload.holdReason === 'string' ? r.payload.holdReason : null;
      const unknown = valid.filter((r) => r.payload.to === 'on_hold' && payloadHold(r) === null);
      const holds = unknown.length
        ? await tx('orders')
            .whereIn(
              'id',
              unknown.map((r) => Number(r.payload.orderId)),
            )
            .select('id', 'status', 'hold_reason')
        : [];
      const holdOf = new Map(
        holds.map((h) => [Number(h.id), h.status === 'on_hold' ? (h.hold_reason ?? null) : null]),
      );
      const occurrences = valid.flatMap((r) =>
        statusChangeEvents(
          r.id,
          {
            orderId: Number(r.payload.orderId),
            from: (r.payload.from as string | null) ?? null,
            to: String(r.payload.to),
          },
          r.payload.to === 'on_hold'
            ? (payloadHold(r) ?? holdOf.get(Number(r.payload.orderId)) ?? null)
            : null,
        ),
      );
      return run(tx, occurrences);
    },
    'alert.raised': async (rows, tx) => {
      const occurrences = rows
        .filter((r) => r.payload.kind === 'low_stock')
        .map(
          (r: OutboxRow): EventOccurrence => ({
            event: 'alert.low_stock',
            sourceKey: `outbox:${r.id}`,
            orderId: null,
            data: r.payload,
          }),
        );
      return run(tx, occurrences);
    },
    'reconciliation.finding': async (rows, tx) =>
      run(
        tx,
        rows.map((r) => ({
          event: 'reconciliation.finding',
          sourceKey: `outbox:${r.id}`,
          orderId: null,
          data: r.payload,
        })),
      ),
  };
}
