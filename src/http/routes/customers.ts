import { Hono } from 'hono';
import { z } from 'zod';
import { resultFileName } from '../../../connectors/excel-inbox/result-workbook.js';
import {
  channelCustomer,
  listChannelCustomers,
  mapChannelCustomer,
  unmapChannelCustomer,
} from '../../customers/channel-customers.js';
import { CUSTOMER_RESULT_COLUMNS, importCustomerSheet } from '../../customers/customer-import.js';
import { customerOrders, salespersonCustomers } from '../../customers/customer-orders.js';
import {
  customerDetail,
  deleteCustomer,
  deleteSalesperson,
  listCustomers,
  listSalespeople,
  salespersonDetail,
  upsertCustomer,
  upsertSalesperson,
} from '../../customers/customer-store.js';
import type { Db } from '../../db/connection.js';
import { customerBodySchema, salespersonBodySchema } from '../../domain/customer.js';
import { ApiError } from '../../errors/api-error.js';
import { attachmentDisposition } from '../../inbox/file-name.js';
import { catalogueResultWorkbook, countStatuses } from '../../stock/catalogue-result-workbook.js';
import type { AppEnv } from '../env.js';
import { parseParam, readJson } from '../errors.js';
import { nextCursor, pageQuery, readCursor } from '../pagination.js';
import { codeParam, idParam, outsideIdParam } from '../params.js';
import { readUpload, uploadLimit, XLSX_TYPE } from '../upload.js';
import { channelCustomerBody } from './channel-schemas.js';

const customerListQuery = z.object({
  q: z.string().trim().max(255).optional(),
  group: codeParam.optional(),
  salesperson: codeParam.optional(),
  ...pageQuery,
});
const pageOnly = z.object(pageQuery);

type Params = { req: { param(name: string): string | undefined } };
const customerCode = (c: Params) => parseParam(codeParam, c.req.param('code'), 'customer code');
const salespersonCode = (c: Params) => parseParam(codeParam, c.req.param('code'), 'salesperson code');
const channelId = (c: Params) => parseParam(idParam, c.req.param('id'), 'channel id');
const buyerId = (c: Params) =>
  parseParam(outsideIdParam, c.req.param('channelCustomerId'), 'channel customer id');

/** The path of the customer sheet upload; it has the upload body limit instead of the API's. */
export const CUSTOMER_IMPORT_PATH = '/api/customers/import';

/** Trade customers, salespeople, their orders, and channel buyers mapped to trade customers. */
export function customerRoutes(db: Db) {
  const app = new Hono<AppEnv>();

  app.get('/customers', async (c) => {
    const filter = parseParam(customerListQuery, c.req.query(), 'query');
    const { items, nextId } = await listCustomers(db, filter, readCursor(filter.cursor));
    return c.json({ items, nextCursor: nextCursor(nextId) });
  });

  app.post('/customers/import', uploadLimit(), async (c) => {
    const { file } = await readUpload(c, { en: 'an .xlsx or .csv sheet', zh: '.xlsx 或 .csv 表格' });
    const fileName = file.name || 'customers.csv';
    const result = await importCustomerSheet(db, { fileName, data: Buffer.from(await file.arrayBuffer()) });
    if (c.req.query('format') === 'xlsx') {
      c.header('Content-Type', XLSX_TYPE);
      c.header('Content-Disposition', attachmentDisposition(resultFileName(fileName)));
      const workbook = await catalogueResultWorkbook(result, CUSTOMER_RESULT_COLUMNS);
      return c.body(new Uint8Array(workbook), result.error ? 422 : 200);
    }
    if (result.error) throw new ApiError(422, 'invalid_file', result.error, { fileName: result.fileName });
    return c.json({
      summary: { fileName: result.fileName, rows: result.rows.length, ...countStatuses(result.rows) },
      rows: result.rows,
    });
  });

  app.put('/customers/:code', async (c) => {
    const code = customerCode(c);
    const body = await readJson(c, customerBodySchema);
    const { outcome, customer } = await upsertCustomer(db, code, body);
    return c.json({ ...customer, outcome }, outcome === 'created' ? 201 : 200);
  });

  app.get('/customers/:code', async (c) => c.json(await customerDetail(db, customerCode(c))));

  app.delete('/customers/:code', async (c) => {
    await deleteCustomer(db, customerCode(c));
    return c.body(null, 204);
  });

  app.get('/customers/:code/orders', async (c) => {
    const page = parseParam(pageOnly, c.req.query(), 'query');
    const { nextId, ...rest } = await customerOrders(db, customerCode(c), page, readCursor(page.cursor));
    return c.json({ ...rest, nextCursor: nextCursor(nextId) });
  });

  app.get('/salespeople', async (c) => {
    const page = parseParam(pageOnly, c.req.query(), 'query');
    const { items, nextId } = await listSalespeople(db, page, readCursor(page.cursor));
    return c.json({ items, nextCursor: nextCursor(nextId) });
  });

  app.put('/salespeople/:code', async (c) => {
    const code = salespersonCode(c);
    const body = await readJson(c, salespersonBodySchema);
    const { outcome, salesperson } = await upsertSalesperson(db, code, body);
    return c.json({ ...salesperson, outcome }, outcome === 'created' ? 201 : 200);
  });

  app.get('/salespeople/:code', async (c) => c.json(await salespersonDetail(db, salespersonCode(c))));

  app.delete('/salespeople/:code', async (c) => {
    await deleteSalesperson(db, salespersonCode(c));
    return c.body(null, 204);
  });

  app.get('/salespeople/:code/customers', async (c) => {
    const page = parseParam(pageOnly, c.req.query(), 'query');
    const { nextId, ...rest } = await salespersonCustomers(
      db,
      salespersonCode(c),
      page,
      readCursor(page.cursor),
    );
    return c.json({ ...rest, nextCursor: nextCursor(nextId) });
  });

  app.get('/channels/:id/customers', async (c) =>
    c.json({ items: await listChannelCustomers(db, channelId(c)) }),
  );

  app.put('/channels/:id/customers/:channelCustomerId', async (c) => {
    const id = channelId(c);
    const buyer = buyerId(c);
    const { customer } = await readJson(c, channelCustomerBody);
    const { outcome, mapping } = await mapChannelCustomer(db, id, buyer, customer);
    return c.json({ ...mapping, outcome }, outcome === 'created' ? 201 : 200);
  });

  app.get('/channels/:id/customers/:channelCustomerId', async (c) =>
    c.json(await channelCustomer(db, channelId(c), buyerId(c))),
  );

  app.delete('/channels/:id/customers/:channelCustomerId', async (c) => {
    await unmapChannelCustomer(db, channelId(c), buyerId(c));
    return c.body(null, 204);
  });

  return app;
}
