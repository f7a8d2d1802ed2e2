import { BlockList, isIP } from 'node:net';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import { scrape } from '../metrics.js';
import { errorResponse } from './errors.js';
import { safeEqual } from './middleware.js';
import { newRoutes, routeRegistrar } from './openapi.js';

/** Loopback and private networks (RFC 1918, IPv6 unique-local): who may scrape when no token is set. */
const privateNetworks = new BlockList();
privateNetworks.addSubnet('127.0.0.0', 8, 'ipv4');
privateNetworks.addSubnet('10.0.0.0', 8, 'ipv4');
privateNetworks.addSubnet('172.16.0.0', 12, 'ipv4');
privateNetworks.addSubnet('192.168.0.0', 16, 'ipv4');
privateNetworks.addAddress('::1', 'ipv6');
privateNetworks.addSubnet('fc00::', 7, 'ipv6');

/** Whether an address (IPv4, IPv6, or IPv4 mapped into IPv6) is loopback or on a private network. */
export function isPrivateAddress(address: string | undefined): boolean {
  if (!address) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const plain = mapped ? mapped[1]! : address;
  const family = isIP(plain);
  if (family === 0) return false;
  return privateNetworks.check(plain, family === 4 ? 'ipv4' : 'ipv6');
}

function remoteAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    // Not a node:http request (an in-process call): no address, so no network-based access.
    return undefined;
  }
}

/**
 * Who may read /metrics. With a token: `Authorization: Bearer <token>`, from anywhere. Without
 * one: only peers on loopback or a private network — and, when a proxy forwarded the request,
 * only if every address it names is private too (a proxy on localhost must not open metrics to
 * the internet).
 */
export function metricsAccess(token: string | undefined): MiddlewareHandler {
  return async (c, next) => {
    if (token) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
      if (!match || !safeEqual(match[1]!, token)) {
        c.header('WWW-Authenticate', 'Bearer realm="stockbridge-metrics"');
        return errorResponse(
          c,
          401,
          'unauthorized',
          match ? 'invalid metrics token' : 'missing bearer token (Authorization: Bearer <metrics token>)',
        );
      }
      return next();
    }
    const forwarded = (c.req.header('x-forwarded-for') ?? '')
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean);
    if (!isPrivateAddress(remoteAddress(c)) || !forwarded.every(isPrivateAddress)) {
      return errorResponse(
        c,
        403,
        'forbidden',
        'metrics are served to loopback and private networks only; set STOCKBRIDGE_METRICS_TOKEN to scrape from elsewhere',
      );
    }
    return next();
  };
}

/** `GET /metrics`: this process's metrics in the Prometheus text format, behind metricsAccess. */
export function metricsRoutes(token: string | undefined) {
  const app = newRoutes();
  // A public operation writes no audit entry, so the registrar never uses a database here.
  const route = routeRegistrar(app, { tag: 'Metrics', entity: 'metrics' });
  app.use('/metrics', metricsAccess(token));
  route(
    {
      method: 'get',
      path: '/metrics',
      access: 'public',
      operationId: 'getMetrics',
      summary: "This process's metrics in the Prometheus text format",
      description:
        "Not behind the API's credentials but its own check: with STOCKBRIDGE_METRICS_TOKEN set, `Authorization: Bearer <metrics token>` from anywhere; without it, only from loopback and private networks (and through proxies that name only such addresses).",
      responses: { 200: { description: 'The metrics', contentType: 'text/plain' } },
      errors: [401, 403],
    },
    async (c) => {
      const { body, contentType } = await scrape();
      return c.body(body, 200, { 'content-type': contentType, 'cache-control': 'no-store' });
    },
  );
  return app;
}
