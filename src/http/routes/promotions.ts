import { z } from 'zod';
import { deletePromotion, getPromotion, listPromotions, putPromotion } from '../../customers/promotions.js';
import type { Db } from '../../db/connection.js';
import { currencySchema, LIMITS, text } from '../../domain/order-input.js';
import { PROMOTION_KINDS } from '../../domain/promotions.js';
import { newRoutes, routeRegistrar } from '../openapi.js';
import { codeParam } from '../params.js';

const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date such as 2026-12-31')
  .refine(
    (d) =>
      !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d),
    'not a calendar date',
  );

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

const nullableCount = z.number().int().nullable();

const promotion = z
  .object({
    code: z.string(),
    name: z.string(),
    active: z.boolean(),
    kind: z.enum(PROMOTION_KINDS as [string, ...string[]]),
    appliesTo: z.enum(['line', 'order']),
    percent: z.number().nullable().describe('a percent promotion: 12.5 is 12.5 %'),
    amount: nullableCount.describe('an amount promotion: minor units off'),
    buy: nullableCount,
    get: nullableCount,
    currency: z.string().nullable(),
    minOrderAmount: nullableCount,
    minOrderQuantity: nullableCount,
    validFrom: z.string().nullable().describe('YYYY-MM-DD'),
    validTo: z.string().nullable().describe('YYYY-MM-DD'),
    customers: z.array(z.string()),
    groups: z.array(z.string()),
    channels: z.array(z.string()),
    skus: z.array(z.string()),
    requiresCode: z.boolean(),
    usageLimit: nullableCount,
    customerLimit: nullableCount,
    used: z.number().int().describe('orders that hold a use now (taken less given back)'),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Promotion' });

const promotionParams = z.object({ code: codeParam.describe('promotion code') });

/** Promotions: rules with their usage limits, maintained by code (`PUT` is idempotent). */
export function promotionRoutes(db: Db) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Promotions', entity: 'promotion', db });

  route(
    {
      method: 'get',
      path: '/promotions',
      access: 'read',
      operationId: 'listPromotions',
      summary: 'Every promotion, by code',
      responses: { 200: { description: 'The promotions', schema: z.object({ items: z.array(promotion) }) } },
    },
    async (c) => c.json({ items: await listPromotions(db) }),
  );

  route(
    {
      method: 'get',
      path: '/promotions/:code',
      access: 'read',
      operationId: 'getPromotion',
      summary: 'One promotion with its uses',
      params: promotionParams,
      responses: { 200: { description: 'The promotion', schema: promotion } },
      errors: [404],
    },
    async (c, { params }) => c.json(await getPromotion(db, params.code)),
  );

  route(
    {
      method: 'put',
      path: '/promotions/:code',
      access: 'finance',
      operationId: 'putPromotion',
      summary: 'Create or replace a promotion',
      description:
        'The same body again changes nothing. 409 `promotion_in_use` for a limit given after its first use, `limit_below_uses` for a limit below the uses.',
      params: promotionParams,
      body: promotionBody,
      responses: {
        200: { description: 'Changed, or the same', schema: promotion },
        201: { description: 'Created', schema: promotion },
      },
      errors: [409],
    },
    async (c, { params, body }) => {
      const { promotion, created } = await putPromotion(
        db,
        params.code,
        body as Parameters<typeof putPromotion>[2],
      );
      return c.json(promotion, created ? 201 : 200);
    },
  );

  route(
    {
      method: 'delete',
      path: '/promotions/:code',
      access: 'finance',
      operationId: 'deletePromotion',
      summary: 'Delete a promotion no order has used',
      description: '409 `promotion_in_use` once one has: end it with `active: false` instead.',
      params: promotionParams,
      responses: { 204: { description: 'Deleted' } },
      errors: [404, 409],
    },
    async (c, { params }) => {
      await deletePromotion(db, params.code);
      return c.body(null, 204);
    },
  );

  return app;
}
