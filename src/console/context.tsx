/** @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Child } from 'hono/jsx';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Authenticator } from '../auth/authenticator.js';
import type { LoginLimiter } from '../auth/login-limiter.js';
import { type Access, allows } from '../auth/roles.js';
import { ApiError } from '../errors/api-error.js';
import type { DomainError } from '../errors/domain-errors.js';
import type { AppDeps, AppEnv } from '../http/env.js';
import { domainStatus } from '../http/errors.js';
import type { ResponseSpec } from '../http/openapi.js';
import type { IntakeBatcher } from '../orders/intake-batcher.js';
import { Layout, type NavKey } from './components.js';
import { COMMON, localeOf } from './texts.js';

/** What the console's pages are given: the same services the API's routes use. */
export interface ConsoleDeps {
  deps: AppDeps;
  /** The durable intake the API's order routes use (phone orders go through it too). */
  intake: IntakeBatcher;
  auth: Authenticator;
  limiter: LoginLimiter;
  publicUrl?: string | undefined;
}

export const HTML = 'text/html';

/** The answers of a console page (for its route declaration). */
export const PAGE: Record<number, ResponseSpec> = {
  200: { description: 'The page', contentType: HTML },
  303: { description: 'Not logged in: to /login' },
};

/**
 * The answers of a console form: 303 back to a page after the change, or the page again with the
 * problems beside their fields (422) or the reason the change was refused (409).
 */
export const FORM_ANSWERS: Record<number, ResponseSpec> = {
  303: { description: 'Done: to the page that shows the result' },
  409: { description: 'Refused in the current state: the page again, saying why', contentType: HTML },
  422: { description: 'Not valid: the form again, every problem beside its field', contentType: HTML },
};

/** The page's reader: their language, texts, CSRF token and what their role may do. */
export function viewer(c: Context<AppEnv>) {
  const locale = localeOf(c);
  const principal = c.get('principal');
  return {
    locale,
    t: COMMON[locale],
    csrf: c.get('session')?.csrfToken ?? '',
    principal,
    /** Whether the reader's role may use an operation of this access (buttons are shown only then). */
    can: (access: Access) => Boolean(principal && allows(principal.role, access)),
  };
}

const FLASH_COOKIE = 'stockbridge_flash';

/** A message for the next page the reader sees (after the 303 of a change). */
export function setFlash(c: Context, kind: 'notice' | 'error', text: string) {
  setCookie(c, FLASH_COOKIE, Buffer.from(JSON.stringify({ kind, text })).toString('base64url'), {
    httpOnly: true,
    sameSite: 'Lax',
    path: '/console',
    maxAge: 120,
  });
}

function takeFlash(c: Context): { kind: 'notice' | 'error'; text: string } | null {
  const raw = getCookie(c, FLASH_COOKIE);
  if (!raw) return null;
  deleteCookie(c, FLASH_COOKIE, { path: '/console' });
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as {
      kind?: unknown;
      text?: unknown;
    };
    if ((v.kind === 'notice' || v.kind === 'error') && typeof v.text === 'string') {
      return { kind: v.kind, text: v.text.slice(0, 500) };
    }
  } catch {
    // a cookie we did not write: ignored
  }
  return null;
}

export interface PageOptions {
  title: string;
  nav?: NavKey;
  /** Area scripts (`addScript`) the page loads. */
  scripts?: string[];
  status?: ContentfulStatusCode;
  /** An error to show at the top of the page, instead of (or besides) a flash message. */
  error?: string | undefined;
}

/** Renders a page in the console's layout (navigation, language, flash message). */
export function render(c: Context<AppEnv>, options: PageOptions, body: Child) {
  const v = viewer(c);
  const flash = options.error ? { kind: 'error' as const, text: options.error } : takeFlash(c);
  const principal = v.principal;
  const url = new URL(c.req.url);
  return c.html(
    <Layout
      locale={v.locale}
      title={options.title}
      nav={options.nav}
      user={{ actor: principal?.actor ?? '', role: principal?.role ?? 'viewer', locale: principal?.locale }}
      csrf={v.csrf}
      flash={flash}
      scripts={options.scripts ?? []}
      path={`${url.pathname}${url.search}`}
    >
      {body}
    </Layout>,
    options.status ?? 200,
  );
}

/**
 * What a failed change means for the person: its status and message (and per-field details), for
 * errors the API would also answer with a 4xx/502; null for anything else (rethrow it).
 */
export function errorOf(
  err: unknown,
): { status: 400 | 404 | 409 | 422 | 502; code: string; message: string; details?: unknown } | null {
  if (err instanceof ApiError) {
    if ([400, 404, 409, 422, 502].includes(err.status)) {
      return {
        status: err.status as 400 | 404 | 409 | 422 | 502,
        code: err.code,
        message: err.message,
        details: err.details,
      };
    }
    return null;
  }
  const status = domainStatus(err);
  if (status === null) return null;
  const e = err as DomainError;
  return { status, code: e.code, message: e.message, details: e.details };
}

/** After a change: back to a page (303), with a message. */
export function doneTo(c: Context, path: string, notice?: string) {
  if (notice) setFlash(c, 'notice', notice);
  return c.redirect(path, 303);
}
