import { Hono } from 'hono';
import { z } from 'zod';
import { deletePromotion, getPromotion, listPromotions, putPromotion } from '../../customers/promotions.js';
import type { Db } from '../../db/connection.js';
import { currencySchema, LIMITS, text } from '../../domain/order-input.js';
import { PROMOTION_KINDS } from '../../domain/promotions.js';
import type { AppEnv } from '../env.js';
import { parseParam, readJson } from '../errors.js';
import { codeParam } from '../params.js';

const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date such as 2026-12-31')
  .refine((d) => new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'not a calendar date');

const minor = () => z.number().int('must be integer minor units').min(0).max(LIMITS.maxMinor);
const count = () => z.number().int('must be a whole number').min(1).max(LIMITS.quantityPerLine);
const codes = z.array(text().trim().min(1).max(LIMITS.codeLength)).max(1000).default([]);

const promotionBody = z
  .object({
    name: text().trim().min(1).max(LIMITS.nameLength),
    active: z.boolean().default(true),
    kind: z.enum(PROMOTION_KINDS as [string, ...string[]]),
    appliesTo: z.enum(['line', 'order']).default('line'),
    percent: z.number().positive().max(100).multipleOf(0.01, 'at most 2 decimals').nullable().optional(),
    amount: minor().positive().nullable().optional(),
    buy: count().nullable().optional(),
    get: count().nullable().optional(),
    currency: currencySchema.nullable().optional(),
    minOrderAmount: minor().nullable().optional(),
    minOrderQuantity: count().nullable().optional(),
    validFrom: date.nullable().optional(),
    validTo: date.nullable().optional(),
    customers: codes,
    groups: codes,
    channels: codes,
    skus: codes,
    requiresCode: z.boolean().default(false),
    usageLimit: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .nullable()
      .optional(),
    customerLimit: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .nullable()
      .optional(),
  })
  .superRefine((p, ctx) => {
    const need = (ok: boolean, path: string, message: string) => {
      if (!ok) ctx.addIssue({ code: 'custom', path: [path], message });
    };
    if (p.kind === 'percent') need(p.percent != null, 'percent', 'a percent promotion needs percent');
    if (p.kind === 'amount') need(p.amount != null, 'amount', 'an amount promotion needs amount');
    if (p.kind === 'buy_x_get_y') {
      need(p.buy != null, 'buy', 'buy X get Y needs buy');
      need(p.get != null, 'get', 'buy X get Y needs get');
      need(p.appliesTo === 'line', 'appliesTo', 'buy X get Y applies to lines');
    }
    if (p.kind !== 'percent') need(p.percent == null, 'percent', `not for a ${p.kind} promotion`);
    if (p.kind !== 'amount') need(p.amount == null, 'amount', `not for a ${p.kind} promotion`);
    if (p.kind !== 'buy_x_get_y') {
      need(p.buy == null, 'buy', `not for a ${p.kind} promotion`);
      need(p.get == null, 'get', `not for a ${p.kind} promotion`);
    }
    if (p.amount != null || p.minOrderAmount != null)
      need(p.currency != null, 'currency', 'amounts need the currency they are in');
    if (p.validFrom != null && p.validTo != null)
      need(p.validFrom <= p.validTo, 'validTo', 'must not be before validFrom');
  });

/** Promotions: rules with their usage limits, maintained by code (`PUT` is idempotent). */
export function promotionRoutes(db: Db) {
  const app = new Hono<AppEnv>();
  const codeOf = (c: { req: { param(name: string): string | undefined } }) =>
    parseParam(codeParam, c.req.param('code'), 'promotion code');

  app.get('/promotions', async (c) => c.json({ items: await listPromotions(db) }));

  app.get('/promotions/:code', async (c) => c.json(await getPromotion(db, codeOf(c))));

  app.put('/promotions/:code', async (c) => {
    const code = codeOf(c);
    const body = await readJson(c, promotionBody);
    const { promotion, created } = await putPromotion(db, code, body as Parameters<typeof putPromotion>[2]);
    return c.json(promotion, created ? 201 : 200);
  });

  app.delete('/promotions/:code', async (c) => {
    await deletePromotion(db, codeOf(c));
    return c.body(null, 204);
  });

  return app;
}
