import type { Conn } from '../db/connection.js';
import type { NotificationMedium } from './contract.js';
import { type EventOccurrence, languageOf } from './events.js';
import { notificationMessageId } from './message-id.js';
import { type NotificationRule, type RuleFilters, roleAddresses, rulesFor } from './rules.js';
import { insertNotifications, type NewNotification, recipientKeyOf } from './store.js';

/** What the fan-out reads of an order (the contact it carries, the customer's group and e-mail). */
interface OrderFacts {
  id: number;
  channel: string;
  customerId: number | null;
  customerGroup: string | null;
  holdReason: string | null;
  email: string | null;
  phone: string | null;
  language: string | null;
  timeZone: string | null;
}

async function orderFacts(conn: Conn, ids: readonly number[]): Promise<Map<number, OrderFacts>> {
  if (ids.length === 0) return new Map();
  const rows = await conn('orders as o')
    .leftJoin('customers as c', 'c.id', 'o.customer_id')
    .whereIn('o.id', [...new Set(ids)])
    .select(
      'o.id',
      'o.channel',
      'o.customer_id',
      'o.hold_reason',
      'o.contact_email',
      'o.contact_phone',
      'o.contact_language',
      'o.contact_time_zone',
      'c.customer_group',
      'c.email as customer_email',
      'c.language as customer_language',
      'c.time_zone as customer_time_zone',
    );
  return new Map(
    rows.map((r) => [
      Number(r.id),
      {
        id: Number(r.id),
        channel: String(r.channel),
        customerId: r.customer_id === null ? null : Number(r.customer_id),
        customerGroup: r.customer_group ?? null,
        holdReason: r.hold_reason ?? null,
        email: r.contact_email || r.customer_email || null,
        phone: r.contact_phone || null,
        language: r.contact_language || r.customer_language || null,
        timeZone: r.contact_time_zone || r.customer_time_zone || null,
      },
    ]),
  );
}

/** Whether a rule's filters let an occurrence through (a filter on an order fact needs an order). */
export function matchesFilters(
  filters: RuleFilters,
  order: OrderFacts | null,
  data: Record<string, unknown>,
): boolean {
  if (filters.channel !== undefined) {
    const channel = order?.channel ?? (typeof data.channel === 'string' ? data.channel : null);
    if (channel !== filters.channel) return false;
  }
  if (filters.customerGroup !== undefined) {
    if (!order?.customerGroup || order.customerGroup.toLowerCase() !== filters.customerGroup.toLowerCase())
      return false;
  }
  if (filters.holdReason !== undefined) {
    // The event's own hold reason (the one at the time of the hold) before the order's now.
    const reason =
      'holdReason' in data
        ? typeof data.holdReason === 'string'
          ? data.holdReason
          : null
        : (order?.holdReason ?? null);
    if (reason !== filters.holdReason) return false;
  }
  return true;
}

/**
 * Turns occurrences into notifications: each occurrence × enabled rule of its event whose filters
 * match × recipient is one `notifications` row, made once (the unique key), in the caller's
 * transaction. Returns the pending notifications of these occurrences, for the dispatcher.
 */
export async function fanOut(
  conn: Conn,
  occurrences: readonly EventOccurrence[],
  host: string,
): Promise<{ id: number; orderId: number | null }[]> {
  if (occurrences.length === 0) return [];
  const rules = await rulesFor(
    conn,
    occurrences.map((o) => o.event),
  );
  if (rules.length === 0) return [];
  const orders = await orderFacts(
    conn,
    occurrences.flatMap((o) => (o.orderId === null ? [] : [o.orderId])),
  );
  const roles = await roleAddresses(
    conn,
    rules.flatMap((r) => r.recipients.flatMap((x) => (x.type === 'role' ? [x.role] : []))),
  );
  const items: NewNotification[] = [];
  for (const occ of occurrences) {
    const order = occ.orderId === null ? null : (orders.get(occ.orderId) ?? null);
    if (occ.orderId !== null && !order) continue;
    for (const rule of rules) {
      if (rule.event !== occ.event || !matchesFilters(rule.filters, order, occ.data)) continue;
      items.push(...recipientsOf(rule, occ, order, roles));
    }
  }
  return insertNotifications(conn, onePerRecipient(items), (key) => notificationMessageId(key, host));
}

/**
 * One notification per occurrence and person: two matching rules (or one rule twice) naming the
 * same medium and address make one message, the one of the lowest rule id (the same on a replay).
 */
export function onePerRecipient(items: readonly NewNotification[]): NewNotification[] {
  const kept = new Map<string, NewNotification>();
  for (const n of items) {
    const key = `${n.sourceKey}|${n.event}|${n.medium}|${recipientKeyOf(n.medium, n.recipient)}`;
    const had = kept.get(key);
    if (!had || n.ruleId < had.ruleId) kept.set(key, n);
  }
  return [...kept.values()];
}

function recipientsOf(
  rule: NotificationRule,
  occ: EventOccurrence,
  order: OrderFacts | null,
  roles: Map<string, { address: string; language: 'zh-CN' | 'en' }[]>,
): NewNotification[] {
  const out: NewNotification[] = [];
  const base = {
    sourceKey: occ.sourceKey,
    ruleId: rule.id,
    event: occ.event,
    orderId: occ.orderId,
    customerId: order?.customerId ?? null,
    data: occ.data,
  };
  const add = (
    medium: NotificationMedium,
    recipient: string,
    language: 'zh-CN' | 'en',
    timeZone: string | null,
  ) => out.push({ ...base, medium, recipient, language, timeZone });
  for (const r of rule.recipients) {
    switch (r.type) {
      case 'contact':
        if (!order) break;
        if (r.medium === 'email' && order.email)
          add('email', order.email, languageOf(order.language), order.timeZone);
        if (r.medium === 'sms' && order.phone)
          add('sms', order.phone, languageOf(order.language, 'zh-CN'), order.timeZone);
        break;
      case 'email':
        add('email', r.address, r.language, null);
        break;
      case 'role':
        for (const a of roles.get(r.role) ?? []) add('email', a.address, a.language, null);
        break;
      case 'phone':
        add('sms', r.number, r.language, null);
        break;
      case 'webhook':
        add('webhook', String(r.endpointId), 'en', null);
        break;
    }
  }
  return out;
}
