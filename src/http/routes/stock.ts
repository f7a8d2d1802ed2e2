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
import type { AppDeps } from '../env.js';
import { newRoutes, routeRegistrar } from '../openapi.js';
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

export const receiptBody = z.object({ warehouse: codeParam, reference, lines: quantityLines });

export const adjustmentBody = z.object({
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

export const stockListQuery = z.object({
  sku: codeParam.optional(),
  warehouse: codeParam.optional(),
  below: z.string().max(32).optional(),
  ...pageQuery,
});

export const transferBody = z.object({ from: codeParam, to: codeParam, reference, lines: quantityLines });

export const reorderPointBody = z.object({
  reorderPoint: z.number().int().min(0).max(100_000_000).nullable(),
});

export const alertQuery = z.object({ sku: z.string().max(64).optional(), ...pageQuery });

export const skuParams = z.object({ sku: codeParam.describe('SKU code') });

const isoTime = z.string().describe('UTC, ISO 8601');

const stockDocumentSchema = z
  .object({
    documentId: z.number().int(),
    duplicate: z
      .boolean()
      .describe('true: this reference was already recorded with the same lines; nothing changed'),
    filledOrders: z.array(z.number().int()).describe('orders whose backorders this stock filled'),
  })
  .meta({ id: 'StockDocumentRecorded' });

const documentResponses = (what: string) => ({
  200: { description: `A repeat of a ${what} already recorded`, schema: stockDocumentSchema },
  201: { description: 'Recorded', schema: stockDocumentSchema },
});

const stockLevelPage = z.object({
  items: z.array(
    z.object({
      sku: z.string(),
      warehouse: z.string(),
      onHand: z.number().int(),
      reserved: z.number().int(),
      available: z.number().int(),
      reorderPoint: z.number().int().nullable(),
    }),
  ),
  nextCursor: z.string().nullable(),
});

const lowStockList = z.object({
  items: z.array(
    z.object({
      sku: z.string(),
      onHand: z.number().int(),
      reserved: z.number().int(),
      available: z.number().int(),
      reorderPoint: z.number().int(),
    }),
  ),
});

const skuStockSchema = z
  .object({
    sku: z.string(),
    onHand: z.number().int(),
    reserved: z.number().int(),
    available: z.number().int(),
    warehouses: z.array(
      z.object({
        warehouse: z.string(),
        onHand: z.number().int(),
        reserved: z.number().int(),
        available: z.number().int(),
      }),
    ),
    inTransit: z
      .array(z.object({ location: z.string(), company: z.string().nullable(), onHand: z.number().int() }))
      .describe('stock between two companies of the group, never sold'),
    channels: z
      .array(
        z.object({
          channelId: z.number().int(),
          channel: z.string().describe('`type:id`'),
          name: z.string(),
          published: z.number().int().nullable().describe('the quantity the channel was last told'),
          publishedAt: isoTime.nullable(),
          pending: z.boolean(),
          lastError: z.object({ message: z.string(), at: isoTime.nullable() }).nullable(),
        }),
      )
      .describe('what each channel was told of this SKU'),
  })
  .meta({ id: 'SkuStock' });

const alertPage = z.object({
  items: z.array(
    z.object({
      id: z.number().int(),
      kind: z.string().describe('`low_stock`'),
      sku: z.string(),
      warehouse: z.string().nullable(),
      available: z.number().int(),
      reorderPoint: z.number().int(),
      at: isoTime.nullable(),
    }),
  ),
  nextCursor: z.string().nullable(),
});

export function stockRoutes({ db }: AppDeps) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Stock', entity: 'stock', db });

  route(
    {
      method: 'post',
      path: '/stock/receipts',
      access: 'operate',
      operationId: 'recordStockReceipt',
      summary: 'Record goods received into a warehouse',
      description: 'A repeat with the same reference and lines counts once (200).',
      body: receiptBody,
      responses: documentResponses('receipt'),
      errors: [409],
    },
    async (c, { body }) => {
      const result = await recordReceipt(db, body);
      return c.json(result, result.duplicate ? 200 : 201);
    },
  );

  route(
    {
      method: 'post',
      path: '/stock/transfers',
      access: 'operate',
      operationId: 'recordStockTransfer',
      summary: 'Move stock between two warehouses',
      body: transferBody,
      responses: documentResponses('transfer'),
      errors: [409],
    },
    async (c, { body }) => {
      const result = await recordTransfer(db, body);
      return c.json(result, result.duplicate ? 200 : 201);
    },
  );

  route(
    {
      method: 'post',
      path: '/stock/adjustments',
      access: 'operate',
      operationId: 'recordStockAdjustment',
      summary: 'Correct on-hand quantities (a count, damage, loss)',
      body: adjustmentBody,
      responses: documentResponses('adjustment'),
      errors: [409],
    },
    async (c, { body }) => {
      const result = await recordAdjustment(db, body);
      return c.json(result, result.duplicate ? 200 : 201);
    },
  );

  route(
    {
      method: 'get',
      path: '/stock',
      access: 'read',
      operationId: 'listStock',
      summary:
        'Stock per SKU and warehouse, a page at a time; `below=reorder`: SKUs below their reorder point',
      query: stockListQuery,
      responses: {
        200: {
          description: 'A page of stock rows, or (with `below=reorder`) every SKU below its reorder point',
          schema: z.union([stockLevelPage, lowStockList]),
        },
      },
    },
    async (c, { query: q }) => {
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
    },
  );

  route(
    {
      method: 'put',
      path: '/stock/:sku/warehouses/:warehouse/reorder-point',
      access: 'operate',
      operationId: 'setWarehouseReorderPoint',
      summary: "Set (or clear, with null) a SKU's reorder point in one warehouse",
      params: z.object({
        sku: codeParam.describe('SKU code'),
        warehouse: codeParam.describe('warehouse code'),
      }),
      body: reorderPointBody,
      responses: {
        200: {
          description: 'Set',
          schema: z.object({
            sku: z.string(),
            warehouse: z.string(),
            reorderPoint: z.number().int().nullable(),
          }),
        },
      },
    },
    async (c, { params, body }) => {
      await setWarehouseReorderPoint(db, params.sku, params.warehouse, body.reorderPoint);
      return c.json({ sku: params.sku, warehouse: params.warehouse, reorderPoint: body.reorderPoint });
    },
  );

  route(
    {
      method: 'get',
      path: '/alerts',
      access: 'read',
      operationId: 'listStockAlerts',
      summary: 'Low-stock alerts, newest first',
      query: alertQuery,
      responses: { 200: { description: 'A page of alerts', schema: alertPage } },
    },
    async (c, { query: q }) => {
      const page = await listAlerts(db, { sku: q.sku, limit: q.limit, beforeId: readCursor(q.cursor) });
      return c.json({ items: page.items, nextCursor: nextCursor(page.nextId) });
    },
  );

  route(
    {
      method: 'get',
      path: '/stock/:sku',
      access: 'read',
      operationId: 'getSkuStock',
      summary: "A SKU's stock in every warehouse and in transit, and what each channel was told",
      params: skuParams,
      responses: { 200: { description: 'The stock', schema: skuStockSchema } },
      errors: [404],
    },
    async (c, { params }) => {
      const stock = await getStock(db, params.sku);
      return c.json({ ...stock, channels: await skuPublications(db, params.sku) });
    },
  );

  return app;
}
