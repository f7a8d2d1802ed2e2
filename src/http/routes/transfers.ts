import { z } from 'zod';
import type { Db } from '../../db/connection.js';
import { getTransfer, receiveTransfer, sendTransfer } from '../../stock/transfers.js';
import { newRoutes, routeRegistrar } from '../openapi.js';
import { codeParam, idempotencyKeyParam, outsideIdParam } from '../params.js';
import { quantityLines, reference } from './stock.js';

export const groupTransferBody = z.object({
  ref: reference,
  from: codeParam,
  to: codeParam,
  priceList: codeParam.optional(),
  lines: quantityLines,
});

export const receiveBody = z.object({ receipt: reference.optional(), lines: quantityLines.optional() });

export const transferParams = z.object({ ref: outsideIdParam.describe('transfer ref') });

const isoTime = z.string().describe('UTC, ISO 8601');
const skuQuantity = z.object({ sku: z.string(), quantity: z.number().int() });

const transferSchema = z
  .object({
    ref: z.string(),
    from: z.object({ warehouse: z.string(), company: z.string() }),
    to: z.object({ warehouse: z.string(), company: z.string() }),
    inTransitLocation: z.string().describe("the receiving company's in-transit location the stock waits in"),
    priceList: z.string(),
    currency: z.string(),
    status: z.enum(['in_transit', 'received']),
    lines: z.array(
      z.object({
        sku: z.string(),
        sent: z.number().int(),
        received: z.number().int(),
        inTransit: z.number().int(),
        unitPrice: z.number().int().describe('minor units'),
        currency: z.string(),
        amount: z.number().int().describe('minor units'),
      }),
    ),
    totals: z.object({
      sent: z.number().int(),
      received: z.number().int(),
      inTransit: z.number().int(),
      amount: z.number().int(),
    }),
    receipts: z.array(z.object({ receipt: z.string(), lines: z.array(skuQuantity), at: isoTime.nullable() })),
    sale: z
      .object({
        seller: z.string(),
        buyer: z.string(),
        currency: z.string(),
        totalAmount: z.number().int(),
        invoiceId: z.number().int().nullable(),
      })
      .describe("the sending company's side: a sale to the receiving company"),
    createdAt: isoTime.nullable(),
  })
  .meta({ id: 'Transfer' });

const sentSchema = transferSchema
  .extend({ duplicate: z.boolean().describe('true: this ref was already recorded with the same content') })
  .meta({ id: 'TransferSent' });

const receivedSchema = transferSchema
  .extend({
    duplicate: z.boolean().describe('true: this receipt was already recorded; nothing changed'),
    filledOrders: z.array(z.number().int()).describe('orders whose backorders the received stock filled'),
  })
  .meta({ id: 'TransferReceived' });

/** Intra-group transfers (集团内部调拨): stock sold between two companies of the group. */
export function transferRoutes(db: Db) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Transfers', entity: 'transfer', db });

  route(
    {
      method: 'post',
      path: '/transfers',
      access: 'operate',
      operationId: 'sendTransfer',
      summary: 'Send stock to another company of the group',
      body: groupTransferBody,
      responses: {
        200: { description: 'Already recorded with the same content', schema: sentSchema },
        201: { description: 'Sent: the stock is in transit', schema: sentSchema },
      },
      errors: [409],
    },
    async (c, { body }) => {
      const result = await sendTransfer(db, body);
      return c.json({ ...result.transfer, duplicate: result.duplicate }, result.duplicate ? 200 : 201);
    },
  );

  route(
    {
      method: 'post',
      path: '/transfers/:ref/receive',
      access: 'operate',
      operationId: 'receiveTransfer',
      summary: 'Receive a transfer (without lines: everything still in transit)',
      params: transferParams,
      headers: z.object({
        'idempotency-key': idempotencyKeyParam.describe('the receipt reference when the body names none'),
      }),
      body: receiveBody,
      bodyOptional: true,
      responses: {
        200: { description: 'This receipt was already recorded', schema: receivedSchema },
        201: { description: 'Received', schema: receivedSchema },
      },
      errors: [404, 409],
    },
    async (c, { params, body, headers }) => {
      const result = await receiveTransfer(db, params.ref, {
        receipt: body.receipt ?? headers['idempotency-key'],
        lines: body.lines,
      });
      return c.json(
        { ...result.transfer, duplicate: result.duplicate, filledOrders: result.filledOrders },
        result.duplicate ? 200 : 201,
      );
    },
  );

  route(
    {
      method: 'get',
      path: '/transfers/:ref',
      access: 'read',
      operationId: 'getTransfer',
      summary: 'A transfer: lines sent, received and in transit, its receipts and its sale',
      params: transferParams,
      responses: { 200: { description: 'The transfer', schema: transferSchema } },
      errors: [404],
    },
    async (c, { params }) => c.json(await getTransfer(db, params.ref)),
  );

  return app;
}
