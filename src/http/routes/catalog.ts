import { Hono } from 'hono';
import { z } from 'zod';
import { codeKey } from '../../domain/codes.js';
import { currencySchema, LIMITS, text } from '../../domain/order-input.js';
import { listSkus, skuDetail } from '../../stock/catalogue-query.js';
import { upsertSku, upsertSkus, upsertWarehouse } from '../../stock/stock-service.js';
import type { AppDeps, AppEnv } from '../env.js';
import { parseParam, readJson } from '../errors.js';
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

export function catalogRoutes({ db }: AppDeps) {
  const app = new Hono<AppEnv>();

  app.put('/warehouses/:code', async (c) => {
    const code = parseParam(codeParam, c.req.param('code'), 'warehouse code');
    const body = await readJson(c, warehouseBody);
    const stored = await upsertWarehouse(db, code, body);
    return c.json({ code: stored.code, ...body }, stored.created ? 201 : 200);
  });

  app.get('/warehouses', async (c) => {
    const rows = await db('warehouses as w')
      .leftJoin('companies as co', 'co.id', 'w.company_id')
      .orderBy([{ column: 'w.priority' }, { column: 'w.code' }])
      .select('w.code', 'w.name', 'w.priority', 'w.kind', 'co.code as company');
    return c.json({
      items: rows.map((r) => ({
        code: r.code,
        name: r.name,
        priority: Number(r.priority),
        company: r.company ?? null,
        // `in_transit`: stock between two companies of the group, never sold (README "Intra-group transfers").
        kind: r.kind,
      })),
    });
  });

  app.get('/skus', async (c) => {
    const filter = parseParam(skuListQuery, c.req.query(), 'query');
    const { items, nextId } = await listSkus(db, filter, readCursor(filter.cursor));
    return c.json({ items, nextCursor: nextCursor(nextId) });
  });

  app.put('/skus', async (c) => {
    const { skus } = await readJson(c, bulkSkuBody);
    const outcomes = await upsertSkus(db, skus);
    const count = (o: string) => outcomes.filter((x) => x === o).length;
    return c.json({
      created: count('created'),
      updated: count('updated'),
      unchanged: count('unchanged'),
      items: skus.map((s, i) => ({ code: s.code, outcome: outcomes[i] })),
    });
  });

  app.put('/skus/:code', async (c) => {
    const code = parseParam(codeParam, c.req.param('code'), 'SKU code');
    const body = await readJson(c, skuBody);
    const stored = await upsertSku(db, code, body);
    return c.json({ code: stored.code, ...body }, stored.created ? 201 : 200);
  });

  app.get('/skus/:code', async (c) => {
    const code = parseParam(codeParam, c.req.param('code'), 'SKU code');
    return c.json(await skuDetail(db, code));
  });

  return app;
}
