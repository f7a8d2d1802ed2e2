import type { Context } from 'hono';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Db } from '../../db/connection.js';
import { ORDER_STATUSES } from '../../domain/order-status.js';
import { statusJson } from '../../notify/status-json.js';
import { renderStatusNotFound, renderStatusPage, STATUS_PAGE_CSP } from '../../notify/status-page.js';
import { acceptedLanguage, statusLanguageOf } from '../../notify/status-texts.js';
import { orderOfStatusToken, revokeStatusLink, statusLinkFor } from '../../notify/status-token.js';
import { orderStatusView } from '../../notify/status-view.js';
import { clientAddress } from '../client-address.js';
import { errorResponse } from '../errors.js';
import {
  type FailureLimiter,
  type FailureLimitOptions,
  failingOver,
  memoryFailureLimiter,
  redisFailureLimiter,
} from '../failure-limiter.js';
import { errorBodySchema, newRoutes, routeRegistrar } from '../openapi.js';
import { idParam } from '../params.js';

const isoTime = z.string().describe('UTC, ISO 8601');
const orderStatus = z.enum(ORDER_STATUSES);

const orderStatusPageSchema = z
  .object({
    language: z.enum(['zh-CN', 'en']),
    orderNumber: z.string(),
    placedAt: isoTime,
    status: z.object({ code: orderStatus, label: z.string(), description: z.string() }),
    lines: z.array(
      z.object({
        lineNo: z.number().int(),
        sku: z.string(),
        name: z.string().nullable(),
        ordered: z.number().int(),
        ready: z.number().int().describe('reserved for the order, not yet shipped'),
        backordered: z.number().int(),
        shipped: z.number().int(),
        cancelled: z.number().int(),
        state: z.enum(['processing', 'ready', 'backordered', 'partially_shipped', 'shipped', 'cancelled']),
        stateLabel: z.string(),
      }),
    ),
    backordered: z.array(
      z.object({
        lineNo: z.number().int(),
        sku: z.string(),
        name: z.string().nullable(),
        ordered: z.number().int(),
        waiting: z.number().int().describe('units still waiting for stock'),
        state: z.enum(['waiting_for_stock', 'partly_available']),
        stateLabel: z.string(),
      }),
    ),
    shipments: z.array(
      z.object({
        shippedAt: isoTime,
        carrier: z.string().nullable().describe('our carrier code (`sf`, `ups`, ...), `other`, or null'),
        carrierName: z.string().nullable().describe('in the chosen language'),
        trackingNumber: z.string().nullable(),
        trackingUrl: z.string().nullable(),
        lines: z.array(
          z.object({ sku: z.string(), name: z.string().nullable(), quantity: z.number().int() }),
        ),
      }),
    ),
    timeline: z.array(z.object({ status: orderStatus, label: z.string(), at: isoTime })),
  })
  .meta({ id: 'OrderStatusPage' });

const statusLinkSchema = z
  .object({
    orderId: z.number().int(),
    url: z.string().describe("the customer's link; it is the only credential"),
  })
  .meta({ id: 'OrderStatusLink' });

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
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Status page', entity: 'order', db });

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

  route(
    {
      method: 'get',
      path: '/status/:token',
      access: 'public',
      operationId: 'getOrderStatusPage',
      summary: "An order's status for its customer (HTML, or JSON with `Accept: application/json`)",
      description:
        "The token in the link is the only credential. Language: `lang`, else the order's contact language, else Accept-Language. Wrong links are counted per client and answered 429 beyond the limit.",
      params: z.object({ token: z.string().describe('status token') }),
      query: z.object({ lang: z.string().optional().describe('`zh-CN` or `en`') }),
      // Read by the handler: every bad link gets the same 404 page, counted after the rate limit.
      parse: false,
      responses: {
        200: {
          description: 'The status page (text/html), or its content as JSON when only JSON is accepted',
          schema: orderStatusPageSchema,
        },
        400: { description: '`lang` is not zh-CN or en', schema: errorBodySchema },
        404: {
          description:
            'No order status at this link (malformed, tampered, revoked, or the order is gone); an HTML page unless only JSON is accepted',
          schema: errorBodySchema,
        },
        429: {
          description: 'Too many wrong links from this client; `Retry-After` says when to try again',
          schema: errorBodySchema,
        },
      },
    },
    async (c) => {
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
      const orderId = await orderOfStatusToken(db, deps.secretKey, c.req.param('token') ?? '');
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
    },
  );

  return app;
}

/** The admin's side, under /api: an order's status link, and revoking it (a new link replaces it). */
export function statusLinkRoutes(db: Db, deps: StatusPageDeps) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Orders', entity: 'order', db });
  const orderParams = z.object({ id: idParam.describe('order id') });

  // Not `read`: it reveals the customer's link, and makes (and stores) one when the order has none.
  route(
    {
      method: 'get',
      path: '/orders/:id/status-link',
      access: 'operate',
      operationId: 'getOrderStatusLink',
      summary: "An order's status link for its customer (made on first use)",
      params: orderParams,
      responses: { 200: { description: 'The link', schema: statusLinkSchema } },
      errors: [404],
    },
    async (c, { params }) => c.json({ orderId: params.id, url: await statusLinkFor(db, deps, params.id) }),
  );

  route(
    {
      method: 'post',
      path: '/orders/:id/status-link/revoke',
      access: 'operate',
      operationId: 'revokeOrderStatusLink',
      summary: 'Revoke every status link sent for an order; answers with the new one',
      params: orderParams,
      responses: { 200: { description: 'The new link', schema: statusLinkSchema } },
      errors: [404],
    },
    async (c, { params }) => c.json({ orderId: params.id, url: await revokeStatusLink(db, deps, params.id) }),
  );

  return app;
}
