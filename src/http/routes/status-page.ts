import type { Context } from 'hono';
import { Hono } from 'hono';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Db } from '../../db/connection.js';
import { statusJson } from '../../notify/status-json.js';
import { renderStatusNotFound, renderStatusPage, STATUS_PAGE_CSP } from '../../notify/status-page.js';
import { acceptedLanguage, statusLanguageOf } from '../../notify/status-texts.js';
import { orderOfStatusToken, revokeStatusLink, statusLinkFor } from '../../notify/status-token.js';
import { orderStatusView } from '../../notify/status-view.js';
import { clientAddress } from '../client-address.js';
import type { AppEnv } from '../env.js';
import { errorResponse, parseParam } from '../errors.js';
import {
  type FailureLimiter,
  type FailureLimitOptions,
  failingOver,
  memoryFailureLimiter,
  redisFailureLimiter,
} from '../failure-limiter.js';
import { idParam } from '../params.js';

export interface StatusPageDeps {
  /** STOCKBRIDGE_SECRET_KEY: status tokens are HMACs under a key derived from it. */
  secretKey: Buffer;
  /** Where customers reach the daemon (STOCKBRIDGE_PUBLIC_URL): the base of status links. */
  publicUrl: string;
  /** Counts wrong links per client across processes; without it, per process. */
  redis?: Redis | Cluster;
  /** Prefix of the Redis keys (the queue prefix). Default `stockbridge`. */
  prefix?: string;
  /** Wrong links a client may try per window (default 20 per 15 minutes). */
  failures?: FailureLimitOptions;
}

const wantsJson = (c: Context) => {
  const accept = c.req.header('accept') ?? '';
  return /\bapplication\/json\b/i.test(accept) && !/\btext\/html\b/i.test(accept);
};

/** `GET /status/{token}`: an order's status for its customer, outside the admin API's auth. */
export function statusPageRoutes(db: Db, deps: StatusPageDeps, log?: Logger) {
  const prefix = `${deps.prefix ?? 'stockbridge'}:status-failures`;
  const memory = memoryFailureLimiter(deps.failures);
  const limiter: FailureLimiter = deps.redis
    ? failingOver(redisFailureLimiter(deps.redis, prefix, deps.failures), memory, (err) =>
        log?.debug({ err: err.message }, 'status page: wrong links counted in this process (Redis failed)'),
      )
    : memory;
  const app = new Hono<AppEnv>();

  app.use('/status/*', async (c, next) => {
    await next();
    // On every answer, the 404 and 429 too: a link is a secret, so nothing of it is kept or passed on.
    c.header('Cache-Control', 'no-store');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('X-Robots-Tag', 'noindex, nofollow');
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Content-Security-Policy', STATUS_PAGE_CSP);
    c.header('Vary', 'Accept, Accept-Language');
  });

  app.get('/status/:token', async (c) => {
    const client = clientAddress(c);
    const wait = await limiter.blockedFor(client);
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      return errorResponse(c, 429, 'rate_limited', `too many wrong status links; try again in ${wait} s`);
    }
    const langParam = c.req.query('lang');
    const override = langParam === undefined ? null : statusLanguageOf(langParam);
    if (langParam !== undefined && !override) {
      return errorResponse(c, 400, 'invalid_parameter', 'lang must be zh-CN or en');
    }
    const orderId = await orderOfStatusToken(db, deps.secretKey, c.req.param('token'));
    const view = orderId === null ? null : await orderStatusView(db, orderId);
    if (!view) {
      await limiter.fail(client);
      // The same answer whatever was wrong: malformed, tampered, revoked, or an order that is gone.
      return wantsJson(c)
        ? errorResponse(c, 404, 'not_found', 'no order status at this link')
        : c.html(await renderStatusNotFound(), 404);
    }
    const lang =
      override ??
      statusLanguageOf(view.contactLanguage) ??
      acceptedLanguage(c.req.header('accept-language')) ??
      'en';
    if (wantsJson(c)) return c.json(statusJson(view, lang));
    return c.html(await renderStatusPage(view, lang));
  });

  return app;
}

/** The admin's side, under /api: an order's status link, and revoking it (a new link replaces it). */
export function statusLinkRoutes(db: Db, deps: StatusPageDeps) {
  const app = new Hono<AppEnv>();
  app.get('/orders/:id/status-link', async (c) => {
    const id = parseParam(idParam, c.req.param('id'), 'order id');
    return c.json({ orderId: id, url: await statusLinkFor(db, deps, id) });
  });
  app.post('/orders/:id/status-link/revoke', async (c) => {
    const id = parseParam(idParam, c.req.param('id'), 'order id');
    return c.json({ orderId: id, url: await revokeStatusLink(db, deps, id) });
  });
  return app;
}
