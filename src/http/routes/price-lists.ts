import { stream } from 'hono/streaming';
import { z } from 'zod';
import { channelPricing, setChannelPricing } from '../../customers/channel-pricing.js';
import { exportPriceListSheet, importPriceListSheet } from '../../customers/price-list-sheet.js';
import {
  assignPriceList,
  deletePriceList,
  getPriceList,
  listPriceLists,
  priceListItems,
  putPriceList,
  putPriceListItems,
  unassignPriceList,
} from '../../customers/price-lists.js';
import type { Db } from '../../db/connection.js';
import { currencySchema, LIMITS, text } from '../../domain/order-input.js';
import { PRICE_LEVELS } from '../../domain/pricing.js';
import { attachmentDisposition } from '../../inbox/file-name.js';
import { newRoutes, routeRegistrar } from '../openapi.js';
import { codeParam, idParam } from '../params.js';
import { readUpload, uploadLimit, XLSX_TYPE } from '../upload.js';
import { pricePolicyBody } from './channel-schemas.js';

/** `POST /api/price-lists/{code}/import`: a sheet upload, with the upload body limit. */
export const PRICE_LIST_IMPORT_PATH = /^\/api\/price-lists\/[^/]+\/import$/;

export const listBody = z.object({
  name: text().trim().min(1).max(LIMITS.nameLength),
  currency: currencySchema,
});

const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date such as 2026-12-31')
  .refine(
    (d) =>
      !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d),
    'not a calendar date',
  );

export const itemBody = z
  .object({
    sku: codeParam,
    minQuantity: z.number().int('must be a whole number').min(1).max(LIMITS.quantityPerLine).default(1),
    validFrom: date.nullable().optional(),
    validTo: date.nullable().optional(),
    price: z.number().int('must be integer minor units').min(0).max(LIMITS.maxMinor).nullable().optional(),
    percent: z.number().positive().max(10_000).multipleOf(0.01, 'at most 2 decimals').nullable().optional(),
    basedOn: codeParam.nullable().optional(),
  })
  .refine(
    (i) =>
      i.price != null ? i.percent == null && i.basedOn == null : i.percent != null && i.basedOn != null,
    'give either price, or percent and basedOn',
  );

export const MAX_PRICE_ITEMS = 50_000;
export const itemsBody = z.object({ items: z.array(itemBody).max(MAX_PRICE_ITEMS) });

export const assignmentBody = z.union([
  z.strictObject({ customer: text().trim().min(1).max(LIMITS.codeLength) }),
  z.strictObject({ group: text().trim().min(1).max(LIMITS.codeLength) }),
  z.strictObject({ default: z.literal(true) }),
]);

const assignment = z
  .object({
    id: z.number().int(),
    level: z.enum(PRICE_LEVELS as [string, ...string[]]),
    customer: z.string().optional().describe('the customer code, for a customer assignment'),
    group: z.string().optional().describe('the customer group, for a group assignment'),
  })
  .meta({ id: 'PriceListAssignment' });

const priceList = z
  .object({
    code: z.string(),
    name: z.string(),
    currency: z.string(),
    assignments: z.array(assignment),
    itemCount: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'PriceList' });

const priceItem = z
  .object({
    id: z.number().int(),
    sku: z.string(),
    minQuantity: z.number().int(),
    validFrom: z.string().nullable().describe('YYYY-MM-DD'),
    validTo: z.string().nullable().describe('YYYY-MM-DD'),
    price: z.number().int().nullable().describe('minor units; null for a percent of another list'),
    percent: z.number().nullable().describe('of the price in `basedOn`: 90 is 90 %'),
    basedOn: z.string().nullable().describe('the price list code a percent is of'),
  })
  .meta({ id: 'PriceListItem' });

const itemsSaved = z
  .object({
    created: z.number().int(),
    updated: z.number().int(),
    deleted: z.number().int(),
    unchanged: z.number().int(),
  })
  .meta({ id: 'PriceItemsSaved' });

const channelPricingAnswer = z
  .object({
    policy: z.enum(['enforce', 'accept', 'hold']),
    tolerancePercent: z.number().nullable(),
    toleranceAmount: z.number().int().nullable(),
    isDefault: z.boolean().describe('true while the channel follows the default of its kind'),
  })
  .meta({ id: 'ChannelPricePolicy' });

const listParams = z.object({ code: codeParam.describe('price list code') });
const channelParams = z.object({ id: idParam.describe('channel id') });

/** Price lists (一客一价): lists, their items (JSON or an Excel sheet), assignments, and channels' price policies. */
export function priceListRoutes(db: Db) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Price lists', entity: 'price_list', db });

  route(
    {
      method: 'get',
      path: '/price-lists',
      access: 'read',
      operationId: 'listPriceLists',
      summary: 'Every price list, by code',
      responses: { 200: { description: 'The lists', schema: z.object({ items: z.array(priceList) }) } },
    },
    async (c) => c.json({ items: await listPriceLists(db) }),
  );

  route(
    {
      method: 'get',
      path: '/price-lists/:code',
      access: 'read',
      operationId: 'getPriceList',
      summary: 'One price list with its assignments',
      params: listParams,
      responses: { 200: { description: 'The list', schema: priceList } },
      errors: [404],
    },
    async (c, { params }) => c.json(await getPriceList(db, params.code)),
  );

  route(
    {
      method: 'put',
      path: '/price-lists/:code',
      access: 'finance',
      operationId: 'putPriceList',
      summary: 'Create a price list or rename it',
      description: 'Its currency is fixed once it has items (409 to change it then).',
      params: listParams,
      body: listBody,
      responses: {
        200: { description: 'Changed, or the same', schema: priceList },
        201: { description: 'Created', schema: priceList },
      },
      errors: [409],
    },
    async (c, { params, body }) => {
      const { list, created } = await putPriceList(db, params.code, body);
      return c.json(list, created ? 201 : 200);
    },
  );

  route(
    {
      method: 'delete',
      path: '/price-lists/:code',
      access: 'finance',
      operationId: 'deletePriceList',
      summary: 'Delete a price list with its items and assignments',
      params: listParams,
      responses: { 204: { description: 'Deleted' } },
      errors: [404, 409],
    },
    async (c, { params }) => {
      await deletePriceList(db, params.code);
      return c.body(null, 204);
    },
  );

  route(
    {
      method: 'get',
      path: '/price-lists/:code/items',
      access: 'read',
      operationId: 'listPriceListItems',
      summary: "A list's items, by SKU, quantity break and validFrom",
      params: listParams,
      responses: {
        200: {
          description: 'The items',
          schema: z.object({ code: z.string(), currency: z.string(), items: z.array(priceItem) }),
        },
      },
      errors: [404],
    },
    async (c, { params }) => {
      const { list, items } = await priceListItems(db, params.code);
      return c.json({ code: list.code, currency: list.currency, items });
    },
  );

  route(
    {
      method: 'put',
      path: '/price-lists/:code/items',
      access: 'finance',
      operationId: 'putPriceListItems',
      summary: "Set a list's items to exactly those given",
      description:
        'An item with the SKU, quantity break and validFrom of a stored one updates it; others are created; stored items not given are deleted. All or nothing: 422 for invalid items, 409 for a tie or a basedOn cycle.',
      params: listParams,
      body: itemsBody,
      responses: { 200: { description: 'What changed', schema: itemsSaved } },
      errors: [404, 409],
    },
    async (c, { params, body }) => c.json(await putPriceListItems(db, params.code, body.items)),
  );

  app.post('/price-lists/:code/import', uploadLimit());
  route(
    {
      method: 'post',
      path: '/price-lists/:code/import',
      access: 'finance',
      operationId: 'importPriceListItems',
      summary: "Set a list's items from a sheet (.xlsx or .csv)",
      description:
        'As `PUT /price-lists/{code}/items`, with prices in major units. All or nothing: a sheet with any bad row changes nothing, and every bad row is reported (422).',
      params: listParams,
      upload: { contentTypes: ['multipart/form-data'], description: 'the sheet in the form field `file`' },
      responses: {
        200: {
          description: 'What changed',
          schema: z.object({ fileName: z.string(), rows: z.number().int(), saved: itemsSaved }),
        },
      },
      errors: [404, 409, 415, 422],
    },
    async (c, { params }) => {
      const { file } = await readUpload(c, { en: 'an .xlsx or .csv sheet', zh: '.xlsx 或 .csv 表格' });
      const data = Buffer.from(await file.arrayBuffer());
      return c.json(
        await importPriceListSheet(db, params.code, { fileName: file.name || 'prices.xlsx', data }),
      );
    },
  );

  route(
    {
      method: 'get',
      path: '/price-lists/:code/export',
      access: 'read',
      operationId: 'exportPriceList',
      summary: "A list's items as a sheet the import takes back unchanged",
      params: listParams,
      responses: { 200: { description: 'The sheet', contentType: XLSX_TYPE } },
      errors: [404],
    },
    async (c, { params }) => {
      const sheet = await exportPriceListSheet(db, params.code);
      c.header('Content-Type', XLSX_TYPE);
      c.header('Content-Disposition', attachmentDisposition(sheet.fileName));
      return stream(c, async (out) => {
        for await (const chunk of sheet.stream) await out.write(chunk as Uint8Array);
      });
    },
  );

  route(
    {
      method: 'post',
      path: '/price-lists/:code/assignments',
      access: 'finance',
      operationId: 'assignPriceList',
      summary: 'Assign a list to a customer, a customer group, or everyone',
      description:
        '422 for an unknown customer; 409 when its items would tie with a list assigned the same way. Assigning twice is one assignment (200).',
      params: listParams,
      body: assignmentBody,
      responses: {
        200: { description: 'Already assigned so', schema: assignment },
        201: { description: 'Assigned', schema: assignment },
      },
      errors: [404, 409],
    },
    async (c, { params, body }) => {
      const { assignment, created } = await assignPriceList(db, params.code, body);
      return c.json(assignment, created ? 201 : 200);
    },
  );

  route(
    {
      method: 'delete',
      path: '/price-lists/:code/assignments/:id',
      access: 'finance',
      operationId: 'unassignPriceList',
      summary: 'Remove an assignment of a list',
      params: z.object({
        code: codeParam.describe('price list code'),
        id: idParam.describe('assignment id'),
      }),
      responses: { 204: { description: 'Removed' } },
      errors: [404],
    },
    async (c, { params }) => {
      await unassignPriceList(db, params.code, params.id);
      return c.body(null, 204);
    },
  );

  route(
    {
      method: 'get',
      path: '/channels/:id/price-policy',
      access: 'read',
      operationId: 'getChannelPricePolicy',
      summary: "A channel's price policy: enforce our prices, accept the channel's, or hold differences",
      tags: ['Price lists', 'Channels'],
      params: channelParams,
      responses: { 200: { description: 'The policy', schema: channelPricingAnswer } },
      errors: [404],
    },
    async (c, { params }) => c.json(await channelPricing(db, params.id)),
  );

  route(
    {
      method: 'put',
      path: '/channels/:id/price-policy',
      access: 'finance',
      operationId: 'setChannelPricePolicy',
      summary: "Set a channel's price policy (its orders processed from now on follow it)",
      tags: ['Price lists', 'Channels'],
      params: channelParams,
      body: pricePolicyBody,
      responses: { 200: { description: 'The policy now', schema: channelPricingAnswer } },
      errors: [404],
      // An unknown channel is 404 here already, with the same message as the change would give.
      audit: { entity: 'channel', load: ({ params }) => channelPricing(db, params.id as number) },
    },
    async (c, { params, body }) => c.json(await setChannelPricing(db, params.id, body)),
  );

  return app;
}
