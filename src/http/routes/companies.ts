import { z } from 'zod';
import type { Db } from '../../db/connection.js';
import { NotFoundError } from '../../errors/domain-errors.js';
import {
  companyBodySchema,
  companyDetail,
  deleteCompany,
  listCompanies,
  upsertCompany,
} from '../../stock/companies.js';
import { newRoutes, routeRegistrar } from '../openapi.js';
import { codeParam } from '../params.js';

const companyParams = z.object({ code: codeParam.describe('company code') });

const companySchema = z
  .object({
    code: z.string(),
    name: z.string(),
    nameZh: z.string().nullable().describe('the name in Chinese for documents in zh-CN, when it differs'),
    taxId: z.string().nullable(),
    address: z.string().nullable(),
    phone: z.string().nullable(),
    email: z.string().nullable(),
    bankAccount: z.string().nullable(),
    currency: z.string(),
    transferPriceList: z
      .string()
      .nullable()
      .describe('code of the price list transfers to this company are priced at'),
    warehouses: z.array(z.string()).describe('codes of the warehouses it owns (not its in-transit location)'),
    createdAt: z.string().nullable(),
    updatedAt: z.string().nullable(),
  })
  .meta({ id: 'Company' });

const companyUpsertedSchema = companySchema
  .extend({ outcome: z.enum(['created', 'updated', 'unchanged']) })
  .meta({ id: 'CompanyUpserted' });

/** The group's companies (legal entities); `PUT /api/warehouses/{code}` sets a warehouse's company. */
export function companyRoutes(db: Db) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Companies', entity: 'company', db });
  // Before and after of a change: the company as the API shows it (null: none).
  const load = async ({ params }: { params: Record<string, unknown> }) =>
    companyDetail(db, String(params.code)).catch((err) => {
      if (err instanceof NotFoundError) return null;
      throw err;
    });

  route(
    {
      method: 'get',
      path: '/companies',
      access: 'read',
      operationId: 'listCompanies',
      summary: "The group's companies (legal entities)",
      responses: {
        200: { description: 'Every company', schema: z.object({ items: z.array(companySchema) }) },
      },
    },
    async (c) => c.json({ items: await listCompanies(db) }),
  );

  route(
    {
      method: 'get',
      path: '/companies/:code',
      access: 'read',
      operationId: 'getCompany',
      summary: 'A company',
      params: companyParams,
      responses: { 200: { description: 'The company', schema: companySchema } },
      errors: [404],
    },
    async (c, { params }) => c.json(await companyDetail(db, params.code)),
  );

  route(
    {
      method: 'put',
      path: '/companies/:code',
      access: 'finance',
      operationId: 'putCompany',
      summary: 'Create or change a company',
      params: companyParams,
      body: companyBodySchema,
      responses: {
        200: { description: 'Changed (or unchanged)', schema: companyUpsertedSchema },
        201: { description: 'Created', schema: companyUpsertedSchema },
      },
      audit: { load },
    },
    async (c, { params, body }) => {
      const { outcome, company } = await upsertCompany(db, params.code, body);
      return c.json({ ...company, outcome }, outcome === 'created' ? 201 : 200);
    },
  );

  route(
    {
      method: 'delete',
      path: '/companies/:code',
      access: 'finance',
      operationId: 'deleteCompany',
      summary: 'Remove a company (not while it owns warehouses or is party to a transfer)',
      params: companyParams,
      responses: { 204: { description: 'Removed' } },
      errors: [404, 409],
      audit: { load },
    },
    async (c, { params }) => {
      await deleteCompany(db, params.code);
      return c.body(null, 204);
    },
  );

  return app;
}
