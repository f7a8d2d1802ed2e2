import { z } from 'zod';
import type { ChannelService } from '../../channels/channel-service.js';
import { type Conn, isoTime } from '../../db/connection.js';
import { notFound } from '../../errors/domain-errors.js';
import { INBOUND_EVENTS } from '../../orders/intake.js';
import { actorOf, newRoutes, routeRegistrar } from '../openapi.js';
import { nextCursor, pageQuery, readCursor } from '../pagination.js';
import { idParam } from '../params.js';
import { applyOutcomeSchema } from './channel-schemas.js';

const listQuery = z.object({
  channel: z.string().max(64).optional(),
  orderId: idParam.optional(),
  /** `failed`: could not be applied; `pending`: stored, not applied yet; `processed`. */
  status: z.enum(['failed', 'pending', 'processed']).optional(),
  ...pageQuery,
});

function toEvent(r: Record<string, unknown>, withPayload: boolean) {
  return {
    id: Number(r.id),
    channel: String(r.channel),
    deliveryId: String(r.delivery_id),
    topic: String(r.topic),
    kind: (r.kind as string | null) ?? null,
    externalId: (r.external_id as string | null) ?? null,
    orderId: r.order_id === null ? null : Number(r.order_id),
    receivedAt: isoTime(r.received_at as string),
    processedAt: isoTime(r.processed_at as string | null),
    note: (r.note as string | null) ?? null,
    error: (r.error as string | null) ?? null,
    /** Failed attempts to apply it, and when the relay tries again (null: not waiting to). */
    attempts: Number(r.attempts ?? 0),
    retryAt: r.processed_at === null ? isoTime((r.retry_at as string | null) ?? null) : null,
    ...(withPayload ? { payload: String(r.payload) } : {}),
  };
}

const time = z.string().describe('UTC, ISO 8601');

const inboundEventFields = {
  id: z.number().int(),
  channel: z.string().describe('`shopify:3`, `api`, `excel`, `email`, ...'),
  deliveryId: z.string().describe("the channel's de-duplication key of the delivery"),
  topic: z.string(),
  kind: z.string().nullable(),
  externalId: z.string().nullable(),
  orderId: z.number().int().nullable(),
  receivedAt: time,
  processedAt: time.nullable(),
  note: z.string().nullable(),
  error: z.string().nullable().describe('why it could not be applied'),
  attempts: z.number().int().describe('failed attempts to apply it'),
  retryAt: time.nullable().describe('when the relay tries again; null: not waiting to'),
};

const inboundEventSummary = z.object(inboundEventFields).meta({ id: 'InboundEventSummary' });
const inboundEvent = z
  .object({ ...inboundEventFields, payload: z.string().describe('the body exactly as received') })
  .meta({ id: 'InboundEvent' });

const replayAnswer = z
  .object({
    outcome: applyOutcomeSchema,
    eventId: z.number().int(),
    orderId: z.number().int().nullable(),
    note: z.string().optional(),
    queued: z.number().int().describe('orders queued for processing'),
  })
  .meta({ id: 'InboundEventReplay' });

const eventParams = z.object({ id: idParam.describe('event id') });

/** The stored inbound events (every webhook, pulled order and API order as it arrived), and replay. */
export function inboundEventRoutes(db: Conn, channels: ChannelService) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Inbound events', entity: 'inbound_event', db });

  route(
    {
      method: 'get',
      path: '/inbound-events',
      access: 'read',
      operationId: 'listInboundEvents',
      summary: 'The stored inbound events, newest first',
      query: listQuery,
      responses: {
        200: {
          description: 'A page of events (without their payloads)',
          schema: z.object({ items: z.array(inboundEventSummary), nextCursor: z.string().nullable() }),
        },
      },
    },
    async (c, { query: q }) => {
      const beforeId = readCursor(q.cursor);
      const query = db(INBOUND_EVENTS)
        .select(
          'id',
          'channel',
          'delivery_id',
          'topic',
          'kind',
          'external_id',
          'order_id',
          'received_at',
          'processed_at',
          'note',
          'error',
          'attempts',
          'retry_at',
        )
        .orderBy('id', 'desc')
        .limit(q.limit + 1);
      if (q.channel) query.where('channel', q.channel);
      if (q.orderId) query.where('order_id', q.orderId);
      if (q.status === 'failed') query.whereNotNull('error');
      if (q.status === 'pending') query.whereNull('processed_at').whereNull('error');
      if (q.status === 'processed') query.whereNotNull('processed_at');
      if (beforeId !== null) query.where('id', '<', beforeId);
      const rows = await query;
      const items = rows.slice(0, q.limit).map((r) => toEvent(r, false));
      return c.json({ items, nextCursor: nextCursor(rows.length > q.limit ? items.at(-1)?.id : null) });
    },
  );

  route(
    {
      method: 'get',
      path: '/inbound-events/:id',
      access: 'read',
      operationId: 'getInboundEvent',
      summary: 'One inbound event with its payload',
      params: eventParams,
      responses: { 200: { description: 'The event', schema: inboundEvent } },
      errors: [404],
    },
    async (c, { params }) => {
      const row = await db(INBOUND_EVENTS).where({ id: params.id }).first();
      if (!row) throw notFound(`inbound event ${params.id}`);
      return c.json(toEvent(row, true));
    },
  );

  route(
    {
      method: 'post',
      path: '/inbound-events/:id/replay',
      access: 'operate',
      operationId: 'replayInboundEvent',
      summary: 'Apply a stored event to its order again',
      params: eventParams,
      responses: { 200: { description: 'What applying it came to', schema: replayAnswer } },
      errors: [404, 409, 502],
    },
    async (c, { params }) => {
      const { toProcess, ...result } = await channels.replayEvent(params.id, actorOf(c));
      return c.json({ ...result, queued: toProcess.length });
    },
  );

  return app;
}
