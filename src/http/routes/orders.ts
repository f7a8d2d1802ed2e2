import { Hono } from 'hono';
import { z } from 'zod';
import { orderInputSchema } from '../../domain/order-input.js';
import { ORDER_STATUSES } from '../../domain/order-status.js';
import { cancelOrder, MANUAL_TARGETS, setOrderStatus, shipOrder } from '../../orders/index.js';

import { apiOrderDelivery } from '../../orders/intake.js';
import type { IntakeBatcher } from '../../orders/intake-batcher.js';
import { listOrders, orderDetail } from '../../orders/order-query.js';
import { quoteOrder } from '../../orders/quote.js';
import type { AppDeps, AppEnv } from '../env.js';
import { parseParam, readJson } from '../errors.js';
import { nextCursor, pageQuery, readCursor } from '../pagination.js';
import { codeParam, idempotencyKeyParam, idParam } from '../params.js';

const listQuery = z.object({
  channel: z.string().max(64).optional(),
  externalId: z.string().max(191).optional(),
  status: z.enum(ORDER_STATUSES).optional(),
  customer: z.string().max(64).optional(),
  salesperson: z.string().max(64).optional(),
  ...pageQuery,
});

const shipmentBody = z.object({
  lines: z
    .array(
      z.object({
        sku: codeParam,
        quantity: z.number().int('must be a whole number').positive('must be at least 1'),
      }),
    )
    .min(1)
    .optional(),
  carrier: z.string().trim().min(1).max(64).optional(),
  trackingNumber: z.string().trim().min(1).max(128).optional(),
  /** The tracking page (https); for a carrier not in the table it may hold `{number}`. */
  trackingUrl: z
    .string()
    .trim()
    .max(400)
    .regex(/^https?:\/\/[^\s]+$/, 'must be an http(s) URL')
    .optional(),
});

const cancelBody = z.object({ reason: z.string().trim().min(1).max(255).optional() }).default({});

const statusBody = z.object({
  status: z.enum(MANUAL_TARGETS as [string, ...string[]]),
  reason: z.string().trim().min(1).max(255).optional(),
});

/** Optional body: an empty one is `{}`. */
async function optionalJson<S extends z.ZodType>(
  c: Parameters<typeof readJson>[0],
  schema: S,
): Promise<z.output<S>> {
  const text = await c.req.text();
  if (text.trim() === '') return schema.parse({});
  return readJson(c, schema);
}

export function orderRoutes({ db, enqueueOrders }: AppDeps, intake: IntakeBatcher) {
  const app = new Hono<AppEnv>();

  app.post('/orders', async (c) => {
    const order = await readJson(c, orderInputSchema);
    const key = parseParam(idempotencyKeyParam, c.req.header('idempotency-key'), 'Idempotency-Key header');
    const result = await intake.submit(apiOrderDelivery(order, await c.req.text(), key));
    return c.json(
      { id: result.orderId, status: result.status, duplicate: !result.created },
      result.created ? 202 : 200,
    );
  });

  /** What processing would decide for this order body now; stores nothing (README "A quote for orders taken by phone"). */
  app.post('/orders/quote', async (c) => {
    const order = await readJson(c, orderInputSchema);
    return c.json(await quoteOrder(db, order));
  });

  app.get('/orders', async (c) => {
    const filter = parseParam(listQuery, c.req.query(), 'query');
    const { items, nextId } = await listOrders(db, filter, readCursor(filter.cursor));
    return c.json({ items, nextCursor: nextCursor(nextId) });
  });

  app.get('/orders/:id', async (c) => {
    const id = parseParam(idParam, c.req.param('id'), 'order id');
    return c.json(await orderDetail(db, id));
  });

  app.post('/orders/:id/shipments', async (c) => {
    const id = parseParam(idParam, c.req.param('id'), 'order id');
    const body = await optionalJson(c, shipmentBody);
    const result = await shipOrder(db, id, body, 'admin');
    return c.json({ shipmentId: result.shipmentId, status: result.order.status, lines: result.lines }, 201);
  });

  app.post('/orders/:id/cancel', async (c) => {
    const id = parseParam(idParam, c.req.param('id'), 'order id');
    const body = await optionalJson(c, cancelBody);
    const result = await cancelOrder(db, id, body.reason ?? 'cancelled by admin', 'admin', {
      tellChannel: true,
    });
    return c.json({ id, status: result.order.status, filledOrders: result.filledOrders });
  });

  app.post('/orders/:id/status', async (c) => {
    const id = parseParam(idParam, c.req.param('id'), 'order id');
    const body = await readJson(c, statusBody);
    const order = await setOrderStatus(
      db,
      id,
      body.status as (typeof MANUAL_TARGETS)[number],
      body.reason ?? `set by admin`,
      'admin',
    );
    if (order.status === 'received') await enqueueOrders([id]).catch(() => {});
    return c.json({ id, status: order.status });
  });

  /** Takes an order off hold and processes it again (e.g. after the missing SKU was created). */
  app.post('/orders/:id/release', async (c) => {
    const id = parseParam(idParam, c.req.param('id'), 'order id');
    const order = await setOrderStatus(db, id, 'received', 'released from hold by admin', 'admin');
    await enqueueOrders([id]).catch(() => {});
    return c.json({ id, status: order.status });
  });

  return app;
}
