import { Hono } from 'hono';
import { z } from 'zod';
import type { Db } from '../../db/connection.js';
import { getTransfer, receiveTransfer, sendTransfer } from '../../stock/transfers.js';
import type { AppEnv } from '../env.js';
import { parseParam, readJson } from '../errors.js';
import { codeParam, idempotencyKeyParam, outsideIdParam } from '../params.js';
import { quantityLines, reference } from './stock.js';

const transferBody = z.object({
  ref: reference,
  from: codeParam,
  to: codeParam,
  priceList: codeParam.optional(),
  lines: quantityLines,
});

const receiveBody = z.object({ receipt: reference.optional(), lines: quantityLines.optional() });

type Params = { req: { param(name: string): string | undefined } };
const transferRef = (c: Params) => parseParam(outsideIdParam, c.req.param('ref'), 'transfer ref');

/** Intra-group transfers (集团内部调拨): stock sold between two companies of the group. */
export function transferRoutes(db: Db) {
  const app = new Hono<AppEnv>();

  app.post('/transfers', async (c) => {
    const body = await readJson(c, transferBody);
    const result = await sendTransfer(db, body);
    return c.json({ ...result.transfer, duplicate: result.duplicate }, result.duplicate ? 200 : 201);
  });

  app.post('/transfers/:ref/receive', async (c) => {
    const ref = transferRef(c);
    const key = parseParam(idempotencyKeyParam, c.req.header('idempotency-key'), 'Idempotency-Key header');
    const text = await c.req.text();
    const body = text.trim() === '' ? {} : await readJson(c, receiveBody);
    const result = await receiveTransfer(db, ref, { receipt: body.receipt ?? key, lines: body.lines });
    return c.json(
      { ...result.transfer, duplicate: result.duplicate, filledOrders: result.filledOrders },
      result.duplicate ? 200 : 201,
    );
  });

  app.get('/transfers/:ref', async (c) => c.json(await getTransfer(db, transferRef(c))));

  return app;
}
