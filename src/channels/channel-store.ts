import { type Conn, dbTime, isoTime } from '../db/connection.js';
import { open, seal } from './secret-box.js';

export const CHANNELS = 'channels';
export const CHANNEL_SKUS = 'channel_skus';

/** A channel as stored, with its settings decrypted: never leaves the process like this. */
export interface Channel {
  id: number;
  type: string;
  name: string;
  enabled: boolean;
  /** Validated settings, secret fields included. */
  settings: Record<string, unknown>;
  pullCursor: string | null;
  lastPullAt: string | null;
  nextPullAt: string | null;
  lastPushAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  failingReason: string | null;
  failingSince: string | null;
  createdAt: string;
  updatedAt: string;
}

/** How orders of a channel are named in `orders.channel` and `inbound_events.channel`: `shopify:3`. */
export const channelKey = (c: Pick<Channel, 'type' | 'id'>) => `${c.type}:${c.id}`;

/** Splits settings into what is stored in clear and the secret fields, sealed. */
export function splitSettings(
  key: Buffer,
  settings: Record<string, unknown>,
  secretFields: readonly string[],
): { settings: string; secrets: string } {
  const plain: Record<string, unknown> = {};
  const secret: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(settings)) {
    if (secretFields.includes(k)) secret[k] = v;
    else plain[k] = v;
  }
  return { settings: JSON.stringify(plain), secrets: seal(key, secret) };
}

function toChannel(key: Buffer, r: Record<string, unknown>): Channel {
  const plain = JSON.parse(String(r.settings)) as Record<string, unknown>;
  const secret = open<Record<string, unknown>>(key, String(r.secrets));
  return {
    id: Number(r.id),
    type: String(r.type),
    name: String(r.name),
    enabled: Boolean(Number(r.enabled)),
    settings: { ...plain, ...secret },
    pullCursor: (r.pull_cursor as string | null) ?? null,
    lastPullAt: isoTime(r.last_pull_at as string | null),
    nextPullAt: isoTime(r.next_pull_at as string | null),
    lastPushAt: isoTime(r.last_push_at as string | null),
    lastError: (r.last_error as string | null) ?? null,
    lastErrorAt: isoTime(r.last_error_at as string | null),
    failingReason: (r.failing_reason as string | null) ?? null,
    failingSince: isoTime(r.failing_since as string | null),
    createdAt: isoTime(r.created_at as string) as string,
    updatedAt: isoTime(r.updated_at as string) as string,
  };
}

export async function findChannel(db: Conn, key: Buffer, id: number): Promise<Channel | null> {
  const row = await db(CHANNELS).where({ id }).first();
  return row ? toChannel(key, row) : null;
}

export async function listChannels(db: Conn, key: Buffer): Promise<Channel[]> {
  const rows = await db(CHANNELS).orderBy('id');
  return rows.map((r) => toChannel(key, r));
}

/** Records an error on the channel (shown in its status); `failing` also stops pulls and pushes. */
export async function recordChannelError(
  db: Conn,
  id: number,
  message: string,
  options: { failing?: boolean } = {},
): Promise<void> {
  const now = dbTime();
  const update: Record<string, unknown> = { last_error: message.slice(0, 2000), last_error_at: now };
  if (options.failing) {
    update.failing_reason = message.slice(0, 255);
    update.failing_since = db.raw('COALESCE(failing_since, ?)', [now]);
  }
  await db(CHANNELS).where({ id }).update(update);
}

/** The channel works again (a pull, push or test succeeded): no longer failing. */
export async function clearChannelFailing(db: Conn, id: number): Promise<void> {
  await db(CHANNELS).where({ id }).whereNotNull('failing_reason').update({
    failing_reason: null,
    failing_since: null,
  });
}
