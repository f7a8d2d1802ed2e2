import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import type { ChannelService } from '../../channels/channel-service.js';
import { errorBodySchema, newRoutes, routeRegistrar } from '../openapi.js';
import { idParam } from '../params.js';

/** The default answer to a verified delivery (a connector may shape its own). */
const webhookReceiptSchema = z
  .object({
    status: z.enum(['accepted', 'duplicate', 'ignored']),
    eventId: z.number().int().optional().describe('the stored event (not when ignored)'),
    topic: z.string().optional().describe('the topic nothing was stored for (when ignored)'),
  })
  .meta({ id: 'WebhookReceipt' });

/**
 * `POST /webhooks/{channelId}`: no bearer token (the channel signs the body instead). The body is
 * read as raw bytes, because the signature is over exactly those bytes.
 */
export function webhookRoutes(channels: ChannelService) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Webhooks', entity: 'channel', db: channels.ctx.db });

  route(
    {
      method: 'post',
      path: '/webhooks/:id',
      access: 'public',
      operationId: 'receiveChannelWebhook',
      summary: "A channel's webhook delivery",
      description:
        'No bearer token: the channel\'s own signature over the raw body is its credential. The delivery is stored durably and applied by a worker. A connector may shape the 200 answer the way its platform expects (e.g. `{"code":0,"msg":"success"}`, or plain text).',
      params: z.object({ id: idParam.describe('channel id') }),
      upload: {
        contentTypes: ['application/json'],
        description: "The channel's payload, exactly as it signed it",
      },
      responses: {
        200: {
          description:
            "Taken (or already known, or ignored); by default `{status, eventId}`, else the connector's own reply",
          schema: z.union([
            webhookReceiptSchema,
            z.record(z.string(), z.unknown()).describe("the connector's own reply"),
          ]),
        },
        401: { description: 'The signature is missing or wrong', schema: errorBodySchema },
        404: { description: 'No enabled channel with this id takes webhooks', schema: errorBodySchema },
      },
    },
    async (c, { params }) => {
      const raw = Buffer.from(await c.req.arrayBuffer());
      const headers: Record<string, string> = {};
      c.req.raw.headers.forEach((value, name) => {
        headers[name.toLowerCase()] = value;
      });
      const result = await channels.receiveWebhook(params.id, raw, headers);
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
    },
  );

  return app;
}
