import { Hono } from 'hono';
import { z } from 'zod';
import { getStock, recordAdjustment, recordReceipt } from '../../stock/stock-service.js';
import type { AppDeps, AppEnv } from '../env.js';
import { parseParam, readJson } from '../errors.js';
import { codeParam } from './catalog.js';

const receiptBody = z.object({
  warehouse: codeParam,
  reference: z.string().trim().min(1).max(191),
  lines: z
    .array(
      z.object({
        sku: codeParam,
        quantity: z.number().int('must be a whole number').positive('must be at least 1').max(100_000_000),
      }),
    )
    .min(1)
    .max(5000),
});

const adjustmentBody = z.object({
  warehouse: codeParam,
  reason: z.string().trim().min(1).max(255),
  reference: z.string().trim().min(1).max(191).optional(),
  lines: z
    .array(
      z.object({
        sku: codeParam,
        delta: z
          .number()
          .int('must be a whole number')
          .min(-100_000_000)
          .max(100_000_000)
          .refine((d) => d !== 0, 'must not be zero'),
      }),
    )
    .min(1)
    .max(5000),
});

export function stockRoutes({ db }: AppDeps) {
  const app = new Hono<AppEnv>();

  app.post('/stock/receipts', async (c) => {
    const body = await readJson(c, receiptBody);
    const result = await recordReceipt(db, body);
    return c.json(result, result.duplicate ? 200 : 201);
  });

  app.post('/stock/adjustments', async (c) => {
    const body = await readJson(c, adjustmentBody);
    const result = await recordAdjustment(db, body);
    return c.json(result, result.duplicate ? 200 : 201);
  });

  app.get('/stock/:sku', async (c) => {
    const sku = parseParam(codeParam, c.req.param('sku'), 'SKU code');
    return c.json(await getStock(db, sku));
  });

  return app;
}
