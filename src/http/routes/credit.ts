import { z } from 'zod';
import { customerCredit, salespersonCredit } from '../../customers/credit-view.js';
import {
  exchangeRatesBody,
  exchangeRatesQuery,
  listExchangeRates,
  putExchangeRates,
} from '../../customers/exchange-rates.js';
import { text } from '../../domain/order-input.js';
import { ORDER_STATUSES } from '../../domain/order-status.js';
import { approveAndProcess, rejectOrder } from '../../orders/approvals.js';
import type { AppDeps } from '../env.js';
import { actorHeaders, actorOf, newRoutes, routeRegistrar } from '../openapi.js';
import { codeParam, idParam } from '../params.js';
import { moneyAnswer } from './customer-schemas.js';

/** Kept for the routes that still import it from here; the one definition is in src/http/openapi.ts. */

export const decisionBody = z
  .object({ reason: text().trim().min(1, 'a decision needs a reason').max(200) })
  .strict();

const exchangeRate = z
  .object({
    from: z.string(),
    to: z.string(),
    date: z.string().describe('YYYY-MM-DD: in force from this date on'),
    rate: z.string().describe('units of `to` per unit of `from`, an exact decimal string'),
    updatedBy: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'ExchangeRate' });

const exchangeRates = z.object({ items: z.array(exchangeRate) });

const exposure = z
  .object({
    currency: z.string(),
    openOrders: z.number().int(),
    invoicedUnpaid: z.number().int(),
    total: z.number().int(),
  })
  .nullable()
  .describe('what the counter holds, in its own currency; null before the first booking');

const heldOrder = z.object({
  id: z.number().int(),
  channel: z.string(),
  externalId: z.string(),
  customer: z.string().nullable(),
  holdReason: z.string(),
  totalAmount: z.number().int(),
  currency: z.string(),
  heldAt: z.string().nullable(),
});

const available = moneyAnswer
  .nullable()
  .describe("the limit less the exposure, in the limit's currency; null without a limit or a rate");

const customerCreditAnswer = z
  .object({
    customer: z.string(),
    name: z.string().nullable(),
    group: z.string(),
    salesperson: z.string().nullable(),
    checked: z.boolean().describe('false for retail customers, who take no credit check'),
    onHold: z.boolean(),
    onHoldReason: z.string().nullable(),
    creditLimit: moneyAnswer.nullable(),
    exposure,
    available,
    heldOrders: z.array(heldOrder),
  })
  .meta({ id: 'CustomerCredit' });

const salespersonCreditAnswer = z
  .object({
    salesperson: z.string(),
    name: z.string().nullable(),
    creditLimit: moneyAnswer.nullable(),
    exposure,
    available,
    heldOrders: z.array(heldOrder),
  })
  .meta({ id: 'SalespersonCredit' });

const decisionAnswer = z
  .object({
    id: z.number().int(),
    status: z.enum(ORDER_STATUSES),
    approvalId: z.number().int(),
    actor: z.string(),
  })
  .meta({ id: 'OrderDecision' });

const orderParams = z.object({ id: idParam.describe('order id') });

/** Credit control: exchange rates, customers' and salespeople's credit, approvals of held orders. */
export function creditRoutes({ db, enqueueOrders }: AppDeps) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Credit', entity: 'exchange_rate', db });

  route(
    {
      method: 'put',
      path: '/exchange-rates',
      access: 'finance',
      operationId: 'putExchangeRates',
      summary: 'Create or replace dated exchange rates',
      description:
        'One rate per pair and date; the same pair and date again replaces it. All or nothing: 422 names the bad entry.',
      headers: actorHeaders,
      body: exchangeRatesBody,
      responses: { 200: { description: 'The rates as stored', schema: exchangeRates } },
    },
    async (c, { body }) => c.json({ items: await putExchangeRates(db, body, actorOf(c)) }),
  );

  route(
    {
      method: 'get',
      path: '/exchange-rates',
      access: 'read',
      operationId: 'listExchangeRates',
      summary: 'Exchange rates by pair and date, newest first',
      description: 'With `date`: per pair only the rate in force on that date.',
      query: exchangeRatesQuery,
      responses: { 200: { description: 'The rates', schema: exchangeRates } },
    },
    async (c, { query }) => c.json({ items: await listExchangeRates(db, query) }),
  );

  route(
    {
      method: 'get',
      path: '/customers/:code/credit',
      access: 'read',
      operationId: 'getCustomerCredit',
      summary: 'Where a customer stands on credit: limit, exposure, what is available, held orders',
      tags: ['Customers', 'Credit'],
      params: z.object({ code: codeParam.describe('customer code') }),
      responses: { 200: { description: "The customer's credit", schema: customerCreditAnswer } },
      errors: [404],
    },
    async (c, { params }) => c.json(await customerCredit(db, params.code)),
  );

  route(
    {
      method: 'get',
      path: '/salespeople/:code/credit',
      access: 'read',
      operationId: 'getSalespersonCredit',
      summary: "Where a salesperson's customers stand on the salesperson's credit limit",
      tags: ['Customers', 'Credit'],
      params: z.object({ code: codeParam.describe('salesperson code') }),
      responses: { 200: { description: "The salesperson's credit", schema: salespersonCreditAnswer } },
      errors: [404],
    },
    async (c, { params }) => c.json(await salespersonCredit(db, params.code)),
  );

  route(
    {
      method: 'post',
      path: '/orders/:id/approve',
      access: 'finance',
      operationId: 'approveOrder',
      summary: 'Approve an order held for credit',
      description:
        'The order goes back to `received` and through processing, and is not held again for the value it had when approved. 409 `not_on_hold`, or `not_approvable` for a hold other than a credit hold.',
      tags: ['Orders', 'Credit'],
      params: orderParams,
      headers: actorHeaders,
      body: decisionBody,
      responses: { 200: { description: 'Approved; the order is processed again', schema: decisionAnswer } },
      errors: [404, 409],
      audit: { entity: 'order' },
    },
    async (c, { params, body }) => {
      const actor = actorOf(c);
      const { order, approvalId } = await approveAndProcess(db, params.id, body.reason, actor, enqueueOrders);
      return c.json({ id: params.id, status: order.status, approvalId, actor });
    },
  );

  route(
    {
      method: 'post',
      path: '/orders/:id/reject',
      access: 'finance',
      operationId: 'rejectOrder',
      summary: 'Reject a held order: it ends `rejected` with the reason',
      description: '409 `not_on_hold` when the order is not on hold.',
      tags: ['Orders', 'Credit'],
      params: orderParams,
      headers: actorHeaders,
      body: decisionBody,
      responses: { 200: { description: 'Rejected', schema: decisionAnswer } },
      errors: [404, 409],
      audit: { entity: 'order' },
    },
    async (c, { params, body }) => {
      const actor = actorOf(c);
      const { order, approvalId } = await rejectOrder(db, params.id, body.reason, actor);
      return c.json({ id: params.id, status: order.status, approvalId, actor });
    },
  );

  return app;
}
