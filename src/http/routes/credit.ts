import { Hono } from 'hono';
import { z } from 'zod';
import { customerCredit, salespersonCredit } from '../../customers/credit-view.js';
import {
  exchangeRatesBody,
  exchangeRatesQuery,
  listExchangeRates,
  putExchangeRates,
} from '../../customers/exchange-rates.js';
import { text } from '../../domain/order-input.js';
import { approveOrder, rejectOrder } from '../../orders/approvals.js';
import type { AppDeps, AppEnv } from '../env.js';
import { parseParam, readJson } from '../errors.js';
import { codeParam, idParam } from '../params.js';

/**
 * Who acts: the bearer token is the administrator's (`admin`); a person acting with it can name
 * themselves in `X-Actor` (1–64 letters, digits, `. _ @ -`), recorded as `admin:<name>` in the
 * approvals log and the order history.
 */
const actorHeader = z
  .string()
  .min(1)
  .max(58)
  .regex(/^[A-Za-z0-9._@-]+$/, 'letters, digits and . _ @ - only')
  .optional();

export function actorOf(c: { req: { header(name: string): string | undefined } }): string {
  const name = parseParam(actorHeader, c.req.header('x-actor'), 'X-Actor header');
  return name ? `admin:${name}` : 'admin';
}

const decisionBody = z
  .object({ reason: text().trim().min(1, 'a decision needs a reason').max(200) })
  .strict();

/** Credit control: exchange rates, customers' and salespeople's credit, approvals of held orders. */
export function creditRoutes({ db, enqueueOrders }: AppDeps) {
  const app = new Hono<AppEnv>();

  app.put('/exchange-rates', async (c) => {
    const body = await readJson(c, exchangeRatesBody);
    return c.json({ items: await putExchangeRates(db, body, actorOf(c)) });
  });

  app.get('/exchange-rates', async (c) => {
    const q = parseParam(exchangeRatesQuery, c.req.query(), 'query');
    return c.json({ items: await listExchangeRates(db, q) });
  });

  app.get('/customers/:code/credit', async (c) =>
    c.json(await customerCredit(db, parseParam(codeParam, c.req.param('code'), 'customer code'))),
  );

  app.get('/salespeople/:code/credit', async (c) =>
    c.json(await salespersonCredit(db, parseParam(codeParam, c.req.param('code'), 'salesperson code'))),
  );

  /** Approves an order held for credit: it goes through processing again and is not held for the same value. */
  app.post('/orders/:id/approve', async (c) => {
    const id = parseParam(idParam, c.req.param('id'), 'order id');
    const actor = actorOf(c);
    const { reason } = await readJson(c, decisionBody);
    const { order, approvalId } = await approveOrder(db, id, reason, actor);
    await enqueueOrders([id]).catch(() => {});
    return c.json({ id, status: order.status, approvalId, actor });
  });

  /** Rejects a held order: it ends `rejected` with the reason. */
  app.post('/orders/:id/reject', async (c) => {
    const id = parseParam(idParam, c.req.param('id'), 'order id');
    const actor = actorOf(c);
    const { reason } = await readJson(c, decisionBody);
    const { order, approvalId } = await rejectOrder(db, id, reason, actor);
    return c.json({ id, status: order.status, approvalId, actor });
  });

  return app;
}
