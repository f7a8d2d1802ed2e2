import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Queue } from 'bullmq';
import { Hono, type MiddlewareHandler } from 'hono';

/** Where the queue dashboard is mounted. */
export const QUEUE_BOARD_PATH = '/console/queues';

/**
 * Bull Board over the daemon's queues: jobs by state, retry and remove failed jobs. Its page,
 * scripts and styles come from @bull-board/ui in node_modules, served by the daemon (no CDN: the
 * page's link to Google Fonts is taken out).
 * Mount it behind admin auth: anyone reaching it can retry, remove or add jobs.
 */
export function queueBoardRoutes(queues: readonly Queue[], basePath = QUEUE_BOARD_PATH) {
  const adapter = new HonoAdapter(serveStatic);
  adapter.setBasePath(basePath);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q)),
    // @bull-board/hono carries its own copy of @bull-board/api (one patch release apart), whose
    // types are nominally distinct; at run time the adapter only receives what this one hands it.
    serverAdapter: adapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
    options: { uiConfig: { boardTitle: 'stockbridge queues' } },
  });
  const app = new Hono();
  app.use('*', keepPageLocal);
  app.route('/', adapter.registerPlugin());
  return app;
}

/** Bull Board's page links Google Fonts; the daemon serves no page that loads from a CDN (system fonts instead). */
const FONT_LINK = /<link[^>]+href="https:\/\/fonts\.(?:googleapis|gstatic)\.com[^>]*>\s*/g;

const keepPageLocal: MiddlewareHandler = async (c, next) => {
  await next();
  if (!c.res.headers.get('content-type')?.startsWith('text/html')) return;
  const html = (await c.res.text()).replace(FONT_LINK, '');
  c.res = new Response(html, { status: c.res.status, headers: c.res.headers });
};
