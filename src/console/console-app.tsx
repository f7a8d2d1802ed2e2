/** @jsxImportSource hono/jsx */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { updateUser } from '../auth/user-store.js';
import { ApiError } from '../errors/api-error.js';
import type { AppEnv } from '../http/env.js';
import { newRoutes, routeRegistrar } from '../http/openapi.js';
import { localPath } from '../http/pages/auth-pages.js';
import { CSRF_HEADER, sessionCookieOf } from '../http/session-cookie.js';
import { channelPages } from './areas/channels.js';
import { customerPages } from './areas/customers.js';
import { dashboardPages } from './areas/dashboard.js';
import { inboundEventPages } from './areas/inbound-events.js';
import { jobPages } from './areas/jobs.js';
import { orderPages } from './areas/orders.js';
import { reconciliationPages } from './areas/reconciliation.js';
import { settingsPages } from './areas/settings.js';
import { stockPages } from './areas/stock.js';
import { asset } from './assets.js';
import { type ConsoleDeps, HTML, render, viewer } from './context.js';
import { FORM_UPLOAD, readForm } from './forms.js';
import { COMMON } from './texts.js';

/** The console lives here; the queue dashboard (Bull Board) below it has its own guard. */
export const CONSOLE_PATH = '/console';
const OWN_GUARD = ['/console/queues', '/console/assets/'];

const digest = (v: string) => createHash('sha256').update(v).digest();

/** The CSRF token of a console change: `X-CSRF-Token`, else the form's `_csrf` (urlencoded or multipart). */
async function presentedToken(c: Context): Promise<string | null> {
  const header = c.req.header(CSRF_HEADER);
  if (header) return header;
  const type = c.req.header('content-type') ?? '';
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) return null;
  const form = await c.req.parseBody({ all: true }).catch(() => null);
  const field = form?._csrf;
  return typeof field === 'string' ? field : null;
}

/**
 * The console's pages (README "The console"): server-rendered with hono/jsx, in zh-CN and en, for
 * logged-in users; each page and form is a `route()` declaration (role check, audit entry, OpenAPI).
 */
export function consoleRoutes(cd: ConsoleDeps) {
  const app = newRoutes();
  const { auth } = cd;

  // Who is asking: an API token (scripts), else the session cookie; not logged in: to the login.
  const guard: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (OWN_GUARD.some((p) => c.req.path === p || c.req.path.startsWith(p.endsWith('/') ? p : `${p}/`)))
      return next();
    const header = c.req.header('authorization') ?? '';
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (bearer) {
      const principal = await auth.bearer(bearer[1]!);
      if (!principal)
        return c.json({ error: { code: 'unauthorized', message: 'invalid bearer token' } }, 401);
      c.set('principal', principal);
      return next();
    }
    const cookie = sessionCookieOf(c);
    const found = cookie ? await auth.session(cookie) : null;
    if (!found) {
      if (c.req.method === 'GET' || c.req.method === 'HEAD') {
        const url = new URL(c.req.url);
        return c.redirect(`/login?next=${encodeURIComponent(`${url.pathname}${url.search}`)}`, 303);
      }
      return c.json({ error: { code: 'unauthorized', message: 'not logged in; log in again' } }, 401);
    }
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      const presented = await presentedToken(c);
      if (!presented || !timingSafeEqual(digest(presented), digest(found.session.csrfToken))) {
        return c.json(
          {
            error: {
              code: 'csrf_failed',
              message: 'the form is missing its CSRF token, or it is not this session’s; open the page again',
            },
          },
          403,
        );
      }
    }
    c.set('principal', found.principal);
    c.set('session', found.session);
    return next();
  };

  // Error answers (a role that may not, a thing not found, a refused change) as pages.
  const htmlErrors: MiddlewareHandler<AppEnv> = async (c, next) => {
    await next();
    if (c.res.status < 400 || !(c.res.headers.get('content-type') ?? '').includes('json')) return;
    if (c.req.path.startsWith('/console/queues')) return;
    const body = (await c.res
      .clone()
      .json()
      .catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    const status = c.res.status;
    const { t } = viewer(c);
    const message =
      status === 403 && body?.error?.code === 'forbidden'
        ? `${t.forbidden} ${body.error.message ?? ''}`
        : (body?.error?.message ?? (status === 404 ? t.notFound : ''));
    const retry = c.res.headers.get('retry-after');
    c.res = undefined as unknown as Response;
    if (retry) c.header('Retry-After', retry);
    c.res = await render(
      c,
      { title: t.errorTitle(status), status: status as 400 },
      <>
        <h1>{t.errorTitle(status)}</h1>
        <section class="card">
          <p role="alert">{message}</p>
          <p>
            <a href="/console">{t.errorHome}</a>
          </p>
        </section>
      </>,
    );
  };

  const headers: MiddlewareHandler<AppEnv> = async (c, next) => {
    await next();
    if (c.req.path.startsWith('/console/queues')) return;
    if (!c.req.path.startsWith('/console/assets/')) c.header('Cache-Control', 'no-store');
    c.header('X-Frame-Options', 'DENY');
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'same-origin');
    c.header(
      'Content-Security-Policy',
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    c.header('Vary', 'Accept-Language, Cookie');
  };

  app.use('*', headers, htmlErrors, guard);

  const route = routeRegistrar(app, { tag: 'Console', entity: 'user', db: cd.deps.db });

  route(
    {
      method: 'get',
      path: '/assets/:name',
      access: 'public',
      operationId: 'consoleAsset',
      summary: "The console's style sheet and scripts",
      params: z.object({ name: z.string().max(64).describe('asset name') }),
      responses: {
        200: { description: 'The file', contentType: 'text/css' },
      },
      errors: [404],
    },
    (c, { params }) => {
      const found = asset(params.name);
      if (!found) throw new ApiError(404, 'not_found', `no asset ${params.name}`);
      c.header('Cache-Control', 'public, max-age=300');
      return c.body(found.body, 200, { 'content-type': found.type });
    },
  );

  const languageForm = z.object({
    locale: z.enum(['zh-CN', 'en']).nullable().describe('the language of your pages; empty: the browser’s'),
    back: z.string().max(2000).optional(),
  });
  route(
    {
      method: 'post',
      path: '/language',
      access: 'read',
      operationId: 'consoleSetLanguage',
      summary: 'Your pages’ language (zh-CN or en), kept with your user',
      upload: FORM_UPLOAD,
      responses: {
        303: { description: 'Set: back to the page it was changed on' },
        422: { description: 'Not a language the console has', contentType: HTML },
      },
    },
    async (c) => {
      const form = await readForm(c, languageForm);
      const principal = c.get('principal')!;
      if (!form.ok) {
        const { t } = viewer(c);
        return render(
          c,
          { title: t.language, status: 422, error: Object.values(form.errors).flat().join(' ') },
          <h1>{t.language}</h1>,
        );
      }
      if (principal.userId !== null)
        await updateUser(cd.deps.db, principal.userId, { locale: form.data.locale });
      return c.redirect(localPath(form.data.back) ?? '/console', 303);
    },
  );

  for (const area of [
    dashboardPages,
    orderPages,
    stockPages,
    channelPages,
    inboundEventPages,
    customerPages,
    jobPages,
    reconciliationPages,
    settingsPages,
  ]) {
    app.route('/', area(cd));
  }
  return app;
}

/** The words of the console (for tests and other modules). */
export { COMMON };
