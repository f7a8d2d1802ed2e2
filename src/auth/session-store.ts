import { createHash, randomBytes } from 'node:crypto';
import { type Conn, dbTime } from '../db/connection.js';
import type { Role } from './roles.js';

export const USER_SESSIONS = 'user_sessions';

/** A session ends this long after it was last used... */
export const SESSION_IDLE_MS = 12 * 3600_000;
/** ...and at the latest this long after the login. */
export const SESSION_MAX_MS = 7 * 24 * 3600_000;
/** `last_seen_at` is written at most this often per session. */
const SEEN_EVERY_MS = 60_000;

const hashOf = (secret: string) => createHash('sha256').update(secret).digest('hex');

export interface NewSession {
  /** The secret the cookie carries; the database keeps its hash only. */
  secret: string;
  csrfToken: string;
  expiresAt: Date;
}

export async function createSession(db: Conn, userId: number, now = new Date()): Promise<NewSession> {
  const secret = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  const expiresAt = new Date(now.getTime() + SESSION_MAX_MS);
  await db(USER_SESSIONS).insert({
    id_hash: hashOf(secret),
    user_id: userId,
    csrf_token: csrfToken,
    created_at: dbTime(now),
    expires_at: dbTime(expiresAt),
    last_seen_at: dbTime(now),
  });
  return { secret, csrfToken, expiresAt };
}

/** A live session with its user, as a request needs it. */
export interface ActiveSession {
  id: number;
  userId: number;
  csrfToken: string;
  email: string;
  name: string;
  role: Role;
  locale: string;
}

/**
 * The session a cookie's secret names, if it is live: not expired, used within the idle time, and
 * its user not disabled. Notes the use (at most once a minute).
 */
export async function findSession(db: Conn, secret: string, now = new Date()): Promise<ActiveSession | null> {
  const row = (await db(`${USER_SESSIONS} as s`)
    .join('users as u', 'u.id', 's.user_id')
    .where('s.id_hash', hashOf(secret))
    .where('s.expires_at', '>', dbTime(now))
    .where('s.last_seen_at', '>', dbTime(new Date(now.getTime() - SESSION_IDLE_MS)))
    .where('u.disabled', false)
    .first(
      's.id',
      's.user_id',
      's.csrf_token',
      's.last_seen_at',
      'u.email',
      'u.name',
      'u.role',
      'u.locale',
    )) as
    | {
        id: number;
        user_id: number;
        csrf_token: string;
        last_seen_at: string;
        email: string;
        name: string;
        role: string;
        locale: string;
      }
    | undefined;
  if (!row) return null;
  if (String(row.last_seen_at) < dbTime(new Date(now.getTime() - SEEN_EVERY_MS))) {
    await db(USER_SESSIONS)
      .where({ id: row.id })
      .update({ last_seen_at: dbTime(now) });
  }
  return {
    id: Number(row.id),
    userId: Number(row.user_id),
    csrfToken: row.csrf_token,
    email: row.email,
    name: row.name,
    role: row.role as Role,
    locale: row.locale,
  };
}

export async function deleteSession(db: Conn, id: number): Promise<void> {
  await db(USER_SESSIONS).where({ id }).delete();
}

/** Logs a user out everywhere: every session of theirs ends. Returns how many there were. */
export async function deleteUserSessions(db: Conn, userId: number): Promise<number> {
  return db(USER_SESSIONS).where({ user_id: userId }).delete();
}

/** Removes sessions that can no longer be used (housekeeping on login). */
export async function deleteStaleSessions(db: Conn, now = new Date()): Promise<number> {
  return db(USER_SESSIONS)
    .where('expires_at', '<=', dbTime(now))
    .orWhere('last_seen_at', '<=', dbTime(new Date(now.getTime() - SESSION_IDLE_MS)))
    .delete();
}

/** Ends a user's sessions but the one in use (after a password change). */
export async function endOtherSessions(db: Conn, userId: number, keep: number | null): Promise<number> {
  const q = db(USER_SESSIONS).where({ user_id: userId });
  if (keep !== null) q.whereNot({ id: keep });
  return q.delete();
}
