import { Hono } from 'hono';
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
import type { AppEnv } from '../env.js';
import { parseParam, readJson } from '../errors.js';
import { nextCursor, pageQuery, readCursor } from '../pagination.js';
import { idParam } from '../params.js';

const deliveriesQuery = z.object(pageQuery).strict();

/**
 * Outbound webhook endpoints (`/api/webhook-endpoints`): the signing secret is answered once, on
 * create and on rotate, and never again; the delivery log; manual redelivery.
 */
export function webhookEndpointRoutes(deps: { db: Db; secretKey: Buffer; sender: WebhookSender }) {
  const { db, secretKey, sender } = deps;
  const app = new Hono<AppEnv>();
  const endpointId = (c: { req: { param(name: string): string | undefined } }) =>
    parseParam(idParam, c.req.param('id'), 'endpoint id');

  app.post('/webhook-endpoints', async (c) => {
    const body = await readJson(c, createEndpointBody);
    const { endpoint, secret } = await createEndpoint(db, secretKey, body);
    c.header('cache-control', 'no-store');
    return c.json({ ...endpoint, secret }, 201);
  });

  app.get('/webhook-endpoints', async (c) => c.json({ items: await listEndpoints(db) }));

  app.get('/webhook-endpoints/:id', async (c) => c.json(await getEndpoint(db, endpointId(c))));

  app.patch('/webhook-endpoints/:id', async (c) => {
    const id = endpointId(c);
    const body = await readJson(c, updateEndpointBody);
    return c.json(await updateEndpoint(db, id, body));
  });

  app.delete('/webhook-endpoints/:id', async (c) => {
    await deleteEndpoint(db, endpointId(c));
    return c.body(null, 204);
  });

  app.post('/webhook-endpoints/:id/rotate-secret', async (c) => {
    const id = endpointId(c);
    const secret = await rotateEndpointSecret(db, secretKey, id);
    c.header('cache-control', 'no-store');
    return c.json({ id, secret });
  });

  app.get('/webhook-endpoints/:id/deliveries', async (c) => {
    const id = endpointId(c);
    const q = parseParam(deliveriesQuery, c.req.query(), 'query');
    await getEndpoint(db, id);
    const before = readCursor(q.cursor);
    const items = await listDeliveries(db, id, { limit: q.limit, ...(before === null ? {} : { before }) });
    return c.json({ items, nextCursor: items.length === q.limit ? nextCursor(items.at(-1)?.id) : null });
  });

  app.post('/webhook-endpoints/:id/deliveries/:deliveryId/redeliver', async (c) => {
    const id = endpointId(c);
    const deliveryId = parseParam(idParam, c.req.param('deliveryId'), 'delivery id');
    const delivery = await sender.redeliver(id, deliveryId);
    if (!delivery) throw new NotFoundError(`delivery ${deliveryId}`);
    return c.json(delivery, 201);
  });

  return app;
}
