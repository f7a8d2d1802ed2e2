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

/** Most lines one contract takes. */
export const MAX_CONTRACT_LINES = 1000;

export const contractBody = z.object({
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

const listQuery = z.object({
  customer: z.string().min(1).max(LIMITS.codeLength).optional().describe('customer code'),
});

const contractDefaultBody = z.object({
  contractDefault: z.enum(CONTRACT_DEFAULTS as unknown as [ContractDefault, ...ContractDefault[]]),
});

/** `api`, `excel` or a channel id. */
const channelParam = z.string().regex(/^(api|excel|\d{1,15})$/, 'api, excel or a channel id');

const contract = z
  .object({
    number: z.string(),
    customer: z.string().describe('customer code'),
    name: z.string().nullable(),
    currency: z.string(),
    validFrom: z.string().describe('YYYY-MM-DD'),
    validTo: z.string().describe('YYYY-MM-DD'),
    status: z.enum(['not_yet_valid', 'active', 'expired']).describe("on today's business date"),
    lines: z.array(
      z.object({
        lineNo: z.number().int(),
        sku: z.string(),
        price: z.number().int().describe('minor units'),
        overrunPercent: z.number(),
        contracted: z.number().int(),
        allowance: z.number().int().describe('what the overrun adds to the contracted quantity'),
        drawn: z.number().int(),
        shipped: z.number().int(),
        remaining: z.number().int().describe('of the contracted quantity (never below 0)'),
        available: z.number().int().describe('what an order may still draw, the allowance included'),
      }),
    ),
    createdAt: z.string().nullable(),
    updatedAt: z.string().nullable(),
  })
  .meta({ id: 'Contract' });

const draws = z.object({
  number: z.string(),
  items: z.array(
    z.object({
      id: z.number().int(),
      lineNo: z.number().int(),
      sku: z.string(),
      order: z.number().int().describe('order id'),
      orderLine: z.number().int().nullable(),
      quantity: z.number().int().describe('negative when given back'),
      unitPrice: z.number().int().nullable(),
      reason: z.string(),
      actor: z.string(),
      at: z.string().nullable(),
    }),
  ),
});

const contractDefault = z
  .object({
    channel: z.string().describe('the channel as its orders name it: `api`, `excel`, `shopify:3`'),
    contractDefault: z.enum(CONTRACT_DEFAULTS as unknown as [ContractDefault, ...ContractDefault[]]),
  })
  .meta({ id: 'ChannelContractDefault' });

const contractParams = z.object({ number: codeParam.describe('contract number') });
const channelParams = z.object({ channel: channelParam.describe('channel') });

/** Sales contracts (blanket orders) and each channel's contract default. */
export function contractRoutes(db: Db) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Contracts', entity: 'contract', db });

  route(
    {
      method: 'get',
      path: '/contracts',
      access: 'read',
      operationId: 'listContracts',
      summary: "Contracts with their lines' figures",
      query: listQuery,
      responses: { 200: { description: 'The contracts', schema: z.object({ items: z.array(contract) }) } },
    },
    async (c, { query }) => c.json({ items: await listContracts(db, query) }),
  );

  route(
    {
      method: 'get',
      path: '/contracts/:number',
      access: 'read',
      operationId: 'getContract',
      summary: 'One contract: contracted, drawn, shipped and remaining per line',
      params: contractParams,
      responses: { 200: { description: 'The contract', schema: contract } },
      errors: [404],
    },
    async (c, { params }) => c.json(await getContract(db, params.number)),
  );

  route(
    {
      method: 'get',
      path: '/contracts/:number/draws',
      access: 'read',
      operationId: 'listContractDraws',
      summary: "A contract's draws ledger, oldest first",
      params: contractParams,
      responses: { 200: { description: 'The draws', schema: draws } },
      errors: [404],
    },
    async (c, { params }) => c.json(await contractDraws(db, params.number)),
  );

  route(
    {
      method: 'put',
      path: '/contracts/:number',
      access: 'finance',
      operationId: 'putContract',
      summary: 'Create or replace a contract',
      description:
        'The same body again changes nothing. 422 for an unknown customer or SKU; 409 when a line orders drew on would be removed or cut below what is drawn.',
      params: contractParams,
      body: contractBody,
      responses: {
        200: { description: 'Changed, or the same', schema: contract },
        201: { description: 'Created', schema: contract },
      },
      errors: [409],
    },
    async (c, { params, body }) => {
      const { contract, created } = await putContract(db, params.number, body);
      return c.json(contract, created ? 201 : 200);
    },
  );

  route(
    {
      method: 'get',
      path: '/channels/:channel/contract-default',
      access: 'read',
      operationId: 'getChannelContractDefault',
      summary: 'What orders of a channel that name no contract draw on',
      tags: ['Contracts', 'Channels'],
      params: channelParams,
      responses: { 200: { description: 'The setting', schema: contractDefault } },
      errors: [404],
    },
    async (c, { params }) => c.json(await channelContractDefault(db, params.channel)),
  );

  route(
    {
      method: 'put',
      path: '/channels/:channel/contract-default',
      access: 'finance',
      operationId: 'setChannelContractDefault',
      summary: 'Set what orders of a channel that name no contract draw on',
      tags: ['Contracts', 'Channels'],
      params: channelParams,
      body: contractDefaultBody,
      responses: { 200: { description: 'The setting now', schema: contractDefault } },
      errors: [404],
      audit: {
        entity: 'channel',
        load: ({ params }) => channelContractDefault(db, params.channel as string),
      },
    },
    async (c, { params, body }) =>
      c.json(await setChannelContractDefault(db, params.channel, body.contractDefault)),
  );

  return app;
}
