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
import { DomainError } from '../../errors/domain-errors.js';
import { attachmentDisposition } from '../../inbox/file-name.js';
import { catalogueResultWorkbook, countStatuses } from '../../stock/catalogue-result-workbook.js';
import { newRoutes, routeRegistrar } from '../openapi.js';
import { nextCursor, pageQuery, readCursor } from '../pagination.js';
import { codeParam, idParam, outsideIdParam } from '../params.js';
import { readUpload, uploadLimit, XLSX_TYPE } from '../upload.js';
import { channelCustomerBody } from './channel-schemas.js';
import {
  channelCustomerAnswer,
  channelCustomerUpsertAnswer,
  customerAnswer,
  customerImportAnswer,
  customerOrdersAnswer,
  customerPage,
  customerUpsertAnswer,
  salespersonAnswer,
  salespersonCustomersAnswer,
  salespersonPage,
  salespersonUpsertAnswer,
} from './customer-schemas.js';

export const customerListQuery = z.object({
  q: z.string().trim().max(255).optional().describe('part of the code, the name or a contact e-mail'),
  group: codeParam.optional(),
  salesperson: codeParam.optional().describe('salesperson code'),
  ...pageQuery,
});
const pageOnly = z.object(pageQuery);
const importQuery = z.object({
  format: z.string().optional().describe('`xlsx`: the result as a workbook instead of JSON'),
});

const customerParams = z.object({ code: codeParam.describe('customer code') });
const salespersonParams = z.object({ code: codeParam.describe('salesperson code') });
const channelParams = z.object({ id: idParam.describe('channel id') });
const buyerParams = z.object({
  id: idParam.describe('channel id'),
  channelCustomerId: outsideIdParam.describe('channel customer id'),
});

/** The stored record, or null when there is none (the state before a create, after a delete). */
const orNull = <T>(read: Promise<T>): Promise<T | null> =>
  read.catch((err) => {
    if (err instanceof DomainError && err.code === 'not_found') return null;
    throw err;
  });

/** The path of the customer sheet upload; it has the upload body limit instead of the API's. */
export const CUSTOMER_IMPORT_PATH = '/api/customers/import';

/** Trade customers, salespeople, their orders, and channel buyers mapped to trade customers. */
export function customerRoutes(db: Db) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Customers', entity: 'customer', db });
  // Credit limit, payment terms and the on-hold flag are settings: the audit log keeps before and after.
  const customerState = {
    load: ({ params }: { params: Record<string, unknown> }) =>
      orNull(customerDetail(db, params.code as string)),
  };
  const salespersonState = {
    entity: 'salesperson',
    load: ({ params }: { params: Record<string, unknown> }) =>
      orNull(salespersonDetail(db, params.code as string)),
  };

  route(
    {
      method: 'get',
      path: '/customers',
      access: 'read',
      operationId: 'listCustomers',
      summary: 'Trade customers, newest first',
      query: customerListQuery,
      responses: { 200: { description: 'A page of customers', schema: customerPage } },
    },
    async (c, { query }) => {
      const { items, nextId } = await listCustomers(db, query, readCursor(query.cursor));
      return c.json({ items, nextCursor: nextCursor(nextId) });
    },
  );

  app.post('/customers/import', uploadLimit());
  route(
    {
      method: 'post',
      path: '/customers/import',
      access: 'finance',
      operationId: 'importCustomers',
      summary: 'Create or update customers from a sheet (.xlsx or .csv)',
      description:
        'One customer per row, by code; a row sets the columns the sheet has and keeps the others. A bad row is rejected with its reason, the others are stored. `?format=xlsx` answers with the result workbook.',
      query: importQuery,
      upload: {
        contentTypes: ['multipart/form-data'],
        description: 'the sheet in the form field `file`',
      },
      responses: {
        200: { description: 'Every row with its outcome', schema: customerImportAnswer, files: [XLSX_TYPE] },
        422: {
          description:
            'The file could not be read as a customer sheet (the result workbook with `?format=xlsx`)',
          contentType: XLSX_TYPE,
        },
      },
      errors: [415, 422],
    },
    async (c, { query }) => {
      const { file } = await readUpload(c, { en: 'an .xlsx or .csv sheet', zh: '.xlsx 或 .csv 表格' });
      const fileName = file.name || 'customers.csv';
      const result = await importCustomerSheet(db, { fileName, data: Buffer.from(await file.arrayBuffer()) });
      if (query.format === 'xlsx') {
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
    },
  );

  route(
    {
      method: 'put',
      path: '/customers/:code',
      access: 'finance',
      operationId: 'putCustomer',
      summary: 'Create or replace a trade customer',
      description:
        'The whole record: fields left out take their defaults. The same body again writes nothing (`outcome: unchanged`).',
      params: customerParams,
      body: customerBodySchema,
      responses: {
        200: { description: 'Updated, or unchanged', schema: customerUpsertAnswer },
        201: { description: 'Created', schema: customerUpsertAnswer },
      },
      errors: [422],
      audit: customerState,
    },
    async (c, { params, body }) => {
      const { outcome, customer } = await upsertCustomer(db, params.code, body);
      return c.json({ ...customer, outcome }, outcome === 'created' ? 201 : 200);
    },
  );

  route(
    {
      method: 'get',
      path: '/customers/:code',
      access: 'read',
      operationId: 'getCustomer',
      summary: 'One trade customer',
      params: customerParams,
      responses: { 200: { description: 'The customer', schema: customerAnswer } },
      errors: [404],
    },
    async (c, { params }) => c.json(await customerDetail(db, params.code)),
  );

  route(
    {
      method: 'delete',
      path: '/customers/:code',
      access: 'finance',
      operationId: 'deleteCustomer',
      summary: 'Delete a trade customer that has no orders',
      description: '409 `customer_has_orders` once it has orders: put it on hold instead.',
      params: customerParams,
      responses: { 204: { description: 'Deleted, with its contacts and channel mappings' } },
      errors: [404, 409],
      audit: customerState,
    },
    async (c, { params }) => {
      await deleteCustomer(db, params.code);
      return c.body(null, 204);
    },
  );

  route(
    {
      method: 'get',
      path: '/customers/:code/orders',
      access: 'read',
      operationId: 'listCustomerOrders',
      summary: "A customer's orders with their lines' execution (执行情况), and its totals",
      params: customerParams,
      query: pageOnly,
      responses: { 200: { description: 'A page of orders', schema: customerOrdersAnswer } },
      errors: [404],
    },
    async (c, { params, query }) => {
      const { nextId, ...rest } = await customerOrders(db, params.code, query, readCursor(query.cursor));
      return c.json({ ...rest, nextCursor: nextCursor(nextId) });
    },
  );

  route(
    {
      method: 'get',
      path: '/salespeople',
      access: 'read',
      operationId: 'listSalespeople',
      summary: 'Salespeople, newest first',
      query: pageOnly,
      responses: { 200: { description: 'A page of salespeople', schema: salespersonPage } },
    },
    async (c, { query }) => {
      const { items, nextId } = await listSalespeople(db, query, readCursor(query.cursor));
      return c.json({ items, nextCursor: nextCursor(nextId) });
    },
  );

  route(
    {
      method: 'put',
      path: '/salespeople/:code',
      access: 'finance',
      operationId: 'putSalesperson',
      summary: 'Create or replace a salesperson',
      params: salespersonParams,
      body: salespersonBodySchema,
      responses: {
        200: { description: 'Updated, or unchanged', schema: salespersonUpsertAnswer },
        201: { description: 'Created', schema: salespersonUpsertAnswer },
      },
      audit: salespersonState,
    },
    async (c, { params, body }) => {
      const { outcome, salesperson } = await upsertSalesperson(db, params.code, body);
      return c.json({ ...salesperson, outcome }, outcome === 'created' ? 201 : 200);
    },
  );

  route(
    {
      method: 'get',
      path: '/salespeople/:code',
      access: 'read',
      operationId: 'getSalesperson',
      summary: 'One salesperson',
      params: salespersonParams,
      responses: { 200: { description: 'The salesperson', schema: salespersonAnswer } },
      errors: [404],
    },
    async (c, { params }) => c.json(await salespersonDetail(db, params.code)),
  );

  route(
    {
      method: 'delete',
      path: '/salespeople/:code',
      access: 'finance',
      operationId: 'deleteSalesperson',
      summary: 'Delete a salesperson no customer names',
      description: '409 `salesperson_has_customers` otherwise: reassign them, or set `active: false`.',
      params: salespersonParams,
      responses: { 204: { description: 'Deleted' } },
      errors: [404, 409],
      audit: salespersonState,
    },
    async (c, { params }) => {
      await deleteSalesperson(db, params.code);
      return c.body(null, 204);
    },
  );

  route(
    {
      method: 'get',
      path: '/salespeople/:code/customers',
      access: 'read',
      operationId: 'listSalespersonCustomers',
      summary: "A salesperson's customers with their totals, beside the salesperson's credit limit",
      params: salespersonParams,
      query: pageOnly,
      responses: { 200: { description: 'A page of customers', schema: salespersonCustomersAnswer } },
      errors: [404],
    },
    async (c, { params, query }) => {
      const { nextId, ...rest } = await salespersonCustomers(
        db,
        params.code,
        query,
        readCursor(query.cursor),
      );
      return c.json({ ...rest, nextCursor: nextCursor(nextId) });
    },
  );

  route(
    {
      method: 'get',
      path: '/channels/:id/customers',
      access: 'read',
      operationId: 'listChannelCustomers',
      summary: "A channel's buyers mapped to trade customers",
      tags: ['Customers', 'Channels'],
      params: channelParams,
      responses: {
        200: { description: 'The mappings', schema: z.object({ items: z.array(channelCustomerAnswer) }) },
      },
      errors: [404],
    },
    async (c, { params }) => c.json({ items: await listChannelCustomers(db, params.id) }),
  );

  route(
    {
      method: 'put',
      path: '/channels/:id/customers/:channelCustomerId',
      access: 'finance',
      operationId: 'mapChannelCustomer',
      summary: "Map a channel's buyer to a trade customer",
      description:
        'Orders of that buyer from then on belong to the trade customer; orders stored before keep theirs.',
      tags: ['Customers', 'Channels'],
      params: buyerParams,
      body: channelCustomerBody,
      responses: {
        200: { description: 'Moved, or unchanged', schema: channelCustomerUpsertAnswer },
        201: { description: 'Created', schema: channelCustomerUpsertAnswer },
      },
      errors: [404],
      audit: { entity: 'channel_customer' },
    },
    async (c, { params, body }) => {
      const { outcome, mapping } = await mapChannelCustomer(
        db,
        params.id,
        params.channelCustomerId,
        body.customer,
      );
      return c.json({ ...mapping, outcome }, outcome === 'created' ? 201 : 200);
    },
  );

  route(
    {
      method: 'get',
      path: '/channels/:id/customers/:channelCustomerId',
      access: 'read',
      operationId: 'getChannelCustomer',
      summary: "The trade customer a channel's buyer is mapped to",
      tags: ['Customers', 'Channels'],
      params: buyerParams,
      responses: { 200: { description: 'The mapping', schema: channelCustomerAnswer } },
      errors: [404],
    },
    async (c, { params }) => c.json(await channelCustomer(db, params.id, params.channelCustomerId)),
  );

  route(
    {
      method: 'delete',
      path: '/channels/:id/customers/:channelCustomerId',
      access: 'finance',
      operationId: 'unmapChannelCustomer',
      summary: "Remove a buyer's mapping (orders already stored keep their customer)",
      tags: ['Customers', 'Channels'],
      params: buyerParams,
      responses: { 204: { description: 'Removed' } },
      errors: [404],
      audit: { entity: 'channel_customer' },
    },
    async (c, { params }) => {
      await unmapChannelCustomer(db, params.id, params.channelCustomerId);
      return c.body(null, 204);
    },
  );

  return app;
}
