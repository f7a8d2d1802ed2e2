import { CREDIT_HOLD_REASONS } from '../domain/credit.js';
import type { OrderStatus } from '../domain/order-status.js';
import type { NotificationLanguage } from './contract.js';

/**
 * The events a notification rule can name, and where each comes from:
 * - `order.*`: the outbox's `order.status_changed` (`to` the status; `order.received` when an order
 *   first leaves `received`, since intake writes no outbox row on its hot path; `order.credit_hold`
 *   besides `order.held` when the hold reason is a credit reason of src/domain/credit.ts);
 * - `alert.low_stock`: the outbox's `alert.raised` of kind `low_stock` (src/stock/low-stock.ts);
 * - `reconciliation.finding`: the outbox's `reconciliation.finding` (src/reconciliation/run.ts);
 * - `job.failed`: a `job_runs` row that failed for good (src/scheduling/job-runs.ts), watched;
 * - `channel.failing`: a channel marked failing (`channels.failing_since`), watched;
 * - `document.*`: an invoice, credit note or statement issued to a customer who gets documents.
 */
export const NOTIFICATION_EVENTS = [
  'order.received',
  'order.confirmed',
  'order.backordered',
  'order.partially_shipped',
  'order.shipped',
  'order.delivered',
  'order.cancelled',
  'order.held',
  'order.credit_hold',
  'alert.low_stock',
  'job.failed',
  'reconciliation.finding',
  'channel.failing',
] as const;
export type RuleEvent = (typeof NOTIFICATION_EVENTS)[number];

export const DOCUMENT_EVENTS = ['document.invoice', 'document.credit_note', 'document.statement'] as const;
export type DocumentEvent = (typeof DOCUMENT_EVENTS)[number];

export type NotificationEvent = RuleEvent | DocumentEvent;
export const ALL_EVENTS: readonly NotificationEvent[] = [...NOTIFICATION_EVENTS, ...DOCUMENT_EVENTS];

/** One thing that happened, as the fan-out sees it. */
export interface EventOccurrence {
  event: RuleEvent;
  /** Unique per occurrence: notifications of one occurrence are made once (`notifications.source_key`). */
  sourceKey: string;
  orderId: number | null;
  data: Record<string, unknown>;
}

const STATUS_EVENTS: Partial<Record<OrderStatus, RuleEvent>> = {
  confirmed: 'order.confirmed',
  backordered: 'order.backordered',
  partially_shipped: 'order.partially_shipped',
  shipped: 'order.shipped',
  delivered: 'order.delivered',
  cancelled: 'order.cancelled',
  on_hold: 'order.held',
};

/**
 * The events one `order.status_changed` outbox row stands for. `holdReason` is the order's hold
 * reason as the fan-out reads it (null when the order is not held).
 */
export function statusChangeEvents(
  outboxId: number,
  payload: { orderId: number; from: string | null; to: string },
  holdReason: string | null,
): EventOccurrence[] {
  const out: EventOccurrence[] = [];
  const base = { orderId: payload.orderId, data: { from: payload.from, to: payload.to, holdReason } };
  // Keyed on the order, not the outbox row: an order released from hold leaves `received` again.
  if (payload.from === 'received')
    out.push({ ...base, event: 'order.received', sourceKey: `order:${payload.orderId}:received` });
  const event = STATUS_EVENTS[payload.to as OrderStatus];
  if (event) out.push({ ...base, event, sourceKey: `outbox:${outboxId}` });
  if (
    payload.to === 'on_hold' &&
    holdReason &&
    (CREDIT_HOLD_REASONS as readonly string[]).includes(holdReason)
  )
    out.push({ ...base, event: 'order.credit_hold', sourceKey: `outbox:${outboxId}:credit` });
  return out;
}

/** `zh*` → zh-CN, anything else (or nothing) → the fallback. */
export function languageOf(value: unknown, fallback: NotificationLanguage = 'en'): NotificationLanguage {
  if (typeof value !== 'string' || value === '') return fallback;
  return value.toLowerCase().startsWith('zh')
    ? 'zh-CN'
    : value.toLowerCase().startsWith('en')
      ? 'en'
      : fallback;
}
