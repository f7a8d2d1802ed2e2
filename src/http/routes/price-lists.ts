import { Hono } from 'hono';
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
import { attachmentDisposition } from '../../inbox/file-name.js';
import type { AppEnv } from '../env.js';
import { parseParam, readJson } from '../errors.js';
import { codeParam, idParam } from '../params.js';
import { readUpload, uploadLimit, XLSX_TYPE } from '../upload.js';
import { pricePolicyBody } from './channel-schemas.js';

/** `POST /api/price-lists/{code}/import`: a sheet upload, with the upload body limit. */
export const PRICE_LIST_IMPORT_PATH = /^\/api\/price-lists\/[^/]+\/import$/;

const listBody = z.object({
  name: text().trim().min(1).max(LIMITS.nameLength),
  currency: currencySchema,
});

const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date such as 2026-12-31')
  .refine((d) => new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'not a calendar date');

const itemBody = z
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
const itemsBody = z.object({ items: z.array(itemBody).max(MAX_PRICE_ITEMS) });

const assignmentBody = z.union([
  z.strictObject({ customer: text().trim().min(1).max(LIMITS.codeLength) }),
  z.strictObject({ group: text().trim().min(1).max(LIMITS.codeLength) }),
  z.strictObject({ default: z.literal(true) }),
]);

/** Price lists (一客一价): lists, their items (JSON or an Excel sheet), assignments, and channels' price policies. */
export function priceListRoutes(db: Db) {
  const app = new Hono<AppEnv>();
  const codeOf = (c: { req: { param(name: string): string | undefined } }) =>
    parseParam(codeParam, c.req.param('code'), 'price list code');

  app.get('/price-lists', async (c) => c.json({ items: await listPriceLists(db) }));

  app.get('/price-lists/:code', async (c) => c.json(await getPriceList(db, codeOf(c))));

  app.put('/price-lists/:code', async (c) => {
    const code = codeOf(c);
    const body = await readJson(c, listBody);
    const { list, created } = await putPriceList(db, code, body);
    return c.json(list, created ? 201 : 200);
  });

  app.delete('/price-lists/:code', async (c) => {
    await deletePriceList(db, codeOf(c));
    return c.body(null, 204);
  });

  app.get('/price-lists/:code/items', async (c) => {
    const { list, items } = await priceListItems(db, codeOf(c));
    return c.json({ code: list.code, currency: list.currency, items });
  });

  app.put('/price-lists/:code/items', async (c) => {
    const code = codeOf(c);
    const body = await readJson(c, itemsBody);
    return c.json(await putPriceListItems(db, code, body.items));
  });

  app.post('/price-lists/:code/import', uploadLimit(), async (c) => {
    const code = codeOf(c);
    const { file } = await readUpload(c, { en: 'an .xlsx or .csv sheet', zh: '.xlsx 或 .csv 表格' });
    const data = Buffer.from(await file.arrayBuffer());
    return c.json(await importPriceListSheet(db, code, { fileName: file.name || 'prices.xlsx', data }));
  });

  app.get('/price-lists/:code/export', async (c) => {
    const sheet = await exportPriceListSheet(db, codeOf(c));
    c.header('Content-Type', XLSX_TYPE);
    c.header('Content-Disposition', attachmentDisposition(sheet.fileName));
    return stream(c, async (out) => {
      for await (const chunk of sheet.stream) await out.write(chunk as Uint8Array);
    });
  });

  app.post('/price-lists/:code/assignments', async (c) => {
    const code = codeOf(c);
    const body = await readJson(c, assignmentBody);
    const { assignment, created } = await assignPriceList(db, code, body);
    return c.json(assignment, created ? 201 : 200);
  });

  app.delete('/price-lists/:code/assignments/:id', async (c) => {
    const code = codeOf(c);
    await unassignPriceList(db, code, parseParam(idParam, c.req.param('id'), 'assignment id'));
    return c.body(null, 204);
  });

  app.get('/channels/:id/price-policy', async (c) =>
    c.json(await channelPricing(db, parseParam(idParam, c.req.param('id'), 'channel id'))),
  );

  app.put('/channels/:id/price-policy', async (c) => {
    const id = parseParam(idParam, c.req.param('id'), 'channel id');
    const body = await readJson(c, pricePolicyBody);
    return c.json(await setChannelPricing(db, id, body));
  });

  return app;
}
