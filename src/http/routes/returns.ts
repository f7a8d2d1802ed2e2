import { Hono } from 'hono';
import { z } from 'zod';
import type { Db } from '../../db/connection.js';
import { orderReturns, returnGoods } from '../../orders/returns.js';
import type { AppEnv } from '../env.js';
import { parseParam, readJson } from '../errors.js';
import { codeParam, idParam } from '../params.js';

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

/** Goods coming back after they shipped (README "Returns"). */
export function returnRoutes(db: Db) {
  const app = new Hono<AppEnv>();

  app.post('/orders/:id/returns', async (c) => {
    const id = parseParam(idParam, c.req.param('id'), 'order id');
    const body = await readJson(c, returnBody);
    const r = await returnGoods(db, id, body, 'admin');
    return c.json(
      {
        id: r.returnId,
        orderId: id,
        status: r.order.status,
        duplicate: r.duplicate,
        lines: r.lines,
        filledOrders: r.filledOrders,
        creditNotes: r.creditNotes,
      },
      r.duplicate ? 200 : 201,
    );
  });

  app.get('/orders/:id/returns', async (c) => {
    const id = parseParam(idParam, c.req.param('id'), 'order id');
    return c.json({ items: await orderReturns(db, id) });
  });

  return app;
}
