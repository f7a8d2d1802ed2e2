import { z } from 'zod';
import {
  channelTax,
  deleteTaxRate,
  listTaxRates,
  MAX_TAX_RATE_BP,
  setChannelTax,
  setCustomerTaxZone,
  setTaxRate,
} from '../../orders/tax-rates.js';
import type { AppDeps } from '../env.js';
import { newRoutes, routeRegistrar } from '../openapi.js';
import { codeParam, idParam } from '../params.js';
import { channelTaxBody } from './channel-schemas.js';

const rateBody = z.object({
  rateBasisPoints: z
    .number()
    .int('must be a whole number of basis points')
    .min(0)
    .max(MAX_TAX_RATE_BP)
    .describe('basis points: 1300 is 13 %'),
});

const customerZoneBody = z.object({ taxZone: codeParam.nullable().describe('null clears it') });

const taxRate = z
  .object({
    taxZone: z.string(),
    taxClass: z.string(),
    rateBasisPoints: z.number().int().describe('basis points: 1300 is 13 %'),
  })
  .meta({ id: 'TaxRate' });

const rateParams = z.object({
  zone: codeParam.describe('tax zone'),
  class: codeParam.describe('tax class'),
});

const channelTaxAnswer = z.object({
  id: z.number().int(),
  taxZone: z.string().nullable(),
  pricesIncludeTax: z.boolean(),
});

/** Tax rates per zone and class, and the tax zone of customers and channels (README "Order money and tax"). */
export function taxRateRoutes({ db }: AppDeps) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Tax', entity: 'tax_rate', db });

  route(
    {
      method: 'get',
      path: '/tax-rates',
      access: 'read',
      operationId: 'listTaxRates',
      summary: 'Every tax rate, by zone and class',
      responses: { 200: { description: 'The rates', schema: z.object({ items: z.array(taxRate) }) } },
    },
    async (c) => c.json({ items: await listTaxRates(db) }),
  );

  route(
    {
      method: 'put',
      path: '/tax-rates/:zone/:class',
      access: 'finance',
      operationId: 'setTaxRate',
      summary: 'Set the rate of a tax class in a zone',
      description: 'Creates the rate (201) or changes it (200). Orders already stored keep their tax.',
      params: rateParams,
      body: rateBody,
      responses: {
        200: { description: 'Changed', schema: taxRate },
        201: { description: 'Created', schema: taxRate },
      },
      audit: {
        load: async ({ params }) =>
          (await listTaxRates(db)).find((r) => r.taxZone === params.zone && r.taxClass === params.class) ??
          null,
      },
    },
    async (c, { params, body }) => {
      const { created, rate } = await setTaxRate(db, params.zone, params.class, body.rateBasisPoints);
      return c.json(rate, created ? 201 : 200);
    },
  );

  route(
    {
      method: 'delete',
      path: '/tax-rates/:zone/:class',
      access: 'finance',
      operationId: 'deleteTaxRate',
      summary: 'Remove a rate (the class is then not taxed in that zone)',
      params: rateParams,
      responses: { 204: { description: 'Removed' } },
      errors: [404],
    },
    async (c, { params }) => {
      await deleteTaxRate(db, params.zone, params.class);
      return c.body(null, 204);
    },
  );

  route(
    {
      method: 'put',
      path: '/tax-zones/customers/:code',
      access: 'finance',
      operationId: 'setCustomerTaxZone',
      summary: "Set or clear a customer's tax zone",
      params: z.object({ code: codeParam.describe('customer code') }),
      body: customerZoneBody,
      responses: {
        200: {
          description: 'Set',
          schema: z.object({ code: z.string(), taxZone: z.string().nullable() }),
        },
      },
      errors: [404],
      audit: { entity: 'customer' },
    },
    async (c, { params, body }) =>
      c.json({ code: await setCustomerTaxZone(db, params.code, body.taxZone), taxZone: body.taxZone }),
  );

  route(
    {
      method: 'put',
      path: '/channels/:id/tax',
      access: 'admin',
      operationId: 'setChannelTax',
      summary: "Set a channel's tax zone and whether its prices include tax",
      params: z.object({ id: idParam.describe('channel id') }),
      body: channelTaxBody,
      responses: { 200: { description: "The channel's tax settings now", schema: channelTaxAnswer } },
      errors: [404],
      audit: { entity: 'channel', load: ({ params }) => channelTax(db, params.id as number) },
    },
    async (c, { params, body }) => c.json(await setChannelTax(db, params.id, body)),
  );

  return app;
}
