/** @jsxImportSource hono/jsx */
import { randomBytes } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { recordAudit } from '../../audit/audit-log.js';
import type { Authenticator } from '../../auth/authenticator.js';
import type { LoginLimiter } from '../../auth/login-limiter.js';
import { AUTH_TEXTS, pageLocale } from '../../auth/page-texts.js';
import { decoyHash, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, verifyPassword } from '../../auth/passwords.js';
import type { Principal, Role } from '../../auth/roles.js';
import {
  createSession,
  deleteSession,
  deleteStaleSessions,
  deleteUserSessions,
  endOtherSessions,
  SESSION_MAX_MS,
} from '../../auth/session-store.js';
import { findUserByEmail, passwordHashOf, requireUser, updateUser, userOf } from '../../auth/user-store.js';
import type { Db } from '../../db/connection.js';
import { ApiError } from '../../errors/api-error.js';
import { clientAddress } from '../client-address.js';
import type { AppEnv } from '../env.js';
import { newRoutes, routeRegistrar } from '../openapi.js';
import {
  clearSessionCookie,
  csrfMatches,
  LOGIN_CSRF_COOKIE,
  sessionCookieOf,
  setSessionCookie,
  wantsSecure,
} from '../session-cookie.js';
import { AccountPage, LoginPage } from './auth-views.js';

export interface AuthPagesDeps {
  db: Db;
  auth: Authenticator;
  limiter: LoginLimiter;
  /** STOCKBRIDGE_PUBLIC_URL: when https, cookies are `Secure` even behind a plain-http proxy hop. */
  publicUrl?: string | undefined;
}

const FORM = 'application/x-www-form-urlencoded';
const HTML = 'text/html';

/** `next` after a login: a path on this site only (`/x`, never `//host` or `https://host`). */
export function localPath(next: unknown): string | null {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) {
    return null;
  }
  if ([...next].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f) || next.length > 2000) {
    return null;
  }
  try {
    const u = new URL(next, 'http://stockbridge.invalid');
    const path = `${u.pathname}${u.search}${u.hash}`;
    // Checked again after normalisation: `/.//evil.com` and `/a/..//evil.com` become `//evil.com`.
    if (u.origin !== 'http://stockbridge.invalid' || path.startsWith('//') || path.startsWith('/\\'))
      return null;
    return path;
  } catch {
    return null;
  }
}

const field = (form: Record<string, unknown>, name: string) => {
  const v = form[name];
  return typeof v === 'string' ? v : '';
};

/** The console's entry: `/login`, `/logout`, `/account` (README "Users, roles, tokens and audit"). */
export function authPageRoutes({ db, auth, limiter, publicUrl }: AuthPagesDeps) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Console login', entity: 'session', db });
  const secure = (c: Context) => wantsSecure(c, publicUrl);
  const texts = (c: Context<AppEnv>) =>
    AUTH_TEXTS[pageLocale(c.get('principal')?.locale, c.req.header('accept-language'))];

  // Only on these pages: the routes are mounted at the root, where `*` would be every path.
  const headers: MiddlewareHandler<AppEnv> = async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
    c.header('X-Frame-Options', 'DENY');
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'same-origin');
    c.header('Vary', 'Accept-Language, Cookie');
  };
  for (const path of ['/login', '/logout', '/account', '/account/*']) app.use(path, headers);

  // The pages of a logged-in user: the session cookie, and on a change its CSRF token.
  const session: MiddlewareHandler<AppEnv> = async (c, next) => {
    const cookie = sessionCookieOf(c);
    const found = cookie ? await auth.session(cookie) : null;
    if (!found) {
      if (c.req.method === 'GET') return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 303);
      throw new ApiError(401, 'unauthorized', 'not logged in');
    }
    if (c.req.method !== 'GET' && !(await csrfMatches(c, found.session.csrfToken))) {
      throw new ApiError(
        403,
        'csrf_failed',
        'the form is missing its CSRF token, or it is not this session’s',
      );
    }
    c.set('principal', found.principal);
    c.set('session', found.session);
    await next();
  };
  for (const path of ['/logout', '/account', '/account/*']) app.use(path, session);

  // Before a login there is no session: the form's token is also kept in a signed cookie (double submit).
  const loginCsrf = (c: Context) => {
    const existing = getCookie(c, LOGIN_CSRF_COOKIE);
    if (existing) {
      const [token, sig] = existing.split('.');
      if (token && sig && auth.verify('login', token, sig)) return token;
    }
    const token = randomBytes(24).toString('base64url');
    setCookie(c, LOGIN_CSRF_COOKIE, `${token}.${auth.sign('login', token)}`, {
      httpOnly: true,
      sameSite: 'Lax',
      secure: secure(c),
      path: '/login',
      maxAge: 3600,
    });
    return token;
  };
  const loginCsrfValid = (c: Context, presented: string) => {
    const cookie = getCookie(c, LOGIN_CSRF_COOKIE) ?? '';
    const [token, sig] = cookie.split('.');
    return Boolean(
      token && sig && presented && auth.verify('login', token, sig) && auth.verify('login', presented, sig),
    );
  };

  route(
    {
      method: 'get',
      path: '/login',
      access: 'public',
      operationId: 'showLogin',
      summary: 'The login page',
      tags: ['Console login'],
      responses: { 200: { description: 'The login form', contentType: HTML } },
    },
    (c) => {
      const t = texts(c);
      return c.html(<LoginPage t={t} csrf={loginCsrf(c)} next={localPath(c.req.query('next'))} />);
    },
  );

  route(
    {
      method: 'post',
      path: '/login',
      access: 'public',
      operationId: 'login',
      summary: 'Log in: sets the session cookie and goes to `next` (a local path) or /account',
      upload: { contentTypes: [FORM], description: 'email, password, _csrf (from the form), next' },
      responses: {
        303: { description: 'Logged in; the cookie is set' },
        401: { description: 'Wrong e-mail or password: the form again, with the reason', contentType: HTML },
        429: {
          description: 'Too many failures: the form with the reason; Retry-After in seconds',
          contentType: HTML,
        },
      },
      errors: [403, 415],
    },
    async (c) => {
      if (!(c.req.header('content-type') ?? '').toLowerCase().startsWith(FORM)) {
        throw new ApiError(415, 'unsupported_media_type', `the login takes ${FORM}`);
      }
      const form = (await c.req.parseBody()) as Record<string, unknown>;
      if (!loginCsrfValid(c, field(form, '_csrf'))) {
        throw new ApiError(403, 'csrf_failed', 'the login form is missing its CSRF token; open /login again');
      }
      const t = texts(c);
      const email = field(form, 'email').trim().slice(0, 191);
      const password = field(form, 'password').slice(0, MAX_PASSWORD_LENGTH + 1);
      const next = localPath(field(form, 'next'));
      const address = clientAddress(c);
      const again = (status: 401 | 429, error: string) =>
        c.html(
          <LoginPage t={t} csrf={field(form, '_csrf')} next={next} email={email} error={error} />,
          status,
        );

      const wait = await limiter.attempt(address, email);
      if (wait > 0) {
        c.header('Retry-After', String(wait));
        return again(429, t.blocked(wait));
      }
      const row = email ? await findUserByEmail(db, email) : null;
      const ok = await verifyPassword(row?.password_hash ?? (await decoyHash()), password);
      const user = row ? userOf(row) : null;
      if (!user || !ok || user.disabled) {
        // The attempt was counted before the password was checked: it stays counted.
        // Only a known address is named: what someone typed into the field may be a password.
        await audit(c, db, 'loginFailed', 401, {
          kind: 'session',
          role: (user?.role ?? 'none') as Role,
          userId: user?.id ?? null,
          tokenId: null,
          actor: user?.email ?? 'unknown address',
        });
        return again(401, t.wrongLogin);
      }
      await limiter.succeeded(address, email);
      await deleteStaleSessions(db);
      const created = await createSession(db, user.id);
      setSessionCookie(c, auth.cookieValue(created.secret), Math.floor(SESSION_MAX_MS / 1000), secure(c));
      deleteCookie(c, LOGIN_CSRF_COOKIE, { path: '/login' });
      await audit(c, db, 'login', 303, {
        kind: 'session',
        role: user.role,
        userId: user.id,
        tokenId: null,
        actor: user.email,
      });
      return c.redirect(next ?? '/account', 303);
    },
  );

  route(
    {
      method: 'post',
      path: '/logout',
      access: 'read',
      operationId: 'logout',
      summary: 'Log out: ends this session',
      upload: { contentTypes: [FORM], description: '_csrf' },
      responses: { 303: { description: 'Logged out; to /login' } },
    },
    async (c) => {
      await deleteSession(db, c.get('session')!.id);
      clearSessionCookie(c, secure(c));
      return c.redirect('/login', 303);
    },
  );

  route(
    {
      method: 'get',
      path: '/account',
      access: 'read',
      operationId: 'showAccount',
      summary: 'Your account: change password, log out everywhere',
      responses: {
        200: { description: 'The account page', contentType: HTML },
        303: { description: 'Not logged in: to /login' },
      },
    },
    async (c) => {
      const user = await requireUser(db, c.get('principal')!.userId!);
      const t = texts(c);
      const notice = c.req.query('changed') === '1' ? t.passwordChanged : undefined;
      return c.html(<AccountPage t={t} user={user} csrf={c.get('session')!.csrfToken} notice={notice} />);
    },
  );

  route(
    {
      method: 'post',
      path: '/account/password',
      access: 'read',
      operationId: 'changePasswordForm',
      summary: 'Change your password (your other sessions end)',
      upload: { contentTypes: [FORM], description: 'currentPassword, newPassword, _csrf' },
      responses: {
        303: { description: 'Changed; back to /account' },
        422: {
          description: 'Wrong current password or a too short new one: the page again',
          contentType: HTML,
        },
        429: {
          description:
            'Too many wrong passwords (the login limit of your e-mail and address): the page with the reason; Retry-After in seconds',
          contentType: HTML,
        },
      },
      audit: { entity: 'user' },
    },
    async (c) => {
      const form = (await c.req.parseBody()) as Record<string, unknown>;
      const s = c.get('session')!;
      const user = await requireUser(db, s.userId);
      const t = texts(c);
      const again = (error: string, status: 422 | 429 = 422) =>
        c.html(<AccountPage t={t} user={user} csrf={s.csrfToken} error={error} />, status);
      // Wrong current passwords count like failed logins (someone at an open session guessing).
      const address = clientAddress(c);
      const wait = await limiter.attempt(address, user.email);
      if (wait > 0) {
        c.header('Retry-After', String(wait));
        return again(t.blocked(wait), 429);
      }
      const stored = await passwordHashOf(db, s.userId);
      if (
        !stored ||
        !(await verifyPassword(stored, field(form, 'currentPassword').slice(0, MAX_PASSWORD_LENGTH)))
      ) {
        return again(t.wrongCurrent);
      }
      await limiter.succeeded(address, user.email);
      const fresh = field(form, 'newPassword');
      if (fresh.length < MIN_PASSWORD_LENGTH || fresh.length > MAX_PASSWORD_LENGTH) {
        return again(t.weakPassword(MIN_PASSWORD_LENGTH));
      }
      await updateUser(db, s.userId, { password: fresh });
      await endOtherSessions(db, s.userId, s.id);
      return c.redirect('/account?changed=1', 303);
    },
  );

  route(
    {
      method: 'post',
      path: '/account/logout-everywhere',
      access: 'read',
      operationId: 'logoutEverywhereForm',
      summary: 'Log out everywhere: ends every session of yours',
      upload: { contentTypes: [FORM], description: '_csrf' },
      responses: { 303: { description: 'Logged out everywhere; to /login' } },
    },
    async (c) => {
      await deleteUserSessions(db, c.get('session')!.userId);
      clearSessionCookie(c, secure(c));
      return c.redirect('/login', 303);
    },
  );

  return app;
}

/** Logins and failed logins in the audit log, as entity `session`. */
async function audit(c: Context<AppEnv>, db: Db, operation: string, status: number, principal: Principal) {
  await recordAudit(db, {
    principal,
    method: 'POST',
    route: '/login',
    operation,
    entity: 'session',
    entityId: principal.userId === null ? null : String(principal.userId),
    status,
    requestId: c.get('requestId'),
  }).catch((err: Error) => c.get('log')?.error({ err: err.message }, 'audit entry of a login not written'));
}
