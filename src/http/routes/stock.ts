import { Hono } from 'hono';
import { z } from 'zod';
import { skuPublications } from '../../channels/channel-publication.js';
import { LIMITS, text } from '../../domain/order-input.js';
import { ApiError } from '../../errors/api-error.js';
import { listStockLevels } from '../../stock/catalogue-query.js';
import { listAlerts, lowSkus } from '../../stock/low-stock.js';
import {
  getStock,
  recordAdjustment,
  recordReceipt,
  recordTransfer,
  setWarehouseReorderPoint,
} from '../../stock/stock-service.js';
import type { AppDeps, AppEnv } from '../env.js';
import { parseParam, readJson } from '../errors.js';
import { nextCursor, nextPairCursor, pageQuery, readCursor, readPairCursor } from '../pagination.js';
import { codeParam } from '../params.js';

/** A document's own reference (a receipt, a transfer): a repeat with it counts once. */
export const reference = text().trim().min(1).max(LIMITS.referenceLength);

/** Lines of whole positive quantities, as receipts and transfers (of stock and between companies) take them. */
export const quantityLines = z
  .array(
    z.object({
      sku: codeParam,
      quantity: z
        .number()
        .int('must be a whole number')
        .positive('must be at least 1')
        .max(LIMITS.stockQuantityPerLine),
    }),
  )
  .min(1)
  .max(LIMITS.stockLinesPerDocument);

const receiptBody = z.object({ warehouse: codeParam, reference, lines: quantityLines });

const adjustmentBody = z.object({
  warehouse: codeParam,
  reason: text().trim().min(1).max(LIMITS.nameLength),
  reference: reference.optional(),
  lines: z
    .array(
      z.object({
        sku: codeParam,
        delta: z
          .number()
          .int('must be a whole number')
          .min(-LIMITS.stockQuantityPerLine)
          .max(LIMITS.stockQuantityPerLine)
          .refine((d) => d !== 0, 'must not be zero'),
      }),
    )
    .min(1)
    .max(LIMITS.stockLinesPerDocument),
});

const stockListQuery = z.object({
  sku: codeParam.optional(),
  warehouse: codeParam.optional(),
  below: z.string().max(32).optional(),
  ...pageQuery,
});

const transferBody = z.object({ from: codeParam, to: codeParam, reference, lines: quantityLines });

export function stockRoutes({ db }: AppDeps) {
  const app = new Hono<AppEnv>();

  app.post('/stock/receipts', async (c) => {
    const body = await readJson(c, receiptBody);
    const result = await recordReceipt(db, body);
    return c.json(result, result.duplicate ? 200 : 201);
  });

  app.post('/stock/transfers', async (c) => {
    const body = await readJson(c, transferBody);
    const result = await recordTransfer(db, body);
    return c.json(result, result.duplicate ? 200 : 201);
  });

  app.post('/stock/adjustments', async (c) => {
    const body = await readJson(c, adjustmentBody);
    const result = await recordAdjustment(db, body);
    return c.json(result, result.duplicate ? 200 : 201);
  });

  app.get('/stock', async (c) => {
    const q = parseParam(stockListQuery, c.req.query(), 'query');
    if (q.below !== undefined) {
      if (q.below !== 'reorder')
        throw new ApiError(
          400,
          'invalid_parameter',
          'use /api/stock?below=reorder to list SKUs below their reorder point',
        );
      return c.json({ items: await lowSkus(db) });
    }
    const { items, next } = await listStockLevels(db, q, readPairCursor(q.cursor));
    return c.json({ items, nextCursor: nextPairCursor(next) });
  });

  app.put('/stock/:sku/warehouses/:warehouse/reorder-point', async (c) => {
    const sku = parseParam(codeParam, c.req.param('sku'), 'SKU code');
    const warehouse = parseParam(codeParam, c.req.param('warehouse'), 'warehouse code');
    const body = await readJson(
      c,
      z.object({ reorderPoint: z.number().int().min(0).max(100_000_000).nullable() }),
    );
    await setWarehouseReorderPoint(db, sku, warehouse, body.reorderPoint);
    return c.json({ sku, warehouse, reorderPoint: body.reorderPoint });
  });

  app.get('/alerts', async (c) => {
    const q = parseParam(
      z.object({
        sku: z.string().max(64).optional(),
        ...pageQuery,
      }),
      c.req.query(),
      'query',
    );
    const page = await listAlerts(db, { sku: q.sku, limit: q.limit, beforeId: readCursor(q.cursor) });
    return c.json({ items: page.items, nextCursor: nextCursor(page.nextId) });
  });

  app.get('/stock/:sku', async (c) => {
    const sku = parseParam(codeParam, c.req.param('sku'), 'SKU code');
    const stock = await getStock(db, sku);
    return c.json({ ...stock, channels: await skuPublications(db, sku) });
  });

  return app;
}
