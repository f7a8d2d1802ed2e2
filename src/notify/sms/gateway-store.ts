import { z } from 'zod';
import { open, seal } from '../../channels/secret-box.js';
import { type Conn, dbTime, isoTime } from '../../db/connection.js';
import { timeZoneSchema } from '../../domain/order-input.js';
import { NotFoundError, ValidationError } from '../../errors/domain-errors.js';
import { aliyunSecretsSchema, aliyunSettingsSchema } from './aliyun-gateway.js';
import { genericSecretsSchema, genericSettingsSchema } from './generic-gateway.js';
import { isWallTime } from './quiet-hours.js';

export const SMS_GATEWAYS = 'sms_gateways';

export type SmsGatewayKind = 'generic' | 'aliyun';

const wallTime = z.string().refine(isWallTime, "must be a wall time 'HH:MM' (00:00 to 23:59)");

const quietHoursSchema = z.object({ start: wallTime, end: wallTime }).strict().nullable();

/** Event names as the notification core writes them, e.g. order.shipped. */
const eventName = z
  .string()
  .max(100)
  .regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/, 'must be an event name such as order.shipped');

const templateCodesSchema = z
  .record(eventName, z.string().regex(/^[A-Za-z0-9_]{1,64}$/, 'must be a TemplateCode such as SMS_123456'))
  .refine((codes) => Object.keys(codes).length <= 200, 'at most 200 events');

const common = {
  name: z.string().trim().min(1).max(100),
  enabled: z.boolean().default(true),
  quietHours: quietHoursSchema.default(null),
  /** Zone for recipients whose time zone is unknown. Null (default): the business time zone. */
  defaultTimeZone: timeZoneSchema.nullable().default(null),
  hourlyCap: z.number().int().min(1).max(1000).nullable().default(null),
};

export const createGatewayBody = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('generic'),
      ...common,
      settings: genericSettingsSchema,
      secrets: genericSecretsSchema.default({}),
    })
    .strict(),
  z
    .object({
      kind: z.literal('aliyun'),
      ...common,
      settings: aliyunSettingsSchema,
      secrets: aliyunSecretsSchema,
      templateCodes: templateCodesSchema.default({}),
    })
    .strict(),
]);

export type CreateGateway = z.output<typeof createGatewayBody>;

/** A change: every field optional; `settings` and `secrets` replace what was there field by field. */
export const updateGatewayBody = z
  .object({
    name: common.name.optional(),
    enabled: z.boolean().optional(),
    quietHours: quietHoursSchema.optional(),
    defaultTimeZone: timeZoneSchema.nullable().optional(),
    hourlyCap: z.number().int().min(1).max(1000).nullable().optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
    secrets: z.record(z.string(), z.unknown()).optional(),
    templateCodes: templateCodesSchema.optional(),
  })
  .strict();

export type UpdateGateway = z.output<typeof updateGatewayBody>;

/** A gateway as the sender uses it: secrets opened, in memory only. */
export interface SmsGateway {
  id: number;
  name: string;
  kind: SmsGatewayKind;
  enabled: boolean;
  settings: Record<string, unknown>;
  secrets: Record<string, unknown>;
  templateCodes: Record<string, string>;
  quietHours: { start: string; end: string } | null;
  /** Null: the business time zone (`STOCKBRIDGE_TIME_ZONE`). */
  defaultTimeZone: string | null;
  hourlyCap: number | null;
  createdAt: string;
  updatedAt: string;
}

/** What the API shows: secrets as '********' when set, never their values. */
export function gatewayView(g: SmsGateway) {
  const { secrets, ...rest } = g;
  return {
    ...rest,
    secrets: Object.fromEntries(Object.keys(secrets).map((k) => [k, '********'])),
  };
}

type Row = Record<string, unknown>;

function fromRow(row: Row, key: Buffer): SmsGateway {
  const sealed = row.secrets_sealed as string | null;
  return {
    id: Number(row.id),
    name: String(row.name),
    kind: row.kind as SmsGatewayKind,
    enabled: Boolean(row.enabled),
    settings: JSON.parse(String(row.settings)) as Record<string, unknown>,
    secrets: sealed ? open<Record<string, unknown>>(key, sealed) : {},
    templateCodes: row.template_codes
      ? (JSON.parse(String(row.template_codes)) as Record<string, string>)
      : {},
    quietHours:
      row.quiet_start && row.quiet_end
        ? { start: String(row.quiet_start), end: String(row.quiet_end) }
        : null,
    // '' in the column (it is NOT NULL): no zone of its own, the business time zone.
    defaultTimeZone: row.default_time_zone ? String(row.default_time_zone) : null,
    hourlyCap: row.hourly_cap === null || row.hourly_cap === undefined ? null : Number(row.hourly_cap),
    createdAt: isoTime(row.created_at as string) as string,
    updatedAt: isoTime(row.updated_at as string) as string,
  };
}

const present = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null && v !== ''));

export async function createGateway(db: Conn, key: Buffer, input: CreateGateway): Promise<SmsGateway> {
  const now = dbTime();
  const secrets = present(input.secrets as Record<string, unknown>);
  const [id] = await db(SMS_GATEWAYS).insert({
    name: input.name,
    kind: input.kind,
    enabled: input.enabled,
    settings: JSON.stringify(input.settings),
    secrets_sealed: Object.keys(secrets).length > 0 ? seal(key, secrets) : null,
    template_codes: input.kind === 'aliyun' ? JSON.stringify(input.templateCodes) : null,
    quiet_start: input.quietHours?.start ?? null,
    quiet_end: input.quietHours?.end ?? null,
    default_time_zone: input.defaultTimeZone ?? '',
    hourly_cap: input.hourlyCap,
    created_at: now,
    updated_at: now,
  });
  return getGateway(db, key, Number(id));
}

export async function getGateway(db: Conn, key: Buffer, id: number): Promise<SmsGateway> {
  const row = await db(SMS_GATEWAYS).where({ id }).first();
  if (!row) throw new NotFoundError(`SMS gateway ${id}`);
  return fromRow(row, key);
}

export async function listGateways(db: Conn, key: Buffer): Promise<SmsGateway[]> {
  const rows = await db(SMS_GATEWAYS).orderBy('id');
  return rows.map((r: Row) => fromRow(r, key));
}

/** The gateway SMS go through: the enabled one with the lowest id, or null. */
export async function activeGateway(db: Conn, key: Buffer): Promise<SmsGateway | null> {
  const row = await db(SMS_GATEWAYS).where({ enabled: true }).orderBy('id').first();
  return row ? fromRow(row, key) : null;
}

function schemasOf(kind: SmsGatewayKind) {
  return kind === 'aliyun'
    ? { settings: aliyunSettingsSchema, secrets: aliyunSecretsSchema }
    : { settings: genericSettingsSchema, secrets: genericSecretsSchema };
}

/** Applies a change; settings and secrets are checked whole, against the gateway's kind. */
export async function updateGateway(
  db: Conn,
  key: Buffer,
  id: number,
  change: UpdateGateway,
): Promise<SmsGateway> {
  const current = await getGateway(db, key, id);
  const schemas = schemasOf(current.kind);
  const problems: { path: string; message: string }[] = [];
  const settings = schemas.settings.safeParse({ ...current.settings, ...(change.settings ?? {}) });
  if (!settings.success)
    problems.push(
      ...settings.error.issues.map((i) => ({ path: ['settings', ...i.path].join('.'), message: i.message })),
    );
  const mergedSecrets = present({ ...current.secrets, ...(change.secrets ?? {}) });
  const secrets = schemas.secrets.safeParse(mergedSecrets);
  if (!secrets.success)
    problems.push(
      ...secrets.error.issues.map((i) => ({ path: ['secrets', ...i.path].join('.'), message: i.message })),
    );
  if (change.templateCodes && current.kind !== 'aliyun')
    problems.push({ path: 'templateCodes', message: 'only an aliyun gateway has TemplateCodes' });
  if (problems.length > 0)
    throw new ValidationError('validation_failed', 'the gateway change is not valid', problems);
  const update: Row = { settings: JSON.stringify(settings.data), updated_at: dbTime() };
  if (change.secrets)
    update.secrets_sealed = Object.keys(mergedSecrets).length > 0 ? seal(key, mergedSecrets) : null;
  if (change.name !== undefined) update.name = change.name;
  if (change.enabled !== undefined) update.enabled = change.enabled;
  if (change.quietHours !== undefined) {
    update.quiet_start = change.quietHours?.start ?? null;
    update.quiet_end = change.quietHours?.end ?? null;
  }
  if (change.defaultTimeZone !== undefined) update.default_time_zone = change.defaultTimeZone ?? '';
  if (change.hourlyCap !== undefined) update.hourly_cap = change.hourlyCap;
  if (change.templateCodes !== undefined) update.template_codes = JSON.stringify(change.templateCodes);
  await db(SMS_GATEWAYS).where({ id }).update(update);
  return getGateway(db, key, id);
}

export async function deleteGateway(db: Conn, id: number): Promise<void> {
  const n = await db(SMS_GATEWAYS).where({ id }).delete();
  if (n === 0) throw new NotFoundError(`SMS gateway ${id}`);
}
