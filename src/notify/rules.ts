import { z } from 'zod';
import { type Conn, dbTime, dialectOf, isoTime } from '../db/connection.js';
import { LIMITS, languageSchema } from '../domain/order-input.js';
import { notFound } from '../errors/domain-errors.js';
import { NOTIFICATION_EVENTS, type RuleEvent } from './events.js';

export const RULES = 'notification_rules';
export const ROLE_ADDRESSES = 'notification_role_addresses';

const email = z.email('must be an e-mail address').max(LIMITS.emailLength);
const roleName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9_.-]+$/, 'lower-case letters, digits and _ . - only');
/** E.164: +, country code, up to 15 digits (the SMS senders convert to each provider's format). */
export const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number such as +8613800138000');

/**
 * Who a rule tells: the order's contact (its e-mail, or its phone by SMS), a named address, every
 * address of a staff role (`/api/notification-roles`), a phone number, or a webhook endpoint.
 */
export const recipientSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('contact'), medium: z.enum(['email', 'sms']).default('email') }),
  z.object({ type: z.literal('email'), address: email, language: languageSchema.default('en') }),
  z.object({ type: z.literal('role'), role: roleName }),
  z.object({ type: z.literal('phone'), number: e164, language: languageSchema.default('zh-CN') }),
  z.object({ type: z.literal('webhook'), endpointId: z.number().int().positive() }),
]);
export type Recipient = z.output<typeof recipientSchema>;

export const filtersSchema = z
  .object({
    channel: z.string().min(1).max(64).optional(),
    customerGroup: z.string().min(1).max(LIMITS.codeLength).optional(),
    holdReason: z.string().min(1).max(64).optional(),
  })
  .strict();
export type RuleFilters = z.output<typeof filtersSchema>;

export const ruleBody = z
  .object({
    name: z.string().max(LIMITS.nameLength).optional(),
    event: z.enum(NOTIFICATION_EVENTS),
    filters: filtersSchema.default({}),
    recipients: z.array(recipientSchema).min(1, 'name at least one recipient').max(50),
    enabled: z.boolean().default(true),
  })
  .strict();
export type RuleInput = z.output<typeof ruleBody>;

export interface NotificationRule extends RuleInput {
  id: number;
  defaultKey: string | null;
  createdAt: string;
  updatedAt: string;
}

type DefaultRule = RuleInput & { key: string };
const customerRule = (key: string, event: RuleEvent, name: string): DefaultRule => ({
  key,
  event,
  name,
  filters: {},
  recipients: [{ type: 'contact', medium: 'email' }],
  enabled: true,
});
const staffRule = (key: string, event: RuleEvent, name: string): DefaultRule => ({
  key,
  event,
  name,
  filters: {},
  recipients: [{ type: 'role', role: 'operations' }],
  enabled: true,
});

/** The rules of a fresh install (each made once; one deleted stays deleted). */
export const DEFAULT_RULES: readonly DefaultRule[] = [
  customerRule('customer-confirmed', 'order.confirmed', 'Order confirmed → customer'),
  customerRule('customer-shipped', 'order.shipped', 'Order shipped → customer'),
  customerRule('customer-cancelled', 'order.cancelled', 'Order cancelled → customer'),
  staffRule('staff-held', 'order.held', 'Order held → operations'),
  staffRule('staff-channel-failing', 'channel.failing', 'Channel failing → operations'),
  staffRule('staff-job-failed', 'job.failed', 'Scheduled job failed → operations'),
  staffRule('staff-reconciliation-finding', 'reconciliation.finding', 'Reconciliation finding → operations'),
];

const json = <T>(v: unknown, fallback: T): T =>
  v === null || v === undefined ? fallback : JSON.parse(String(v));

function toRule(r: Record<string, unknown>): NotificationRule {
  return {
    id: Number(r.id),
    name: (r.name as string | null) ?? undefined,
    event: r.event as RuleEvent,
    filters: json(r.filters, {}),
    recipients: json(r.recipients, []),
    enabled: Boolean(Number(r.enabled)),
    defaultKey: (r.default_key as string | null) ?? null,
    createdAt: isoTime(r.created_at as string)!,
    updatedAt: isoTime(r.updated_at as string)!,
  };
}

/** Adds the default rules not made yet (idempotent; safe in several processes at once). */
export async function ensureDefaultRules(db: Conn): Promise<void> {
  const now = dbTime();
  const rows = DEFAULT_RULES.map((r) => ({
    name: r.name ?? null,
    event: r.event,
    filters: JSON.stringify(r.filters),
    recipients: JSON.stringify(r.recipients),
    enabled: true,
    default_key: r.key,
    created_at: now,
    updated_at: now,
  }));
  const q = db(RULES).insert(rows);
  await (dialectOf(db) === 'mysql'
    ? q.onConflict('default_key').merge(['default_key'])
    : q.onConflict('default_key').ignore());
}

export async function listRules(
  db: Conn,
  filter: { event?: string | undefined } = {},
): Promise<NotificationRule[]> {
  let q = db(RULES).whereNull('deleted_at').orderBy('id');
  if (filter.event) q = q.where('event', filter.event);
  return (await q).map(toRule);
}

/** The enabled rules of these events. */
export async function rulesFor(db: Conn, events: readonly string[]): Promise<NotificationRule[]> {
  if (events.length === 0) return [];
  const rows = await db(RULES)
    .whereNull('deleted_at')
    .where('enabled', true)
    .whereIn('event', [...new Set(events)])
    .orderBy('id');
  return rows.map(toRule);
}

export async function getRule(db: Conn, id: number): Promise<NotificationRule> {
  const row = await db(RULES).where({ id }).whereNull('deleted_at').first();
  if (!row) throw notFound(`notification rule ${id}`);
  return toRule(row);
}

export async function createRule(db: Conn, input: RuleInput): Promise<NotificationRule> {
  const now = dbTime();
  const [id] = await db(RULES).insert({
    name: input.name ?? null,
    event: input.event,
    filters: JSON.stringify(input.filters),
    recipients: JSON.stringify(input.recipients),
    enabled: input.enabled,
    created_at: now,
    updated_at: now,
  });
  return getRule(db, Number(id));
}

export async function updateRule(db: Conn, id: number, input: RuleInput): Promise<NotificationRule> {
  const n = await db(RULES)
    .where({ id })
    .whereNull('deleted_at')
    .update({
      name: input.name ?? null,
      event: input.event,
      filters: JSON.stringify(input.filters),
      recipients: JSON.stringify(input.recipients),
      enabled: input.enabled,
      updated_at: dbTime(),
    });
  if (n === 0) throw notFound(`notification rule ${id}`);
  return getRule(db, id);
}

/** Deletes a rule (kept as deleted, so a default stays deleted; notifications it made stay). */
export async function deleteRule(db: Conn, id: number): Promise<void> {
  const n = await db(RULES)
    .where({ id })
    .whereNull('deleted_at')
    .update({ deleted_at: dbTime(), enabled: false });
  if (n === 0) throw notFound(`notification rule ${id}`);
}

export const roleBody = z
  .object({
    addresses: z
      .array(z.object({ address: email, language: languageSchema.default('en') }).strict())
      .max(200),
  })
  .strict();

export interface RoleAddress {
  address: string;
  language: 'zh-CN' | 'en';
}

export async function listRoles(db: Conn): Promise<Record<string, RoleAddress[]>> {
  const rows = await db(ROLE_ADDRESSES).orderBy(['role', 'address']);
  const out: Record<string, RoleAddress[]> = {};
  for (const r of rows) {
    out[r.role] ??= [];
    out[r.role]!.push({ address: r.address, language: r.language });
  }
  return out;
}

/** Replaces a role's addresses. */
export async function putRole(
  db: Conn,
  role: string,
  addresses: readonly RoleAddress[],
): Promise<RoleAddress[]> {
  const unique = [...new Map(addresses.map((a) => [a.address.toLowerCase(), a])).values()];
  await db.transaction(async (tx) => {
    await tx(ROLE_ADDRESSES).where({ role }).delete();
    if (unique.length)
      await tx(ROLE_ADDRESSES).insert(
        unique.map((a) => ({ role, address: a.address.toLowerCase(), language: a.language })),
      );
  });
  return (await listRoles(db))[role] ?? [];
}

export async function roleAddresses(db: Conn, roles: readonly string[]): Promise<Map<string, RoleAddress[]>> {
  const out = new Map<string, RoleAddress[]>();
  if (roles.length === 0) return out;
  const rows = await db(ROLE_ADDRESSES)
    .whereIn('role', [...new Set(roles)])
    .orderBy('address');
  for (const r of rows) {
    const list = out.get(r.role) ?? [];
    list.push({ address: r.address, language: r.language });
    out.set(r.role, list);
  }
  return out;
}
