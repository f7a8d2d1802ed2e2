import { Hono } from 'hono';
import { z } from 'zod';
import {
  channelContractDefault,
  contractDraws,
  getContract,
  listContracts,
  putContract,
  setChannelContractDefault,
} from '../../customers/contracts.js';
import type { Db } from '../../db/connection.js';
import { CONTRACT_DEFAULTS, type ContractDefault } from '../../domain/contracts.js';
import { currencySchema, LIMITS, text } from '../../domain/order-input.js';
import type { AppEnv } from '../env.js';
import { parseParam, readJson } from '../errors.js';
import { codeParam } from '../params.js';

const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date such as 2026-12-31')
  .refine((d) => new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'not a calendar date');

/** Most lines one contract takes. */
export const MAX_CONTRACT_LINES = 1000;

const contractBody = z.object({
  customer: text().trim().min(1).max(LIMITS.codeLength),
  name: text().trim().min(1).max(LIMITS.nameLength).optional(),
  currency: currencySchema,
  validFrom: date,
  validTo: date,
  lines: z
    .array(
      z.object({
        sku: codeParam,
        quantity: z
          .number()
          .int('must be a whole number')
          .positive('must be at least 1')
          .max(LIMITS.stockQuantityPerLine),
        price: z.number().int('must be integer minor units').min(0).max(LIMITS.maxMinor),
        overrunPercent: z.number().min(0).max(1000).multipleOf(0.01, 'at most 2 decimals').optional(),
      }),
    )
    .min(1, 'a contract needs at least one line')
    .max(MAX_CONTRACT_LINES),
});

const listQuery = z.object({ customer: z.string().min(1).max(LIMITS.codeLength).optional() });

const contractDefaultBody = z.object({
  contractDefault: z.enum(CONTRACT_DEFAULTS as unknown as [ContractDefault, ...ContractDefault[]]),
});

/** `api`, `excel` or a channel id. */
const channelParam = z.string().regex(/^(api|excel|\d{1,15})$/, 'api, excel or a channel id');

/** Sales contracts (blanket orders) and each channel's contract default. */
export function contractRoutes(db: Db) {
  const app = new Hono<AppEnv>();
  const numberOf = (c: { req: { param(name: string): string | undefined } }) =>
    parseParam(codeParam, c.req.param('number'), 'contract number');
  const channelOf = (c: { req: { param(name: string): string | undefined } }) =>
    parseParam(channelParam, c.req.param('channel'), 'channel');

  app.get('/contracts', async (c) => {
    const filter = parseParam(listQuery, c.req.query(), 'query');
    return c.json({ items: await listContracts(db, filter) });
  });

  app.get('/contracts/:number', async (c) => c.json(await getContract(db, numberOf(c))));

  app.get('/contracts/:number/draws', async (c) => c.json(await contractDraws(db, numberOf(c))));

  app.put('/contracts/:number', async (c) => {
    const number = numberOf(c);
    const body = await readJson(c, contractBody);
    const { contract, created } = await putContract(db, number, body);
    return c.json(contract, created ? 201 : 200);
  });

  app.get('/channels/:channel/contract-default', async (c) =>
    c.json(await channelContractDefault(db, channelOf(c))),
  );

  app.put('/channels/:channel/contract-default', async (c) => {
    const channel = channelOf(c);
    const body = await readJson(c, contractDefaultBody);
    return c.json(await setChannelContractDefault(db, channel, body.contractDefault));
  });

  return app;
}
