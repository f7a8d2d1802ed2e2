import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ChannelService } from '../../channels/channel-service.js';
import type { AppEnv } from '../env.js';
import { parseParam } from '../errors.js';
import { idParam } from '../params.js';

/**
 * `POST /webhooks/{channelId}`: no bearer token (the channel signs the body instead). The body is
 * read as raw bytes, because the signature is over exactly those bytes.
 */
export function webhookRoutes(channels: ChannelService) {
  const app = new Hono<AppEnv>();
  app.post('/webhooks/:id', async (c) => {
    const id = parseParam(idParam, c.req.param('id'), 'channel id');
    const raw = Buffer.from(await c.req.arrayBuffer());
    const headers: Record<string, string> = {};
    c.req.raw.headers.forEach((value, name) => {
      headers[name.toLowerCase()] = value;
    });
    const result = await channels.receiveWebhook(id, raw, headers);
    const status = result.status as ContentfulStatusCode;
    if (typeof result.body === 'string') {
      return c.body(result.body, status, {
        'content-type': result.contentType ?? 'text/plain; charset=utf-8',
      });
    }
    if (result.contentType) {
      return c.body(JSON.stringify(result.body), status, { 'content-type': result.contentType });
    }
    return c.json(result.body, status);
  });
  return app;
}
