import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { IntakeBatcher } from '../orders/intake-batcher.js';
import type { AppDeps, AppEnv } from './env.js';
import { errorResponse, handleError } from './errors.js';
import { bearerAuth, requestContext, safeEqual } from './middleware.js';
import { catalogRoutes } from './routes/catalog.js';
import { CATALOGUE_IMPORT_PATHS, catalogueImportRoutes } from './routes/catalogue-imports.js';
import { channelRoutes } from './routes/channels.js';
import { healthRoutes } from './routes/health.js';
import { importRoutes } from './routes/imports.js';
import { inboundEventRoutes } from './routes/inbound-events.js';
import { orderRoutes } from './routes/orders.js';
import { PRICE_LIST_IMPORT_PATH, priceListRoutes } from './routes/price-lists.js';
import { stockRoutes } from './routes/stock.js';
import { webhookRoutes } from './routes/webhooks.js';

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Uploaded sheets have their own, larger limit on their routes. */
const UPLOAD_PATHS: ReadonlySet<string> = new Set(['/api/orders/import', ...CATALOGUE_IMPORT_PATHS]);

/** The HTTP app: health probes, and the admin API under /api behind a bearer token. */
export function createApp(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.use('*', requestContext({ log: deps.log }));
  const maxBody = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const defaultLimit = bodyLimit({
    maxSize: maxBody,
    onError: (c) => errorResponse(c, 413, 'payload_too_large', `request body exceeds ${maxBody} bytes`),
  });
  app.use('*', (c, next) =>
    UPLOAD_PATHS.has(c.req.path) || PRICE_LIST_IMPORT_PATH.test(c.req.path) ? next() : defaultLimit(c, next),
  );
  app.route('/', healthRoutes(deps));
  if (deps.channels) app.route('/', webhookRoutes(deps.channels));

  const api = new Hono<AppEnv>();
  api.use('*', bearerAuth({ verify: (token) => safeEqual(token, deps.adminToken) }));
  api.route('/', catalogueImportRoutes(deps.db));
  api.route('/', catalogRoutes(deps));
  api.route('/', stockRoutes(deps));
  const intake = deps.intake ?? new IntakeBatcher(deps.db, deps.enqueueOrders, { log: deps.log });
  api.route('/', importRoutes(deps.db, intake));
  api.route('/', orderRoutes(deps, intake));
  api.route('/', priceListRoutes(deps.db));
  if (deps.channels) {
    api.route('/', channelRoutes(deps.channels));
    api.route('/', inboundEventRoutes(deps.db, deps.channels));
  }
  app.route('/api', api);

  app.notFound((c) => errorResponse(c, 404, 'not_found', `no route for ${c.req.method} ${c.req.path}`));
  app.onError(handleError);
  return app;
}
