import { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import { z } from 'zod';
import { recordAudit } from '../audit/audit-log.js';
import { Authenticator } from '../auth/authenticator.js';
import { LoginLimiter } from '../auth/login-limiter.js';
import { CONSOLE_PATH, consoleRoutes } from '../console/console-app.js';
import { WebhookSender } from '../notify/webhooks/webhook-sender.js';
import { IntakeBatcher } from '../orders/intake-batcher.js';
import { addApiDocs } from './api-docs.js';
import type { AppDeps, AppEnv } from './env.js';
import { errorResponse, handleError } from './errors.js';
import { metricsRoutes } from './metrics-access.js';
import { bearerOrBasicAuth, principalAuth, requestContext, sameSiteWrites } from './middleware.js';
import { API_VERSION, openApiDocument, registerSecuritySchemes, routeRegistrar } from './openapi.js';
import { authPageRoutes } from './pages/auth-pages.js';
import { QUEUE_BOARD_PATH, queueBoardRoutes } from './queue-board.js';
import { auditRoutes } from './routes/audit.js';
import { catalogRoutes } from './routes/catalog.js';
import { CATALOGUE_IMPORT_PATHS, catalogueImportRoutes } from './routes/catalogue-imports.js';
import { channelRoutes } from './routes/channels.js';
import { companyRoutes } from './routes/companies.js';
import { contractRoutes } from './routes/contracts.js';
import { creditRoutes } from './routes/credit.js';
import { CUSTOMER_IMPORT_PATH, customerRoutes } from './routes/customers.js';
import { healthRoutes } from './routes/health.js';
import { importRoutes } from './routes/imports.js';
import { inboundEventRoutes } from './routes/inbound-events.js';
import { invoiceRoutes } from './routes/invoices.js';
import { jobRoutes } from './routes/jobs.js';
import { mailInboxRoutes } from './routes/mail-inboxes.js';
import { notificationRoutes } from './routes/notifications.js';
import { orderRoutes } from './routes/orders.js';
import { PAYMENT_IMPORT_PATH, paymentRoutes } from './routes/payments.js';
import { PRICE_LIST_IMPORT_PATH, priceListRoutes } from './routes/price-lists.js';
import { promotionRoutes } from './routes/promotions.js';
import { reconciliationRoutes } from './routes/reconciliation.js';
import { reportRoutes } from './routes/reports.js';
import { returnRoutes } from './routes/returns.js';
import { smsGatewayRoutes } from './routes/sms-gateways.js';
import { statementRoutes } from './routes/statements.js';
import { statusLinkRoutes, statusPageRoutes } from './routes/status-page.js';
import { stockRoutes } from './routes/stock.js';
import { taxRateRoutes } from './routes/tax-rates.js';
import { tokenRoutes } from './routes/tokens.js';
import { transferRoutes } from './routes/transfers.js';
import { userRoutes } from './routes/users.js';
import { webhookEndpointRoutes } from './routes/webhook-endpoints.js';
import { webhookRoutes } from './routes/webhooks.js';
import { sessionCookieOf } from './session-cookie.js';
import { uploadLimit } from './upload.js';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Uploaded sheets have their own, larger limit on their routes. */
const UPLOAD_PATHS: ReadonlySet<string> = new Set([
  '/api/orders/import',
  ...CATALOGUE_IMPORT_PATHS,
  CUSTOMER_IMPORT_PATH,
  PAYMENT_IMPORT_PATH,
]);
/** The console's price sheet import: the API's upload limit, as on POST /api/price-lists/{code}/import. */
const CONSOLE_PRICE_LIST_IMPORT_PATH = /^\/console\/price-lists\/[^/]+\/import$/;

/**
 * The HTTP app: health probes, /metrics, the admin API under /api behind a bearer token, and the
 * queue dashboard under /console/queues for the admin.
 */
export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();
  registerSecuritySchemes(app);
  app.use('*', requestContext({ log: deps.log }));
  const maxBody = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const defaultLimit = bodyLimit({
    maxSize: maxBody,
    onError: (c) => errorResponse(c, 413, 'payload_too_large', `request body exceeds ${maxBody} bytes`),
  });
  app.use('*', (c, next) =>
    UPLOAD_PATHS.has(c.req.path) ||
    PRICE_LIST_IMPORT_PATH.test(c.req.path) ||
    CONSOLE_PRICE_LIST_IMPORT_PATH.test(c.req.path)
      ? next()
      : defaultLimit(c, next),
  );
  const sheetLimit = uploadLimit();
  app.use('*', (c, next) => (CONSOLE_PRICE_LIST_IMPORT_PATH.test(c.req.path) ? sheetLimit(c, next) : next()));
  app.route('/', healthRoutes(deps));
  app.route('/', metricsRoutes(deps.metricsToken));
  if (deps.channels) app.route('/', webhookRoutes(deps.channels));
  // A customer's page: the token in the link is the only credential.
  if (deps.statusPage) app.route('/', statusPageRoutes(deps.db, deps.statusPage, deps.log));
  // Users' logins (README "Users, roles, tokens and audit"): the login and account pages, and who a
  // bearer token or session cookie of /api belongs to.
  const auth = new Authenticator({
    db: deps.db,
    adminToken: deps.adminToken,
    signingKey: deps.secretKey ?? deps.adminToken,
    ...(deps.auth?.tokenCacheMs === undefined ? {} : { tokenCacheMs: deps.auth.tokenCacheMs }),
  });
  const limiter = new LoginLimiter(
    deps.auth?.redis ?? deps.statusPage?.redis,
    deps.auth?.prefix ?? deps.statusPage?.prefix ?? 'stockbridge',
    deps.auth?.loginFailures,
    (err) => deps.log.debug({ err: err.message }, 'login failures counted in this process (Redis failed)'),
  );
  const publicUrl = deps.auth?.publicUrl ?? deps.statusPage?.publicUrl;
  app.route('/', authPageRoutes({ db: deps.db, auth, limiter, publicUrl }));
  const intake = deps.intake ?? new IntakeBatcher(deps.db, deps.enqueueOrders, { log: deps.log });
  // The console (README "The console"): pages for people, over the same services as the API.
  app.route(CONSOLE_PATH, consoleRoutes({ deps, intake, auth, limiter, publicUrl }));

  const api = new OpenAPIHono<AppEnv>();
  // The description of the API is public: it holds no data, and the reference page reads it.
  let document: unknown = null;
  routeRegistrar(api, { tag: 'API', entity: 'api', db: deps.db })(
    {
      method: 'get',
      path: '/openapi.json',
      access: 'public',
      operationId: 'getOpenApiDocument',
      summary: 'This document: every operation, its access, parameters, bodies and answers (OpenAPI 3.1)',
      responses: {
        200: { description: 'The OpenAPI 3.1 document', schema: z.looseObject({ openapi: z.string() }) },
      },
    },
    (c) => {
      document ??= openApiDocument(app, API_VERSION);
      return c.json(document as Record<string, unknown>);
    },
  );
  // The reference page over it, with its own assets (no CDN): public as well.
  addApiDocs(api, deps);
  api.use(
    '*',
    principalAuth({
      resolve: (token) => auth.bearer(token),
      session: async (c) => {
        const cookie = sessionCookieOf(c);
        return cookie ? auth.session(cookie) : null;
      },
    }),
  );
  api.route('/', userRoutes({ db: deps.db, auth, limiter }));
  api.route('/', tokenRoutes({ db: deps.db, auth }));
  api.route('/', auditRoutes({ db: deps.db }));
  api.route('/', catalogueImportRoutes(deps.db));
  api.route('/', catalogRoutes(deps));
  api.route('/', stockRoutes(deps));
  api.route('/', customerRoutes(deps.db));
  api.route('/', importRoutes(deps.db, intake));
  api.route('/', orderRoutes(deps, intake));
  api.route('/', returnRoutes(deps.db));
  api.route('/', taxRateRoutes(deps));
  api.route('/', priceListRoutes(deps.db));
  api.route('/', contractRoutes(deps.db));
  if (deps.scheduledJobs) api.route('/', jobRoutes(deps.db, deps.scheduledJobs));
  api.route('/', invoiceRoutes(deps));
  api.route('/', creditRoutes(deps));
  api.route('/', companyRoutes(deps.db));
  api.route('/', transferRoutes(deps.db));
  api.route('/', promotionRoutes(deps.db));
  api.route('/', paymentRoutes(deps.db));
  api.route('/', reportRoutes(deps));
  api.route('/', statementRoutes(deps));
  api.route('/', reconciliationRoutes(deps));
  if (deps.secretKey) {
    const { db, secretKey } = deps;
    api.route('/', smsGatewayRoutes({ db, secretKey }));
    const sender = new WebhookSender({ db, secretKey, log: deps.log });
    api.route('/', webhookEndpointRoutes({ db, secretKey, sender }));
  }
  api.route('/', notificationRoutes({ db: deps.db, ...deps.notifications }));
  if (deps.channels) {
    api.route('/', channelRoutes(deps.channels));
    api.route('/', inboundEventRoutes(deps.db, deps.channels));
    api.route('/', mailInboxRoutes(deps.db, deps.channels.ctx.secretKey));
  }
  if (deps.statusPage) api.route('/', statusLinkRoutes(deps.db, deps.statusPage));
  app.route('/api', api);
  if (deps.queues) {
    // Admins only: a logged-in admin user (session cookie), or an admin's token as bearer or as the
    // Basic password. The board's own scripts send no CSRF token, so its changes are guarded by
    // refusing cross-site requests (sameSiteWrites).
    const admin: MiddlewareHandler<AppEnv> = async (c, next) => {
      const cookie = c.req.header('authorization') ? undefined : sessionCookieOf(c);
      const found = cookie ? await auth.session(cookie) : null;
      if (!found) {
        // The bearer or Basic credential names the principal too (for the audit log).
        const verify = async (token: string) => {
          const p = await auth.bearer(token);
          if (p?.role !== 'admin') return false;
          c.set('principal', p);
          return true;
        };
        return bearerOrBasicAuth({ verify })(c, next);
      }
      if (found.principal.role !== 'admin') {
        return errorResponse(c, 403, 'forbidden', 'the queue dashboard is for admins');
      }
      c.set('principal', found.principal);
      await next();
    };
    // Every change made on the board (retry, remove, clean, pause, ...) is an audit entry, entity `job`.
    const boardAudit: MiddlewareHandler<AppEnv> = async (c, next) => {
      await next();
      const principal = c.get('principal');
      if (c.req.method === 'GET' || c.req.method === 'HEAD' || !principal || c.res.status >= 400) return;
      const at = c.req.path.indexOf('/api/queues/');
      await recordAudit(deps.db, {
        principal,
        method: c.req.method,
        route: c.req.path,
        operation: 'queueBoardChange',
        entity: 'job',
        entityId: at >= 0 ? c.req.path.slice(at + '/api/queues/'.length) : null,
        status: c.res.status,
        requestId: c.get('requestId'),
      }).catch((err: Error) =>
        c.get('log')?.error({ err: err.message }, 'audit entry of a queue change not written'),
      );
    };
    for (const path of [QUEUE_BOARD_PATH, `${QUEUE_BOARD_PATH}/*`]) {
      app.use(path, secureHeaders(), admin, sameSiteWrites(), boardAudit);
    }
    app.get(`${QUEUE_BOARD_PATH}/`, (c) => c.redirect(QUEUE_BOARD_PATH, 301));
    app.route(QUEUE_BOARD_PATH, queueBoardRoutes(deps.queues));
  }

  app.notFound((c) => errorResponse(c, 404, 'not_found', `no route for ${c.req.method} ${c.req.path}`));
  app.onError(handleError);
  return app;
}
