import { Hono } from 'hono';
import { z } from 'zod';
import { currencySchema, LIMITS, text } from '../../domain/order-input.js';
import { notFound } from '../../errors/domain-errors.js';
import { upsertSku, upsertWarehouse } from '../../stock/stock-service.js';
import type { AppDeps, AppEnv } from '../env.js';
import { parseParam, readJson } from '../errors.js';
import { codeParam } from '../params.js';

const warehouseBody = z.object({
  name: text().trim().min(1).max(LIMITS.nameLength),
  priority: z.number().int().min(0).max(1_000_000).default(100),
});

const skuBody = z.object({
  name: text().trim().min(1).max(LIMITS.nameLength),
  unitPrice: z.number().int('must be integer minor units').min(0).max(LIMITS.maxMinor),
  currency: currencySchema,
  reorderPoint: z.number().int('must be a whole number').min(0).max(100_000_000).nullable().optional(),
});

export function catalogRoutes({ db }: AppDeps) {
  const app = new Hono<AppEnv>();

  app.put('/warehouses/:code', async (c) => {
    const code = parseParam(codeParam, c.req.param('code'), 'warehouse code');
    const body = await readJson(c, warehouseBody);
    const stored = await upsertWarehouse(db, code, body);
    return c.json({ code: stored.code, ...body }, stored.created ? 201 : 200);
  });

  app.get('/warehouses', async (c) => {
    const rows = await db('warehouses').orderBy([{ column: 'priority' }, { column: 'code' }]);
    return c.json({ items: rows.map((r) => ({ code: r.code, name: r.name, priority: Number(r.priority) })) });
  });

  app.put('/skus/:code', async (c) => {
    const code = parseParam(codeParam, c.req.param('code'), 'SKU code');
    const body = await readJson(c, skuBody);
    const stored = await upsertSku(db, code, body);
    return c.json({ code: stored.code, ...body }, stored.created ? 201 : 200);
  });

  app.get('/skus/:code', async (c) => {
    const code = parseParam(codeParam, c.req.param('code'), 'SKU code');
    const row = await db('skus').where({ code }).first();
    if (!row) throw notFound(`SKU ${code}`);
    return c.json({
      code: row.code,
      name: row.name,
      unitPrice: Number(row.unit_price),
      currency: row.currency,
    });
  });

  return app;
}
