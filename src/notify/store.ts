import { type Conn, dbTime, dialectOf, isoTime } from '../db/connection.js';
import type { NotificationLanguage, NotificationMedium } from './contract.js';

export const NOTIFICATIONS = 'notifications';
export const SUPPRESSIONS = 'notification_suppressions';

export type NotificationState = 'pending' | 'sent' | 'failed' | 'suppressed';

/** A notification to be made (the fan-out's and the documents' output). */
export interface NewNotification {
  sourceKey: string;
  ruleId: number;
  event: string;
  medium: NotificationMedium;
  recipient: string;
  orderId: number | null;
  customerId: number | null;
  language: NotificationLanguage;
  timeZone: string | null;
  data: Record<string, unknown>;
}

/** How a recipient is compared (unique key, suppressions): e-mail in lower case, others as they are. */
export const recipientKeyOf = (medium: NotificationMedium, recipient: string) =>
  medium === 'email' ? recipient.trim().toLowerCase() : recipient.trim();

export const uniqueKeyOf = (n: Pick<NewNotification, 'sourceKey' | 'ruleId' | 'medium' | 'recipient'>) =>
  `${n.sourceKey}|${n.ruleId}|${n.medium}|${recipientKeyOf(n.medium, n.recipient)}`;

/**
 * Inserts notifications; one that exists already (same source, rule, medium and recipient: a
 * replayed outbox row, a second documents sweep) is left as it is. Returns the pending rows of these
 * sources (id, order) for the dispatcher.
 */
export async function insertNotifications(
  conn: Conn,
  items: readonly NewNotification[],
  messageIdOf: (uniqueKey: string) => string,
): Promise<{ id: number; orderId: number | null }[]> {
  if (items.length === 0) return [];
  const now = dbTime();
  const rows = items.map((n) => ({
    source_key: n.sourceKey,
    rule_id: n.ruleId,
    event: n.event,
    medium: n.medium,
    recipient: n.recipient.trim().slice(0, 255),
    recipient_key: recipientKeyOf(n.medium, n.recipient).slice(0, 255),
    order_id: n.orderId,
    customer_id: n.customerId,
    language: n.language,
    time_zone: n.timeZone,
    state: 'pending',
    attempts: 0,
    next_attempt_at: now,
    message_id: messageIdOf(uniqueKeyOf(n)),
    data: JSON.stringify(n.data),
    created_at: now,
    updated_at: now,
  }));
  for (let i = 0; i < rows.length; i += 500) {
    const q = conn(NOTIFICATIONS).insert(rows.slice(i, i + 500));
    // Create once: a duplicate key keeps the row there is (never INSERT IGNORE, which hides other errors).
    await (dialectOf(conn) === 'mysql'
      ? q.onConflict(['source_key', 'rule_id', 'medium', 'recipient_key']).merge(['source_key'])
      : q.onConflict(['source_key', 'rule_id', 'medium', 'recipient_key']).ignore());
  }
  const sources = [...new Set(items.map((n) => n.sourceKey))];
  const found = await conn(NOTIFICATIONS)
    .whereIn('source_key', sources)
    .where('state', 'pending')
    .select('id', 'order_id');
  return found.map((r) => ({ id: Number(r.id), orderId: r.order_id === null ? null : Number(r.order_id) }));
}

export interface NotificationRow {
  id: number;
  sourceKey: string;
  ruleId: number | null;
  event: string;
  medium: NotificationMedium;
  recipient: string;
  recipientKey: string;
  orderId: number | null;
  customerId: number | null;
  language: NotificationLanguage;
  timeZone: string | null;
  state: NotificationState;
  reason: string | null;
  attempts: number;
  nextAttemptAt: string;
  messageId: string;
  subject: string | null;
  providerAnswer: string | null;
  providerReference: string | null;
  data: Record<string, unknown>;
  sentAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export function toNotification(r: Record<string, unknown>): NotificationRow {
  return {
    id: Number(r.id),
    sourceKey: String(r.source_key),
    ruleId: Number(r.rule_id) || null,
    event: String(r.event),
    medium: r.medium as NotificationMedium,
    recipient: String(r.recipient),
    recipientKey: String(r.recipient_key),
    orderId: r.order_id === null ? null : Number(r.order_id),
    customerId: r.customer_id === null ? null : Number(r.customer_id),
    language: r.language as NotificationLanguage,
    timeZone: (r.time_zone as string | null) ?? null,
    state: r.state as NotificationState,
    reason: (r.reason as string | null) ?? null,
    attempts: Number(r.attempts),
    nextAttemptAt: isoTime(r.next_attempt_at as string)!,
    messageId: String(r.message_id),
    subject: (r.subject as string | null) ?? null,
    providerAnswer: (r.provider_answer as string | null) ?? null,
    providerReference: (r.provider_reference as string | null) ?? null,
    data: r.data ? JSON.parse(String(r.data)) : {},
    sentAt: isoTime((r.sent_at as string | null) ?? null),
    createdAt: isoTime(r.created_at as string)!,
    updatedAt: isoTime(r.updated_at as string)!,
  };
}

/** What the API shows of a notification (its data and lease stay inside). */
export function notificationView(n: NotificationRow) {
  return {
    id: n.id,
    event: n.event,
    medium: n.medium,
    recipient: n.recipient,
    orderId: n.orderId,
    ruleId: n.ruleId,
    language: n.language,
    state: n.state,
    reason: n.reason,
    attempts: n.attempts,
    nextAttemptAt: n.state === 'pending' ? n.nextAttemptAt : null,
    messageId: n.messageId,
    subject: n.subject,
    providerAnswer: n.providerAnswer,
    sentAt: n.sentAt,
    createdAt: n.createdAt,
  };
}

export interface NotificationFilter {
  orderId?: number | undefined;
  state?: NotificationState | undefined;
  event?: string | undefined;
  limit: number;
}

/** Newest first by id, a page at a time. */
export async function listNotifications(conn: Conn, filter: NotificationFilter, beforeId: number | null) {
  let q = conn(NOTIFICATIONS);
  if (filter.orderId !== undefined) q = q.where('order_id', filter.orderId);
  if (filter.state) q = q.where('state', filter.state);
  if (filter.event) q = q.where('event', filter.event);
  if (beforeId !== null) q = q.where('id', '<', beforeId);
  const rows = await q.orderBy('id', 'desc').limit(filter.limit + 1);
  const page = rows.slice(0, filter.limit).map(toNotification);
  const last = page[page.length - 1];
  return { items: page.map(notificationView), nextId: rows.length > filter.limit && last ? last.id : null };
}

/** An order's notifications, oldest first (its history shows them). */
export async function orderNotifications(conn: Conn, orderId: number) {
  const rows = await conn(NOTIFICATIONS).where('order_id', orderId).orderBy('id');
  return rows.map((r) => notificationView(toNotification(r)));
}

export async function isSuppressed(conn: Conn, medium: NotificationMedium, recipientKey: string) {
  const row = await conn(SUPPRESSIONS).where({ medium, recipient_key: recipientKey }).first('reason');
  return row ? String(row.reason) : null;
}

/** Records an address that failed for good: its notifications are suppressed from then on. */
export async function suppress(
  conn: Conn,
  medium: NotificationMedium,
  recipientKey: string,
  reason: string,
  notificationId: number,
): Promise<void> {
  const q = conn(SUPPRESSIONS).insert({
    medium,
    recipient_key: recipientKey,
    reason: reason.slice(0, 1000),
    notification_id: notificationId,
    created_at: dbTime(),
  });
  await (dialectOf(conn) === 'mysql'
    ? q.onConflict(['medium', 'recipient_key']).merge(['reason'])
    : q.onConflict(['medium', 'recipient_key']).ignore());
}

export async function listSuppressions(conn: Conn) {
  const rows = await conn(SUPPRESSIONS).orderBy('created_at', 'desc').limit(1000);
  return rows.map((r) => ({
    medium: r.medium,
    recipient: r.recipient_key,
    reason: r.reason,
    notificationId: r.notification_id === null ? null : Number(r.notification_id),
    at: isoTime(r.created_at),
  }));
}

/** Lifts a suppression (the address works again); 0 when there was none. */
export async function unsuppress(conn: Conn, medium: string, recipientKey: string): Promise<number> {
  return conn(SUPPRESSIONS).where({ medium, recipient_key: recipientKey }).delete();
}
