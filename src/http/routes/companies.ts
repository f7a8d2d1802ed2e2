import { Hono } from 'hono';
import type { Db } from '../../db/connection.js';
import {
  companyBodySchema,
  companyDetail,
  deleteCompany,
  listCompanies,
  upsertCompany,
} from '../../stock/companies.js';
import type { AppEnv } from '../env.js';
import { parseParam, readJson } from '../errors.js';
import { codeParam } from '../params.js';

type Params = { req: { param(name: string): string | undefined } };
const companyCode = (c: Params) => parseParam(codeParam, c.req.param('code'), 'company code');

/** The group's companies (legal entities); `PUT /api/warehouses/{code}` sets a warehouse's company. */
export function companyRoutes(db: Db) {
  const app = new Hono<AppEnv>();

  app.get('/companies', async (c) => c.json({ items: await listCompanies(db) }));

  app.get('/companies/:code', async (c) => c.json(await companyDetail(db, companyCode(c))));

  app.put('/companies/:code', async (c) => {
    const code = companyCode(c);
    const body = await readJson(c, companyBodySchema);
    const { outcome, company } = await upsertCompany(db, code, body);
    return c.json({ ...company, outcome }, outcome === 'created' ? 201 : 200);
  });

  app.delete('/companies/:code', async (c) => {
    await deleteCompany(db, companyCode(c));
    return c.body(null, 204);
  });

  return app;
}
