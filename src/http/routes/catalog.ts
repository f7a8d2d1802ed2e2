import { z } from 'zod';
import { codeKey } from '../../domain/codes.js';
import { currencySchema, LIMITS, text } from '../../domain/order-input.js';
import { listSkus, listWarehouses, skuDetail } from '../../stock/catalogue-query.js';
import { upsertSku, upsertSkus, upsertWarehouse } from '../../stock/stock-service.js';
import type { AppDeps } from '../env.js';
import { newRoutes, routeRegistrar } from '../openapi.js';
import { nextCursor, pageQuery, readCursor } from '../pagination.js';
import { codeParam } from '../params.js';

const warehouseBody = z.object({
  name: text().trim().min(1).max(LIMITS.nameLength),
  priority: z.number().int().min(0).max(1_000_000).default(100),
  /** The company (legal entity) that owns the warehouse; null: none; omitted: unchanged. */
  company: codeParam.nullable().optional(),
});

const skuBody = z.object({
  name: text().trim().min(1).max(LIMITS.nameLength),
  unitPrice: z.number().int('must be integer minor units').min(0).max(LIMITS.maxMinor),
  currency: currencySchema,
  reorderPoint: z.number().int('must be a whole number').min(0).max(100_000_000).nullable().optional(),
  /** The SKU's tax class (README "Order money and tax"); omitted: unchanged, `standard` for a new SKU. */
  taxClass: codeParam.optional(),
  /** What one unit costs us, minor units (README "Reports": value at cost); null clears it; omitted: unchanged. */
  unitCost: z
    .object({
      amount: z.number().int('must be integer minor units').min(0).max(LIMITS.maxMinor),
      currency: currencySchema,
    })
    .strict()
    .nullable()
    .optional(),
});

/** Most SKUs one `PUT /api/skus` takes; a larger catalogue goes in several requests or as a sheet. */
export const MAX_BULK_SKUS = 5000;

/** Many SKUs at once: validated as a whole, every code once, so that a bad entry stores nothing. */
const bulkSkuBody = z.object({
  skus: z
    .array(skuBody.extend({ code: codeParam }))
    .min(1)
    .max(MAX_BULK_SKUS)
    .superRefine((skus, ctx) => {
      const first = new Map<string, number>();
      skus.forEach((s, i) => {
        const seen = first.get(codeKey(s.code));
        if (seen === undefined) first.set(codeKey(s.code), i);
        else ctx.addIssue({ code: 'custom', path: [i, 'code'], message: `${s.code} is also entry ${seen}` });
      });
    }),
});

const skuListQuery = z.object({ q: z.string().trim().max(255).optional(), ...pageQuery });

const warehouseParams = z.object({ code: codeParam.describe('warehouse code') });
const skuParams = z.object({ code: codeParam.describe('SKU code') });

const warehouseStoredSchema = z
  .object({
    code: z.string(),
    name: z.string(),
    priority: z.number().int(),
    company: z.string().nullable().optional().describe('omitted: unchanged'),
  })
  .meta({ id: 'WarehouseStored' });

const warehouseSchema = z
  .object({
    code: z.string(),
    name: z.string(),
    priority: z.number().int(),
    company: z.string().nullable().describe('the company (legal entity) that owns it'),
    kind: z.string().describe('`in_transit`: stock between two companies of the group, never sold'),
  })
  .meta({ id: 'Warehouse' });

const skuSchema = z
  .object({
    code: z.string(),
    name: z.string(),
    unitPrice: z.number().int().describe('minor units'),
    currency: z.string(),
    reorderPoint: z.number().int().nullable(),
  })
  .meta({ id: 'Sku' });

const unitCostSchema = z.object({ amount: z.number().int().describe('minor units'), currency: z.string() });

const skuDetailSchema = skuSchema
  .extend({ taxClass: z.string(), unitCost: unitCostSchema.nullable().describe('what one unit costs us') })
  .meta({ id: 'SkuDetail' });

const skuStoredSchema = z
  .object({
    code: z.string(),
    name: z.string(),
    unitPrice: z.number().int(),
    currency: z.string(),
    reorderPoint: z.number().int().nullable().optional(),
    taxClass: z.string().optional(),
    unitCost: unitCostSchema.nullable().optional(),
  })
  .describe('the code and the body as stored')
  .meta({ id: 'SkuStored' });

const outcome = z.enum(['created', 'updated', 'unchanged']);

const bulkSkuAnswer = z
  .object({
    created: z.number().int(),
    updated: z.number().int(),
    unchanged: z.number().int(),
    items: z.array(z.object({ code: z.string(), outcome })),
  })
  .meta({ id: 'SkusUpserted' });

export function catalogRoutes({ db }: AppDeps) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Catalogue', entity: 'sku', db });

  route(
    {
      method: 'put',
      path: '/warehouses/:code',
      access: 'operate',
      operationId: 'putWarehouse',
      summary: 'Create or change a warehouse',
      params: warehouseParams,
      body: warehouseBody,
      responses: {
        200: { description: 'Changed', schema: warehouseStoredSchema },
        201: { description: 'Created', schema: warehouseStoredSchema },
      },
      audit: { entity: 'warehouse' },
    },
    async (c, { params, body }) => {
      const stored = await upsertWarehouse(db, params.code, body);
      return c.json({ code: stored.code, ...body }, stored.created ? 201 : 200);
    },
  );

  route(
    {
      method: 'get',
      path: '/warehouses',
      access: 'read',
      operationId: 'listWarehouses',
      summary: 'Every warehouse, by priority',
      responses: {
        200: { description: 'The warehouses', schema: z.object({ items: z.array(warehouseSchema) }) },
      },
    },
    async (c) => c.json({ items: await listWarehouses(db) }),
  );

  route(
    {
      method: 'get',
      path: '/skus',
      access: 'read',
      operationId: 'listSkus',
      summary: 'SKUs, newest first; `q` matches part of the code or name',
      query: skuListQuery,
      responses: {
        200: {
          description: 'A page of SKUs',
          schema: z.object({ items: z.array(skuSchema), nextCursor: z.string().nullable() }),
        },
      },
    },
    async (c, { query }) => {
      const { items, nextId } = await listSkus(db, query, readCursor(query.cursor));
      return c.json({ items, nextCursor: nextCursor(nextId) });
    },
  );

  route(
    {
      method: 'put',
      path: '/skus',
      access: 'operate',
      operationId: 'putSkus',
      summary: `Create or change many SKUs at once (at most ${MAX_BULK_SKUS}); a bad entry stores nothing`,
      body: bulkSkuBody,
      responses: { 200: { description: 'Every SKU with its outcome', schema: bulkSkuAnswer } },
      // Which SKUs were sent; their full entries (up to the limit) would be a large copy per call.
      audit: {
        request: (body) => ({ codes: (body as z.output<typeof bulkSkuBody>).skus.map((s) => s.code) }),
      },
    },
    async (c, { body: { skus } }) => {
      // Many SKUs, no one id: the answer (every SKU) is not read again to find one.
      c.set('auditEntityId', null);
      const outcomes = await upsertSkus(db, skus);
      const count = (o: string) => outcomes.filter((x) => x === o).length;
      return c.json({
        created: count('created'),
        updated: count('updated'),
        unchanged: count('unchanged'),
        items: skus.map((s, i) => ({ code: s.code, outcome: outcomes[i]! })),
      });
    },
  );

  route(
    {
      method: 'put',
      path: '/skus/:code',
      access: 'operate',
      operationId: 'putSku',
      summary: 'Create or change a SKU',
      params: skuParams,
      body: skuBody,
      responses: {
        200: { description: 'Changed', schema: skuStoredSchema },
        201: { description: 'Created', schema: skuStoredSchema },
      },
    },
    async (c, { params, body }) => {
      const stored = await upsertSku(db, params.code, body);
      return c.json({ code: stored.code, ...body }, stored.created ? 201 : 200);
    },
  );

  route(
    {
      method: 'get',
      path: '/skus/:code',
      access: 'read',
      operationId: 'getSku',
      summary: 'A SKU with its tax class and unit cost',
      params: skuParams,
      responses: { 200: { description: 'The SKU', schema: skuDetailSchema } },
      errors: [404],
    },
    async (c, { params }) => c.json(await skuDetail(db, params.code)),
  );

  return app;
}
