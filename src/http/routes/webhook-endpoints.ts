import { z } from 'zod';
import type { Db } from '../../db/connection.js';
import { NotFoundError } from '../../errors/domain-errors.js';
import { listDeliveries } from '../../notify/webhooks/delivery-store.js';
import {
  createEndpoint,
  createEndpointBody,
  deleteEndpoint,
  getEndpoint,
  listEndpoints,
  rotateEndpointSecret,
  updateEndpoint,
  updateEndpointBody,
} from '../../notify/webhooks/endpoint-store.js';
import type { WebhookSender } from '../../notify/webhooks/webhook-sender.js';
import { newRoutes, routeRegistrar } from '../openapi.js';
import { nextCursor, pageQuery, readCursor } from '../pagination.js';
import { idParam } from '../params.js';

const deliveriesQuery = z.object(pageQuery).strict();

const time = z.string().describe('UTC, ISO 8601');

const endpointFields = {
  id: z.number().int(),
  url: z
    .string()
    .describe('its user name, password and query string masked (`***`): they may be credentials'),
  description: z.string(),
  enabled: z.boolean(),
  events: z
    .array(z.string())
    .nullable()
    .describe('the events it receives (`order.*` for a family); null: all'),
  state: z.enum(['active', 'failing']),
  failingSince: time.nullable(),
  lastSuccessAt: time.nullable(),
  createdAt: time,
  updatedAt: time,
};

/** An endpoint as answered after its creation: never with its signing secret. */
const webhookEndpoint = z.object(endpointFields).strict().meta({ id: 'WebhookEndpoint' });

const signingSecret = z
  .string()
  .describe('the signing secret: answered here once, never again (store it now)');

const createdEndpoint = z
  .object({ ...endpointFields, secret: signingSecret })
  .strict()
  .meta({ id: 'WebhookEndpointCreated' });

const webhookDelivery = z
  .object({
    id: z.number().int(),
    endpointId: z.number().int(),
    messageId: z.string().describe('the `webhook-id` sent; the same on every attempt of one message'),
    notificationId: z.number().int().nullable(),
    event: z.string(),
    trigger: z.enum(['dispatch', 'redeliver']),
    redeliveryOf: z.number().int().nullable(),
    outcome: z.enum(['sent', 'failed']),
    statusCode: z.number().int().nullable(),
    durationMs: z.number(),
    responseBody: z.string().nullable().describe('the start of what the endpoint answered'),
    error: z.string().nullable(),
    retryAt: time.nullable(),
    attemptedAt: time,
  })
  .meta({ id: 'WebhookDelivery' });

const endpointParams = z.object({ id: idParam.describe('endpoint id') });

const MASK = '***';

/**
 * An endpoint's URL as shown in answers and the audit log: its userinfo and query string may be
 * credentials (`https://user:pass@…`, `?token=…`), so they are masked; the stored URL is kept whole.
 */
export function maskedUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return MASK;
  }
  if (u.username) u.username = MASK;
  if (u.password) u.password = MASK;
  const query = u.search ? `?${MASK}` : '';
  u.search = '';
  u.hash = '';
  return `${u.toString()}${query}`;
}

const masked = <T extends { url: string }>(endpoint: T): T => ({ ...endpoint, url: maskedUrl(endpoint.url) });
const maskedRequest = (body: unknown) =>
  body && typeof body === 'object' && typeof (body as { url?: unknown }).url === 'string'
    ? masked(body as { url: string })
    : body;

/**
 * Outbound webhook endpoints (`/api/webhook-endpoints`): the signing secret is answered once, on
 * create and on rotate, and never again; the delivery log; manual redelivery.
 */
export function webhookEndpointRoutes(deps: { db: Db; secretKey: Buffer; sender: WebhookSender }) {
  const { db, secretKey, sender } = deps;
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Webhook endpoints', entity: 'webhook_endpoint', db });
  /** The endpoint as answered (no secret), for the audit log's before and after; null when there is none. */
  const loadEndpoint = async ({ params }: { params: Record<string, unknown> }) => {
    try {
      return masked(await getEndpoint(db, params.id as number));
    } catch (err) {
      if (err instanceof NotFoundError) return null;
      throw err;
    }
  };

  route(
    {
      method: 'post',
      path: '/webhook-endpoints',
      access: 'admin',
      operationId: 'createWebhookEndpoint',
      summary: 'Add an endpoint that events are posted to',
      description:
        'The answer holds the new signing secret, once: it is not answered again (rotate it if lost).',
      body: createEndpointBody,
      responses: { 201: { description: 'The endpoint with its signing secret', schema: createdEndpoint } },
      audit: { request: maskedRequest },
    },
    async (c, { body }) => {
      const { endpoint, secret } = await createEndpoint(db, secretKey, body);
      c.header('cache-control', 'no-store');
      return c.json({ ...masked(endpoint), secret }, 201);
    },
  );

  route(
    {
      method: 'get',
      path: '/webhook-endpoints',
      access: 'read',
      operationId: 'listWebhookEndpoints',
      summary: 'Every webhook endpoint',
      responses: {
        200: { description: 'The endpoints', schema: z.object({ items: z.array(webhookEndpoint) }) },
      },
    },
    async (c) => c.json({ items: (await listEndpoints(db)).map(masked) }),
  );

  route(
    {
      method: 'get',
      path: '/webhook-endpoints/:id',
      access: 'read',
      operationId: 'getWebhookEndpoint',
      summary: 'One webhook endpoint',
      params: endpointParams,
      responses: { 200: { description: 'The endpoint', schema: webhookEndpoint } },
      errors: [404],
    },
    async (c, { params }) => c.json(masked(await getEndpoint(db, params.id))),
  );

  route(
    {
      method: 'patch',
      path: '/webhook-endpoints/:id',
      access: 'admin',
      operationId: 'updateWebhookEndpoint',
      summary: 'Change an endpoint',
      params: endpointParams,
      body: updateEndpointBody,
      responses: { 200: { description: 'The endpoint now', schema: webhookEndpoint } },
      errors: [404],
      audit: { load: loadEndpoint, request: maskedRequest },
    },
    async (c, { params, body }) => c.json(masked(await updateEndpoint(db, params.id, body))),
  );

  route(
    {
      method: 'delete',
      path: '/webhook-endpoints/:id',
      access: 'admin',
      operationId: 'deleteWebhookEndpoint',
      summary: 'Remove an endpoint and its delivery log',
      params: endpointParams,
      responses: { 204: { description: 'Removed' } },
      errors: [404],
      audit: { load: loadEndpoint },
    },
    async (c, { params }) => {
      await deleteEndpoint(db, params.id);
      return c.body(null, 204);
    },
  );

  route(
    {
      method: 'post',
      path: '/webhook-endpoints/:id/rotate-secret',
      access: 'admin',
      operationId: 'rotateWebhookEndpointSecret',
      summary: "Replace an endpoint's signing secret",
      description: 'The new secret takes over at once and is answered here once, never again.',
      params: endpointParams,
      responses: {
        200: {
          description: 'The new signing secret',
          schema: z.object({ id: z.number().int(), secret: signingSecret }).strict(),
        },
      },
      errors: [404],
      audit: { load: loadEndpoint },
    },
    async (c, { params }) => {
      const secret = await rotateEndpointSecret(db, secretKey, params.id);
      c.header('cache-control', 'no-store');
      return c.json({ id: params.id, secret });
    },
  );

  route(
    {
      method: 'get',
      path: '/webhook-endpoints/:id/deliveries',
      access: 'read',
      operationId: 'listWebhookDeliveries',
      summary: "An endpoint's delivery attempts, newest first",
      params: endpointParams,
      query: deliveriesQuery,
      responses: {
        200: {
          description: 'A page of attempts',
          schema: z.object({ items: z.array(webhookDelivery), nextCursor: z.string().nullable() }),
        },
      },
      errors: [404],
    },
    async (c, { params, query: q }) => {
      await getEndpoint(db, params.id);
      const before = readCursor(q.cursor);
      const items = await listDeliveries(db, params.id, {
        limit: q.limit,
        ...(before === null ? {} : { before }),
      });
      return c.json({ items, nextCursor: items.length === q.limit ? nextCursor(items.at(-1)?.id) : null });
    },
  );

  route(
    {
      method: 'post',
      path: '/webhook-endpoints/:id/deliveries/:deliveryId/redeliver',
      access: 'operate',
      operationId: 'redeliverWebhook',
      summary: "Send a logged delivery's body again, now",
      params: z.object({ id: idParam.describe('endpoint id'), deliveryId: idParam.describe('delivery id') }),
      responses: { 201: { description: 'The new attempt', schema: webhookDelivery } },
      errors: [404, 409],
    },
    async (c, { params }) => {
      const delivery = await sender.redeliver(params.id, params.deliveryId);
      if (!delivery) throw new NotFoundError(`delivery ${params.deliveryId}`);
      return c.json(delivery, 201);
    },
  );

  return app;
}
