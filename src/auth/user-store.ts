import { type Conn, dbTime, isoTime } from '../db/connection.js';
import { conflict, notFound } from '../errors/domain-errors.js';
import { checkNewPassword, hashPassword } from './passwords.js';
import type { Role } from './roles.js';

export const USERS = 'users';
export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

/** A user as the API shows it (never the password hash). */
export interface User {
  id: number;
  email: string;
  name: string;
  role: Role;
  /** The language of pages; null: the browser's (Accept-Language). */
  locale: Locale | null;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface UserRow {
  id: number;
  email: string;
  name: string;
  role: string;
  password_hash: string;
  locale: string;
  disabled: number | boolean;
  created_at: string | Date;
  updated_at: string | Date;
}

const timeOf = (v: string | Date) => isoTime(v instanceof Date ? dbTime(v) : v) ?? '';

export const userOf = (r: UserRow): User => ({
  id: Number(r.id),
  email: r.email,
  name: r.name,
  role: r.role as Role,
  locale: r.locale === 'en' || r.locale === 'zh-CN' ? r.locale : null,
  disabled: Boolean(r.disabled),
  createdAt: timeOf(r.created_at),
  updatedAt: timeOf(r.updated_at),
});

/** E-mail addresses are kept lower-cased, so the unique index is case-insensitive everywhere. */
export const normalEmail = (email: string) => email.trim().toLowerCase();

export interface NewUser {
  email: string;
  name?: string | undefined;
  role: Role;
  password: string;
  locale?: Locale | undefined;
}

export async function createUser(db: Conn, input: NewUser): Promise<User> {
  checkNewPassword(input.password);
  const email = normalEmail(input.email);
  const now = dbTime();
  const passwordHash = await hashPassword(input.password);
  try {
    const [id] = await db(USERS).insert({
      email,
      name: input.name?.trim() || email,
      role: input.role,
      password_hash: passwordHash,
      // '' is "the browser's language" (the column predates that choice and is NOT NULL).
      locale: input.locale ?? '',
      disabled: false,
      created_at: now,
      updated_at: now,
    });
    return (await getUser(db, Number(id))) as User;
  } catch (err) {
    if (/duplicate|unique/i.test((err as Error).message)) {
      throw conflict('email_taken', `a user with the e-mail ${email} exists`);
    }
    throw err;
  }
}

export async function getUser(db: Conn, id: number): Promise<User | null> {
  const row = (await db(USERS).where({ id }).first()) as UserRow | undefined;
  return row ? userOf(row) : null;
}

export async function requireUser(db: Conn, id: number): Promise<User> {
  const user = await getUser(db, id);
  if (!user) throw notFound(`user ${id}`);
  return user;
}

/** The user with this address, with its password hash (for the login). */
export async function findUserByEmail(db: Conn, email: string): Promise<UserRow | null> {
  return (
    ((await db(USERS)
      .where({ email: normalEmail(email) })
      .first()) as UserRow | undefined) ?? null
  );
}

export async function passwordHashOf(db: Conn, id: number): Promise<string | null> {
  const row = (await db(USERS).where({ id }).first('password_hash')) as { password_hash: string } | undefined;
  return row?.password_hash ?? null;
}

/** One page of users, newest first (`beforeId`: the cursor's id). */
export async function listUsers(
  db: Conn,
  { beforeId, limit }: { beforeId: number | null; limit: number },
): Promise<{ items: User[]; nextId: number | null }> {
  const q = db(USERS)
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (beforeId !== null) q.where('id', '<', beforeId);
  const rows = (await q) as UserRow[];
  const items = rows.slice(0, limit).map(userOf);
  return { items, nextId: rows.length > limit ? (items[items.length - 1]?.id ?? null) : null };
}

export interface UserChange {
  name?: string | undefined;
  role?: Role | undefined;
  /** null: the browser's language. */
  locale?: Locale | null | undefined;
  disabled?: boolean | undefined;
  password?: string | undefined;
}

/** Changes a user; a new password is hashed here. Returns the user as it is now. */
export async function updateUser(db: Conn, id: number, change: UserChange): Promise<User> {
  await requireUser(db, id);
  const patch: Record<string, unknown> = { updated_at: dbTime() };
  if (change.name !== undefined) patch.name = change.name.trim();
  if (change.role !== undefined) patch.role = change.role;
  if (change.locale !== undefined) patch.locale = change.locale ?? '';
  if (change.disabled !== undefined) patch.disabled = change.disabled;
  if (change.password !== undefined) {
    checkNewPassword(change.password);
    patch.password_hash = await hashPassword(change.password);
  }
  await db(USERS).where({ id }).update(patch);
  return requireUser(db, id);
}
