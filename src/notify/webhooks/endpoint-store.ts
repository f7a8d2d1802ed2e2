import { z } from 'zod';
import { isSafeChannelUrl, SAFE_URL_MESSAGE } from '../../../connectors/http/safe-url.js';
import { open, seal } from '../../channels/secret-box.js';
import { type Conn, dbTime, isoTime } from '../../db/connection.js';
import { NotFoundError } from '../../errors/domain-errors.js';
import { newWebhookSecret } from './webhook-secret.js';

export const WEBHOOK_ENDPOINTS = 'webhook_endpoints';

const eventName = z
  .string()
  .max(100)
  .regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_*]+)+$/, 'must be an event name such as order.shipped, or order.*');

export const createEndpointBody = z
  .object({
    url: z.string().max(2000).refine(isSafeChannelUrl, SAFE_URL_MESSAGE),
    description: z.string().max(500).default(''),
    enabled: z.boolean().default(true),
    /** Events it receives (`order.*` for a family); absent or null: every event. */
    events: z.array(eventName).min(1).max(100).nullable().default(null),
  })
  .strict();

export const updateEndpointBody = z
  .object({
    url: z.string().max(2000).refine(isSafeChannelUrl, SAFE_URL_MESSAGE).optional(),
    description: z.string().max(500).optional(),
    enabled: z.boolean().optional(),
    events: z.array(eventName).min(1).max(100).nullable().optional(),
  })
  .strict();

export interface WebhookEndpoint {
  id: number;
  url: string;
  description: string;
  enabled: boolean;
  events: string[] | null;
  /** `failing` once an event could not be delivered within the retry window; a success clears it. */
  state: 'active' | 'failing';
  failingSince: string | null;
  lastSuccessAt: string | null;
  createdAt: string;
  updatedAt: string;
}

type Row = Record<string, unknown>;

function fromRow(r: Row): WebhookEndpoint {
  return {
    id: Number(r.id),
    url: String(r.url),
    description: String(r.description ?? ''),
    enabled: Boolean(r.enabled),
    events: r.events ? (JSON.parse(String(r.events)) as string[]) : null,
    state: r.state === 'failing' ? 'failing' : 'active',
    failingSince: isoTime(r.failing_since as string | null),
    lastSuccessAt: isoTime(r.last_success_at as string | null),
    createdAt: isoTime(r.created_at as string) as string,
    updatedAt: isoTime(r.updated_at as string) as string,
  };
}

/** Whether an endpoint wants an event: no filter, the name itself, or its family (`order.*`). */
export function wantsEvent(endpoint: Pick<WebhookEndpoint, 'events'>, event: string): boolean {
  if (!endpoint.events) return true;
  return endpoint.events.some((e) => e === event || (e.endsWith('.*') && event.startsWith(e.slice(0, -1))));
}

/** Creates an endpoint with a new secret, returned here once and never again. */
export async function createEndpoint(
  db: Conn,
  key: Buffer,
  input: z.output<typeof createEndpointBody>,
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const secret = newWebhookSecret();
  const now = dbTime();
  const [id] = await db(WEBHOOK_ENDPOINTS).insert({
    url: input.url,
    description: input.description,
    enabled: input.enabled,
    events: input.events ? JSON.stringify(input.events) : null,
    secret_sealed: seal(key, secret),
    state: 'active',
    created_at: now,
    updated_at: now,
  });
  return { endpoint: await getEndpoint(db, Number(id)), secret };
}

export async function getEndpoint(db: Conn, id: number): Promise<WebhookEndpoint> {
  const row = await db(WEBHOOK_ENDPOINTS).where({ id }).first();
  if (!row) throw new NotFoundError(`webhook endpoint ${id}`);
  return fromRow(row);
}

export async function findEndpoint(db: Conn, id: number): Promise<WebhookEndpoint | null> {
  const row = await db(WEBHOOK_ENDPOINTS).where({ id }).first();
  return row ? fromRow(row) : null;
}

export async function listEndpoints(db: Conn): Promise<WebhookEndpoint[]> {
  return (await db(WEBHOOK_ENDPOINTS).orderBy('id')).map(fromRow);
}

/** The endpoint's signing secret, opened for one signature; never leaves the process. */
export async function endpointSecret(db: Conn, key: Buffer, id: number): Promise<string> {
  const row = await db(WEBHOOK_ENDPOINTS).where({ id }).first('secret_sealed');
  if (!row) throw new NotFoundError(`webhook endpoint ${id}`);
  return open<string>(key, String(row.secret_sealed));
}

export async function updateEndpoint(
  db: Conn,
  id: number,
  change: z.output<typeof updateEndpointBody>,
): Promise<WebhookEndpoint> {
  await getEndpoint(db, id);
  const update: Row = { updated_at: dbTime() };
  if (change.url !== undefined) update.url = change.url;
  if (change.description !== undefined) update.description = change.description;
  if (change.enabled !== undefined) update.enabled = change.enabled;
  if (change.events !== undefined) update.events = change.events ? JSON.stringify(change.events) : null;
  await db(WEBHOOK_ENDPOINTS).where({ id }).update(update);
  return getEndpoint(db, id);
}

/** A new secret replaces the old one at once; returned here once and never again. */
export async function rotateEndpointSecret(db: Conn, key: Buffer, id: number): Promise<string> {
  await getEndpoint(db, id);
  const secret = newWebhookSecret();
  await db(WEBHOOK_ENDPOINTS)
    .where({ id })
    .update({ secret_sealed: seal(key, secret), updated_at: dbTime() });
  return secret;
}

/** Removes the endpoint and its delivery log. */
export async function deleteEndpoint(db: Conn, id: number): Promise<void> {
  await db.transaction(async (tx) => {
    await tx('webhook_deliveries').where({ endpoint_id: id }).delete();
    const n = await tx(WEBHOOK_ENDPOINTS).where({ id }).delete();
    if (n === 0) throw new NotFoundError(`webhook endpoint ${id}`);
  });
}

/** A delivery got through: the endpoint is healthy again. */
export async function markEndpointSucceeded(db: Conn, id: number, at: Date): Promise<void> {
  await db(WEBHOOK_ENDPOINTS)
    .where({ id })
    .update({ state: 'active', failing_since: null, last_success_at: dbTime(at) });
}

/** An event could not be delivered within the window; the first such time is kept. */
export async function markEndpointFailing(db: Conn, id: number, at: Date): Promise<void> {
  await db(WEBHOOK_ENDPOINTS)
    .where({ id, state: 'active' })
    .update({ state: 'failing', failing_since: dbTime(at) });
}
