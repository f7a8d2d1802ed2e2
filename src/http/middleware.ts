import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { Principal } from '../auth/roles.js';
import type { AppEnv } from './env.js';
import { errorResponse } from './errors.js';
import { csrfMatches } from './session-cookie.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time comparison of two secrets of any length. */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

export interface BearerAuthOptions {
  /** Decides whether a presented token is valid. */
  verify: (token: string) => boolean | Promise<boolean>;
  realm?: string;
}

/** Requires `Authorization: Bearer <token>`; anything else is 401 in the common error shape. */
export function bearerAuth({ verify, realm = 'stockbridge' }: BearerAuthOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match || !(await verify(match[1]!))) {
      c.header('WWW-Authenticate', `Bearer realm="${realm}"`);
      return errorResponse(
        c,
        401,
        'unauthorized',
        match ? 'invalid bearer token' : 'missing bearer token (Authorization: Bearer <token>)',
      );
    }
    await next();
  };
}

export interface PrincipalAuthOptions {
  /** Who a bearer token belongs to, or null when it is not valid (unknown, revoked, expired). */
  resolve: (token: string, c: Context<AppEnv>) => Principal | null | Promise<Principal | null>;
  /**
   * Who a session cookie belongs to (the console's login), with the session's CSRF token; absent:
   * bearer tokens only.
   */
  session?: (
    c: Context<AppEnv>,
  ) => Promise<{ principal: Principal; session: NonNullable<AppEnv['Variables']['session']> } | null>;
  realm?: string;
}

/**
 * Requires `Authorization: Bearer <token>` naming a principal (the bootstrap admin token or an API
 * token), or else a session cookie; sets `principal` for the role check each operation makes. A
 * session's changes (any method but GET/HEAD) must carry its CSRF token (`X-CSRF-Token`, or a
 * form's `_csrf` field): 403 otherwise. Anything else is 401 in the common error shape.
 */
export function principalAuth({
  resolve,
  session,
  realm = 'stockbridge',
}: PrincipalAuthOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!header && session) {
      const found = await session(c);
      if (found) {
        if (
          c.req.method !== 'GET' &&
          c.req.method !== 'HEAD' &&
          !(await csrfMatches(c, found.session.csrfToken))
        ) {
          return errorResponse(
            c,
            403,
            'csrf_failed',
            'a change made with a session must carry its CSRF token (X-CSRF-Token header or _csrf form field)',
          );
        }
        c.set('principal', found.principal);
        c.set('session', found.session);
        return next();
      }
    }
    const principal = match ? await resolve(match[1]!, c) : null;
    if (!principal) {
      c.header('WWW-Authenticate', `Bearer realm="${realm}"`);
      return errorResponse(
        c,
        401,
        'unauthorized',
        match ? 'invalid bearer token' : 'missing bearer token (Authorization: Bearer <token>)',
      );
    }
    c.set('principal', principal);
    await next();
  };
}

/**
 * The admin check for pages a browser opens (the queue dashboard): a bearer token as for /api,
 * or HTTP Basic auth with the token as the password (any user name), since a browser cannot send
 * a bearer header but does ask for and keep a Basic login. A refusal asks for Basic, so the
 * browser shows its login box.
 */
export function bearerOrBasicAuth({
  verify,
  realm = 'stockbridge',
}: BearerAuthOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    let token: string | null = bearer ? bearer[1]! : null;
    if (basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      token = colon >= 0 ? decoded.slice(colon + 1) : null;
    }
    if (token === null || !(await verify(token))) {
      c.header('WWW-Authenticate', `Basic realm="${realm}", charset="UTF-8"`);
      return errorResponse(
        c,
        401,
        'unauthorized',
        header
          ? 'invalid credentials'
          : 'missing credentials (Authorization: Bearer <admin token>, or Basic with the admin token as password)',
      );
    }
    await next();
  };
}

/**
 * Refuses a change (any method but GET/HEAD) that a browser sent from another site. A browser
 * sends a Basic login it remembers with any request to the site, even one a foreign page makes it
 * send, so a page that takes Basic auth must not let other sites change things through it. Uses
 * `Sec-Fetch-Site` where the browser sends it, else compares `Origin` with `Host`; clients that
 * send neither (curl, scripts with a bearer token) are not browsers and pass.
 */
export function sameSiteWrites(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const site = c.req.header('sec-fetch-site');
    const origin = c.req.header('origin');
    let foreign = site !== undefined && site !== 'same-origin' && site !== 'none';
    if (site === undefined && origin !== undefined) {
      let originHost: string | null = null;
      try {
        originHost = new URL(origin).host;
      } catch {
        // "null" or garbage: not this site.
      }
      foreign = originHost === null || originHost !== c.req.header('host');
    }
    if (foreign) {
      return errorResponse(
        c,
        403,
        'forbidden',
        'changes are accepted from this site only (cross-site request refused)',
      );
    }
    await next();
  };
}

/** A request path as logged: a customer's status link is a secret, so its token is left out. */
export const loggedPath = (path: string) => path.replace(/^\/status\/[^/]+/, '/status/[redacted]');

export interface RequestContextOptions {
  log: Logger;
}

/** Gives each request an id (echoed as X-Request-Id) and a child logger; logs one line per request at info. */
export function requestContext({ log }: RequestContextOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    const child = log.child({ requestId });
    c.set('requestId', requestId);
    c.set('log', child);
    const started = performance.now();
    await next();
    c.header('X-Request-Id', requestId);
    const status = c.res.status;
    const entry = {
      method: c.req.method,
      path: loggedPath(c.req.path),
      status,
      ms: Math.round(performance.now() - started),
    };
    // One line per request: what was asked, the answer, how long it took (requestId from the child).
    if (status >= 500) child.error(entry, 'request failed');
    else child.info(entry, 'request');
  };
}
