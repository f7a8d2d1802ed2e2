import { createHash, randomBytes } from 'node:crypto';
import { type Conn, dbTime, isoTime } from '../db/connection.js';
import { notFound } from '../errors/domain-errors.js';
import type { Role } from './roles.js';

export const API_TOKENS = 'api_tokens';

/** What every token starts with, so a leaked one is recognisable (secret scanners, logs). */
export const TOKEN_MARK = 'sbt_';
/** Characters of a token kept in clear to tell tokens apart in lists: `sbt_` and 8 more. */
const PREFIX_LENGTH = 12;

/** The stored form of a token: SHA-256, hex. Tokens carry 256 random bits, so no slow hash is needed. */
export const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

/** An API token as lists show it: never the secret, nor its hash. */
export interface ApiToken {
  id: number;
  name: string;
  role: Role;
  /** The user the token acts for; null for a service token. */
  userId: number | null;
  /** The first characters of the token, to recognise it. */
  prefix: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  createdAt: string;
  createdBy: string;
}

interface TokenRow {
  id: number;
  name: string;
  role: string;
  user_id: number | null;
  prefix: string;
  last_used_at: string | null;
  revoked_at: string | null;
  created_at: string;
  created_by: string;
}

const tokenOf = (r: TokenRow): ApiToken => ({
  id: Number(r.id),
  name: r.name,
  role: r.role as Role,
  userId: r.user_id === null ? null : Number(r.user_id),
  prefix: r.prefix,
  lastUsedAt: isoTime(r.last_used_at),
  revokedAt: isoTime(r.revoked_at),
  createdAt: isoTime(r.created_at) ?? '',
  createdBy: r.created_by,
});

const COLUMNS = [
  'id',
  'name',
  'role',
  'user_id',
  'prefix',
  'last_used_at',
  'revoked_at',
  'created_at',
  'created_by',
];

export interface NewToken {
  name: string;
  role: Role;
  userId: number | null;
  createdBy: string;
  /** The user who makes it; null with the bootstrap admin token. */
  creatorUserId?: number | null;
}

/** Makes a token; the secret is in the answer only, the database keeps its hash. */
export async function createToken(db: Conn, input: NewToken): Promise<{ token: string; record: ApiToken }> {
  const token = `${TOKEN_MARK}${randomBytes(32).toString('base64url')}`;
  const [id] = await db(API_TOKENS).insert({
    name: input.name,
    role: input.role,
    user_id: input.userId,
    token_hash: tokenHash(token),
    prefix: token.slice(0, PREFIX_LENGTH),
    created_at: dbTime(),
    created_by: input.createdBy.slice(0, 255),
    creator_user_id: input.creatorUserId ?? null,
  });
  return { token, record: (await getToken(db, Number(id))) as ApiToken };
}

export async function getToken(db: Conn, id: number): Promise<ApiToken | null> {
  const row = (await db(API_TOKENS).where({ id }).first(COLUMNS)) as TokenRow | undefined;
  return row ? tokenOf(row) : null;
}

/** One page of tokens, newest first; `userId` limits it to one user's (undefined: every token). */
export async function listTokens(
  db: Conn,
  { userId, beforeId, limit }: { userId?: number | undefined; beforeId: number | null; limit: number },
): Promise<{ items: ApiToken[]; nextId: number | null }> {
  const q = db(API_TOKENS)
    .select(COLUMNS)
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (userId !== undefined) q.where({ user_id: userId });
  if (beforeId !== null) q.where('id', '<', beforeId);
  const rows = (await q) as TokenRow[];
  const items = rows.slice(0, limit).map(tokenOf);
  return { items, nextId: rows.length > limit ? (items[items.length - 1]?.id ?? null) : null };
}

/** Revokes a token (once; revoking again changes nothing). Returns it as it is now. */
export async function revokeToken(db: Conn, id: number): Promise<ApiToken> {
  await db(API_TOKENS).where({ id }).whereNull('revoked_at').update({ revoked_at: dbTime() });
  const token = await getToken(db, id);
  if (!token) throw notFound(`token ${id}`);
  return token;
}

/** What a presented token stands for, with its user's current state; null when unknown or revoked. */
export interface TokenHolder {
  id: number;
  name: string;
  role: Role;
  userId: number | null;
  userEmail: string | null;
  userRole: Role | null;
  userDisabled: boolean;
  userLocale: string | null;
  /** The user who made it (null: the bootstrap admin token), their role now and whether disabled. */
  creatorUserId: number | null;
  creatorRole: Role | null;
  creatorDisabled: boolean;
}

export async function findActiveToken(db: Conn, token: string): Promise<TokenHolder | null> {
  const row = (await db(`${API_TOKENS} as t`)
    .leftJoin('users as u', 'u.id', 't.user_id')
    .leftJoin('users as cu', 'cu.id', 't.creator_user_id')
    .where('t.token_hash', tokenHash(token))
    .whereNull('t.revoked_at')
    .first(
      't.id',
      't.name',
      't.role',
      't.user_id',
      'u.email',
      'u.role as user_role',
      'u.disabled',
      'u.locale',
      't.creator_user_id',
      'cu.role as creator_role',
      'cu.disabled as creator_disabled',
    )) as
    | {
        id: number;
        name: string;
        role: string;
        user_id: number | null;
        email: string | null;
        user_role: string | null;
        disabled: number | boolean | null;
        locale: string | null;
        creator_user_id: number | null;
        creator_role: string | null;
        creator_disabled: number | boolean | null;
      }
    | undefined;
  if (!row) return null;
  return {
    id: Number(row.id),
    name: row.name,
    role: row.role as Role,
    userId: row.user_id === null ? null : Number(row.user_id),
    userEmail: row.email,
    userRole: (row.user_role as Role | null) ?? null,
    userDisabled: Boolean(row.disabled),
    userLocale: row.locale,
    creatorUserId: row.creator_user_id === null ? null : Number(row.creator_user_id),
    creatorRole: (row.creator_role as Role | null) ?? null,
    creatorDisabled: Boolean(row.creator_disabled),
  };
}

/**
 * Notes that a token was used, at most once a minute (guarded in the database, so several
 * processes write it once a minute between them too).
 */
export async function touchToken(db: Conn, id: number, now = new Date()): Promise<void> {
  const minuteAgo = dbTime(new Date(now.getTime() - 60_000));
  await db(API_TOKENS)
    .where({ id })
    .andWhere((q) => q.whereNull('last_used_at').orWhere('last_used_at', '<', minuteAgo))
    .update({ last_used_at: dbTime(now) });
}
