import { z } from 'zod';
import type { Db } from '../../db/connection.js';
import { orderReturns, returnGoods } from '../../orders/returns.js';
import { actorOf, newRoutes, routeRegistrar } from '../openapi.js';
import { codeParam, idParam } from '../params.js';
import { orderReturnsSchema, returnAnswerSchema } from './order-schemas.js';

const returnBody = z.object({
  lines: z
    .array(
      z.object({
        sku: codeParam,
        quantity: z.number().int('must be a whole number').positive('must be at least 1').max(1_000_000_000),
      }),
    )
    .min(1, 'name at least one line')
    .max(1000),
  restock: z.boolean(),
  reason: z.string().trim().min(1).max(255).optional(),
  warehouse: codeParam.optional(),
  reference: z.string().trim().min(1).max(191).optional(),
});

const orderParams = z.object({ id: idParam.describe('order id') });

/** Goods coming back after they shipped (README "Returns"). */
export function returnRoutes(db: Db) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Returns', entity: 'order', db });

  route(
    {
      method: 'post',
      path: '/orders/:id/returns',
      access: 'operate',
      operationId: 'returnGoods',
      summary: 'Record goods coming back after they shipped',
      description:
        'Restocked units go back on hand (and to waiting backorders); a repeat with the same `reference` and lines is the same return (200).',
      params: orderParams,
      body: returnBody,
      responses: {
        200: { description: 'A repeat of a return already recorded', schema: returnAnswerSchema },
        201: { description: 'Recorded', schema: returnAnswerSchema },
      },
      errors: [404, 409],
    },
    async (c, { params, body }) => {
      const r = await returnGoods(db, params.id, body, actorOf(c));
      return c.json(
        {
          id: r.returnId,
          orderId: params.id,
          status: r.order.status,
          duplicate: r.duplicate,
          lines: r.lines,
          filledOrders: r.filledOrders,
          creditNotes: r.creditNotes,
        },
        r.duplicate ? 200 : 201,
      );
    },
  );

  route(
    {
      method: 'get',
      path: '/orders/:id/returns',
      access: 'read',
      operationId: 'listOrderReturns',
      summary: "An order's returns, oldest first",
      params: orderParams,
      responses: { 200: { description: 'The returns', schema: orderReturnsSchema } },
      errors: [404],
    },
    async (c, { params }) => c.json({ items: await orderReturns(db, params.id) }),
  );

  return app;
}
