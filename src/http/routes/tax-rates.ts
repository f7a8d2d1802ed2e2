import { Hono } from 'hono';
import { z } from 'zod';
import {
  deleteTaxRate,
  listTaxRates,
  MAX_TAX_RATE_BP,
  setChannelTax,
  setCustomerTaxZone,
  setTaxRate,
} from '../../orders/tax-rates.js';
import type { AppDeps, AppEnv } from '../env.js';
import { parseParam, readJson } from '../errors.js';
import { codeParam, idParam } from '../params.js';
import { channelTaxBody } from './channel-schemas.js';

const rateBody = z.object({
  /** Basis points: 1300 is 13 %. */
  rateBasisPoints: z.number().int('must be a whole number of basis points').min(0).max(MAX_TAX_RATE_BP),
});

const customerZoneBody = z.object({ taxZone: codeParam.nullable() });

/** Tax rates per zone and class, and the tax zone of customers and channels (README "Order money and tax"). */
export function taxRateRoutes({ db }: AppDeps) {
  const app = new Hono<AppEnv>();

  app.get('/tax-rates', async (c) => c.json({ items: await listTaxRates(db) }));

  app.put('/tax-rates/:zone/:class', async (c) => {
    const zone = parseParam(codeParam, c.req.param('zone'), 'tax zone');
    const taxClass = parseParam(codeParam, c.req.param('class'), 'tax class');
    const body = await readJson(c, rateBody);
    const { created, rate } = await setTaxRate(db, zone, taxClass, body.rateBasisPoints);
    return c.json(rate, created ? 201 : 200);
  });

  app.delete('/tax-rates/:zone/:class', async (c) => {
    const zone = parseParam(codeParam, c.req.param('zone'), 'tax zone');
    const taxClass = parseParam(codeParam, c.req.param('class'), 'tax class');
    await deleteTaxRate(db, zone, taxClass);
    return c.body(null, 204);
  });

  app.put('/tax-zones/customers/:code', async (c) => {
    const code = parseParam(codeParam, c.req.param('code'), 'customer code');
    const body = await readJson(c, customerZoneBody);
    return c.json({ code: await setCustomerTaxZone(db, code, body.taxZone), taxZone: body.taxZone });
  });

  app.put('/channels/:id/tax', async (c) => {
    const id = parseParam(idParam, c.req.param('id'), 'channel id');
    const body = await readJson(c, channelTaxBody);
    return c.json(await setChannelTax(db, id, body));
  });

  return app;
}
