import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { Logger } from 'pino';
import { errorResponse } from './errors.js';
import { metricsRoutes } from './metrics-access.js';

export interface MetricsServer {
  /** The port actually bound (e.g. when asked for port 0). */
  port: number;
  close(): Promise<void>;
}

/**
 * The small HTTP server of worker and scheduler processes (`STOCKBRIDGE_METRICS_PORT`): `/metrics`
 * (same access rules as on the api) and `/healthz`, nothing else.
 */
export async function startMetricsServer(options: {
  port: number;
  host: string;
  token: string | undefined;
  log: Logger;
}): Promise<MetricsServer> {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.route('/', metricsRoutes(options.token));
  app.notFound((c) => errorResponse(c, 404, 'not_found', `no route for ${c.req.method} ${c.req.path}`));
  let port = 0;
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port, hostname: options.host }, (info) => {
      port = info.port;
      resolve(s);
    });
    s.once('error', reject);
  });
  options.log.info({ port, host: options.host }, 'metrics listening');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
      }),
  };
}
