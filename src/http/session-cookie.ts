import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';

/** The console's login cookie: a random secret and its HMAC; HttpOnly, SameSite=Lax. */
export const SESSION_COOKIE = 'stockbridge_session';
/** Before a login: the signed CSRF token of the login form (double submit). */
export const LOGIN_CSRF_COOKIE = 'stockbridge_login_csrf';
/** The header a session's change carries its CSRF token in (forms send the `_csrf` field). */
export const CSRF_HEADER = 'x-csrf-token';

/** Cookies are `Secure` when the request came over https or the daemon's public URL is https. */
export function wantsSecure(c: Context, publicUrl: string | undefined): boolean {
  const proto = new URL(c.req.url).protocol;
  return proto === 'https:' || (publicUrl ?? '').startsWith('https:');
}

export function setSessionCookie(c: Context, value: string, maxAgeSeconds: number, secure: boolean) {
  setCookie(c, SESSION_COOKIE, value, {
    httpOnly: true,
    sameSite: 'Lax',
    secure,
    path: '/',
    maxAge: maxAgeSeconds,
  });
}

export function clearSessionCookie(c: Context, secure: boolean) {
  deleteCookie(c, SESSION_COOKIE, { httpOnly: true, sameSite: 'Lax', secure, path: '/' });
}

export const sessionCookieOf = (c: Context) => getCookie(c, SESSION_COOKIE);

/**
 * Whether a body may carry `_csrf`: urlencoded forms only (our pages' forms). A multipart body is an
 * upload — reading it here would take in the whole file before the route's upload limit — so an
 * upload made with a session must send `X-CSRF-Token`.
 */
const isForm = (c: Context) =>
  /^application\/x-www-form-urlencoded/i.test(c.req.header('content-type') ?? '');

/**
 * The CSRF token a request carries: the `X-CSRF-Token` header, else a urlencoded form's `_csrf`
 * field. Reading the form here leaves it readable for the handler (Hono keeps the parsed body).
 */
export async function presentedCsrf(c: Context): Promise<string | null> {
  const header = c.req.header(CSRF_HEADER);
  if (header) return header;
  if (!isForm(c)) return null;
  const form = await c.req.parseBody().catch(() => null);
  const field = form?._csrf;
  return typeof field === 'string' ? field : null;
}

/** Whether the request carries the expected CSRF token (constant-time). */
export async function csrfMatches(c: Context, expected: string): Promise<boolean> {
  const presented = await presentedCsrf(c);
  const digest = (v: string) => createHash('sha256').update(v).digest();
  return presented !== null && timingSafeEqual(digest(presented), digest(expected));
}
