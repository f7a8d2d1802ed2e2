import { z } from 'zod';
import { allows } from '../../auth/roles.js';
import { orderInputSchema } from '../../domain/order-input.js';
import { ORDER_STATUSES } from '../../domain/order-status.js';
import {
  cancelOrderByStaff,
  MANUAL_TARGETS,
  releaseOrder,
  setOrderStatus,
  shipOrder,
} from '../../orders/index.js';
import { apiOrderDelivery } from '../../orders/intake.js';
import type { IntakeBatcher } from '../../orders/intake-batcher.js';
import { listOrders, orderDetail } from '../../orders/order-query.js';
import { quoteOrder } from '../../orders/quote.js';
import type { AppDeps } from '../env.js';
import { actorOf, newRoutes, routeRegistrar } from '../openapi.js';
import { nextCursor, pageQuery, readCursor } from '../pagination.js';
import { codeParam, idempotencyKeyParam, idParam } from '../params.js';
import {
  cancelAnswerSchema,
  orderAcceptedSchema,
  orderDetailSchema,
  orderListSchema,
  orderQuoteSchema,
  orderStatusAnswerSchema,
  shipmentAnswerSchema,
} from './order-schemas.js';

/** The filters of the order list (the console's order search uses the same ones). */
export const orderListFilter = z.object({
  channel: z.string().max(64).optional(),
  externalId: z.string().max(191).optional(),
  status: z.enum(ORDER_STATUSES).optional(),
  customer: z.string().max(64).optional(),
  salesperson: z.string().max(64).optional(),
  placedFrom: z.iso.date().optional().describe('placed on or after this day (UTC, YYYY-MM-DD)'),
  placedTo: z.iso.date().optional().describe('placed on or before this day (UTC, YYYY-MM-DD)'),
});

const listQuery = orderListFilter.extend(pageQuery);

export const shipmentBody = z.object({
  lines: z
    .array(
      z.object({
        sku: codeParam,
        quantity: z.number().int('must be a whole number').positive('must be at least 1'),
      }),
    )
    .min(1)
    .optional(),
  carrier: z.string().trim().min(1).max(64).optional(),
  trackingNumber: z.string().trim().min(1).max(128).optional(),
  /** The tracking page (https); for a carrier not in the table it may hold `{number}`. */
  trackingUrl: z
    .string()
    .trim()
    .max(400)
    .regex(/^https?:\/\/[^\s]+$/, 'must be an http(s) URL')
    .optional(),
});

export const cancelBody = z.object({ reason: z.string().trim().min(1).max(255).optional() }).default({});

const statusBody = z.object({
  status: z.enum(MANUAL_TARGETS as [string, ...string[]]),
  reason: z.string().trim().min(1).max(255).optional(),
});

const orderParams = z.object({ id: idParam.describe('order id') });

export function orderRoutes({ db, enqueueOrders }: AppDeps, intake: IntakeBatcher) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Orders', entity: 'order', db });

  route(
    {
      method: 'post',
      path: '/orders',
      access: 'operate',
      operationId: 'createOrder',
      summary: 'Submit an order',
      description:
        'Stored and queued for processing (202); a repeat (same external id, or the same Idempotency-Key) answers 200 with the order already stored.',
      headers: z.object({
        'idempotency-key': idempotencyKeyParam.describe('a repeat with the same key is the same order'),
      }),
      body: orderInputSchema,
      responses: {
        200: { description: 'Already known: nothing new was stored', schema: orderAcceptedSchema },
        202: { description: 'Stored; processing follows', schema: orderAcceptedSchema },
      },
      errors: [409],
      // Who created which order; the body itself is kept as the order's raw payload.
      audit: { request: () => undefined },
    },
    async (c, { body, headers }) => {
      const key = headers['idempotency-key'];
      const result = await intake.submit(apiOrderDelivery(body, await c.req.text(), key));
      c.set('auditEntityId', result.orderId);
      return c.json(
        { id: result.orderId, status: result.status, duplicate: !result.created },
        result.created ? 202 : 200,
      );
    },
  );

  route(
    {
      method: 'post',
      path: '/orders/quote',
      access: 'operate_finance',
      operationId: 'quoteOrder',
      summary: 'What processing would decide for this order now (stores nothing)',
      description: 'README "A quote for orders taken by phone": prices, stock, rules and every hold reason.',
      body: orderInputSchema,
      responses: { 200: { description: 'The quote', schema: orderQuoteSchema } },
      audit: false,
    },
    async (c, { body }) => c.json(await quoteOrder(db, body)),
  );

  route(
    {
      method: 'get',
      path: '/orders',
      access: 'read',
      operationId: 'listOrders',
      summary: 'Orders, newest first, a page at a time',
      query: listQuery,
      responses: { 200: { description: 'A page of orders', schema: orderListSchema } },
    },
    async (c, { query }) => {
      const { items, nextId } = await listOrders(db, query, readCursor(query.cursor));
      return c.json({ items, nextCursor: nextCursor(nextId) });
    },
  );

  route(
    {
      method: 'get',
      path: '/orders/:id',
      access: 'read',
      operationId: 'getOrder',
      summary: 'An order with its lines, money, history, shipments and notifications',
      params: orderParams,
      responses: { 200: { description: 'The order', schema: orderDetailSchema } },
      errors: [404],
    },
    async (c, { params }) => c.json(await orderDetail(db, params.id)),
  );

  route(
    {
      method: 'post',
      path: '/orders/:id/shipments',
      access: 'operate',
      operationId: 'shipOrder',
      summary: 'Record a shipment (without lines: everything reserved ships)',
      params: orderParams,
      body: shipmentBody,
      bodyOptional: true,
      responses: { 201: { description: 'Shipped', schema: shipmentAnswerSchema } },
      errors: [404, 409],
    },
    async (c, { params, body }) => {
      const result = await shipOrder(db, params.id, body, actorOf(c));
      return c.json({ shipmentId: result.shipmentId, status: result.order.status, lines: result.lines }, 201);
    },
  );

  route(
    {
      method: 'post',
      path: '/orders/:id/cancel',
      access: 'operate',
      operationId: 'cancelOrder',
      summary: 'Cancel an order (its reservations go to waiting backorders; the channel is told)',
      params: orderParams,
      body: cancelBody,
      bodyOptional: true,
      responses: { 200: { description: 'Cancelled', schema: cancelAnswerSchema } },
      errors: [404, 409],
    },
    async (c, { params, body }) => {
      const result = await cancelOrderByStaff(db, params.id, body.reason, actorOf(c));
      return c.json({ id: params.id, status: result.order.status, filledOrders: result.filledOrders });
    },
  );

  route(
    {
      method: 'post',
      path: '/orders/:id/status',
      access: 'operate',
      operationId: 'setOrderStatus',
      summary: "Set an order's status by hand (delivered, completed, on hold, rejected, received)",
      params: orderParams,
      body: statusBody,
      responses: { 200: { description: "The order's status now", schema: orderStatusAnswerSchema } },
      errors: [404, 409],
    },
    async (c, { params, body }) => {
      const actor = actorOf(c);
      // An order on a credit hold is rejected by finance (or admin) only; an operator gets 403.
      const order = await setOrderStatus(
        db,
        params.id,
        body.status as (typeof MANUAL_TARGETS)[number],
        body.reason ?? `set by ${actor}`,
        actor,
        { mayRejectCreditHold: allows(c.get('principal')!.role, 'finance') },
      );
      if (order.status === 'received') await enqueueOrders([params.id]).catch(() => {});
      return c.json({ id: params.id, status: order.status });
    },
  );

  route(
    {
      method: 'post',
      path: '/orders/:id/release',
      access: 'operate',
      operationId: 'releaseOrder',
      summary: 'Take an order off hold and process it again',
      description: 'E.g. after the missing SKU was created.',
      params: orderParams,
      responses: { 200: { description: 'Released; processing follows', schema: orderStatusAnswerSchema } },
      errors: [404, 409],
    },
    async (c, { params }) => {
      const order = await releaseOrder(db, params.id, actorOf(c), enqueueOrders);
      return c.json({ id: params.id, status: order.status });
    },
  );

  return app;
}
