import { open, seal } from '../channels/secret-box.js';
import { type Conn, dbTime, isoTime } from '../db/connection.js';
import { notFound, ValidationError } from '../errors/domain-errors.js';

export const MAIL_INBOXES = 'mail_inboxes';
export const MAIL_MESSAGES = 'mail_messages';

/** How the connection to the IMAP server is protected. */
export type MailTls = 'tls' | 'starttls' | 'none';

/** An inbox as stored, with its password opened: never leaves the process like this. */
export interface MailInbox {
  id: number;
  name: string;
  enabled: boolean;
  host: string;
  port: number;
  tls: MailTls;
  username: string;
  password: string;
  folder: string;
  processedFolder: string;
  defaultCurrency: string | null;
  lastPollAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** What creating an inbox takes (the API's body, validated). */
export interface NewMailInbox {
  name: string;
  enabled: boolean;
  host: string;
  port?: number | undefined;
  tls: MailTls;
  username: string;
  password: string;
  folder: string;
  processedFolder: string;
  defaultCurrency?: string | null | undefined;
}

export type MailInboxPatch = Partial<NewMailInbox>;

/** An inbox as the API shows it: the password is write-only, only whether one is set is told. */
export interface MailInboxView {
  id: number;
  name: string;
  enabled: boolean;
  host: string;
  port: number;
  tls: MailTls;
  username: string;
  passwordSet: boolean;
  folder: string;
  processedFolder: string;
  defaultCurrency: string | null;
  status: {
    lastPollAt: string | null;
    lastError: { message: string; at: string | null } | null;
    messages: Record<string, number>;
  };
  createdAt: string;
  updatedAt: string;
}

/** The usual port of each kind of connection. */
const DEFAULT_PORT: Record<MailTls, number> = { tls: 993, starttls: 143, none: 143 };

function toInbox(key: Buffer, r: Record<string, unknown>): MailInbox {
  const secret = open<{ password?: string }>(key, String(r.secrets));
  return {
    id: Number(r.id),
    name: String(r.name),
    enabled: Boolean(Number(r.enabled)),
    host: String(r.host),
    port: Number(r.port),
    tls: String(r.tls) as MailTls,
    username: String(r.username),
    password: secret.password ?? '',
    folder: String(r.folder),
    processedFolder: String(r.processed_folder),
    defaultCurrency: (r.default_currency as string | null) ?? null,
    lastPollAt: isoTime(r.last_poll_at as string | null),
    lastError: (r.last_error as string | null) ?? null,
    lastErrorAt: isoTime(r.last_error_at as string | null),
    createdAt: isoTime(r.created_at as string) as string,
    updatedAt: isoTime(r.updated_at as string) as string,
  };
}

export async function getMailInbox(db: Conn, key: Buffer, id: number): Promise<MailInbox> {
  const row = await db(MAIL_INBOXES).where({ id }).first();
  if (!row) throw notFound(`mail inbox ${id}`);
  return toInbox(key, row);
}

export async function listMailInboxes(db: Conn, key: Buffer): Promise<MailInbox[]> {
  const rows = await db(MAIL_INBOXES).orderBy('id');
  return rows.map((r) => toInbox(key, r));
}

function checkFolders(folder: string, processed: string): void {
  if (folder === processed)
    throw new ValidationError(
      'invalid_settings',
      'processedFolder must differ from folder: processed messages are moved out of the folder read',
      [{ path: 'processedFolder', message: 'same as folder' }],
    );
}

export async function createMailInbox(db: Conn, key: Buffer, input: NewMailInbox): Promise<MailInbox> {
  checkFolders(input.folder, input.processedFolder);
  const now = dbTime();
  const [id] = await db(MAIL_INBOXES).insert({
    name: input.name,
    enabled: input.enabled,
    host: input.host,
    port: input.port ?? DEFAULT_PORT[input.tls],
    tls: input.tls,
    username: input.username,
    secrets: seal(key, { password: input.password }),
    folder: input.folder,
    processed_folder: input.processedFolder,
    default_currency: input.defaultCurrency ?? null,
    created_at: now,
    updated_at: now,
  });
  return getMailInbox(db, key, Number(id));
}

/**
 * Changes an inbox. A change of host, port or user name needs the password given again in the
 * same change: otherwise whoever holds the admin token could have the stored password sent to a
 * server of their own (as with channels, see `requireSecretsForNewDestination`).
 */
export async function updateMailInbox(
  db: Conn,
  key: Buffer,
  id: number,
  patch: MailInboxPatch,
): Promise<MailInbox> {
  const inbox = await getMailInbox(db, key, id);
  const changed = (['host', 'port', 'username', 'tls'] as const).filter(
    (k) => patch[k] !== undefined && patch[k] !== inbox[k],
  );
  if (changed.length > 0 && patch.password === undefined) {
    throw new ValidationError(
      'secrets_required',
      `changing ${changed.join(', ')} changes where the password goes: enter password again in the same change`,
      { changed, reenter: ['password'] },
    );
  }
  checkFolders(patch.folder ?? inbox.folder, patch.processedFolder ?? inbox.processedFolder);
  const update: Record<string, unknown> = { updated_at: dbTime() };
  if (patch.name !== undefined) update.name = patch.name;
  if (patch.enabled !== undefined) update.enabled = patch.enabled;
  if (patch.host !== undefined) update.host = patch.host;
  if (patch.tls !== undefined) update.tls = patch.tls;
  if (patch.port !== undefined) update.port = patch.port;
  else if (patch.tls !== undefined && patch.tls !== inbox.tls) update.port = DEFAULT_PORT[patch.tls];
  if (patch.username !== undefined) update.username = patch.username;
  if (patch.password !== undefined) update.secrets = seal(key, { password: patch.password });
  if (patch.folder !== undefined) update.folder = patch.folder;
  if (patch.processedFolder !== undefined) update.processed_folder = patch.processedFolder;
  if (patch.defaultCurrency !== undefined) update.default_currency = patch.defaultCurrency;
  // New settings deserve a clean slate.
  if (Object.keys(update).length > 1) {
    update.last_error = null;
    update.last_error_at = null;
  }
  await db(MAIL_INBOXES).where({ id }).update(update);
  return getMailInbox(db, key, id);
}

/** Records a poll of the inbox: when, and what went wrong (null: nothing). */
export async function recordPoll(db: Conn, id: number, error: string | null): Promise<void> {
  const now = dbTime();
  await db(MAIL_INBOXES)
    .where({ id })
    .update({
      last_poll_at: now,
      ...(error === null
        ? { last_error: null, last_error_at: null }
        : { last_error: error.slice(0, 2000), last_error_at: now }),
    });
}

export async function mailInboxView(db: Conn, inbox: MailInbox): Promise<MailInboxView> {
  const counts = (await db(MAIL_MESSAGES)
    .where({ inbox_id: inbox.id })
    .select('state')
    .count({ n: '*' })
    .groupBy('state')) as { state: string; n: number | string }[];
  return {
    id: inbox.id,
    name: inbox.name,
    enabled: inbox.enabled,
    host: inbox.host,
    port: inbox.port,
    tls: inbox.tls,
    username: inbox.username,
    passwordSet: inbox.password !== '',
    folder: inbox.folder,
    processedFolder: inbox.processedFolder,
    defaultCurrency: inbox.defaultCurrency,
    status: {
      lastPollAt: inbox.lastPollAt,
      lastError: inbox.lastError ? { message: inbox.lastError, at: inbox.lastErrorAt } : null,
      messages: Object.fromEntries(counts.map((c) => [c.state, Number(c.n)])),
    },
    createdAt: inbox.createdAt,
    updatedAt: inbox.updatedAt,
  };
}
