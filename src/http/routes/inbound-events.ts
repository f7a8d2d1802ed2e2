import { z } from 'zod';
import type { ChannelService } from '../../channels/channel-service.js';
import { getInboundEvent, type InboundEventFilter, listInboundEvents } from '../../channels/event-list.js';
import type { Conn } from '../../db/connection.js';
import { actorOf, newRoutes, routeRegistrar } from '../openapi.js';
import { nextCursor, pageQuery, readCursor } from '../pagination.js';
import { idParam } from '../params.js';
import { applyOutcomeSchema } from './channel-schemas.js';

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date such as 2026-12-01')
  .refine(
    (d) =>
      !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d),
    'not a calendar date',
  );

/** The filters of `GET /api/inbound-events` (the console's inbound events page takes the same). */
export const inboundEventListQuery = z.object({
  channel: z.string().max(64).optional(),
  orderId: idParam.optional(),
  topic: z.string().max(64).optional(),
  /**
   * `failed`: could not be applied (parked ones included); `parked`: its payload could not be read,
   * left for a person; `pending`: stored, not applied yet; `processed`: applied.
   */
  status: z.enum(['failed', 'parked', 'pending', 'processed']).optional(),
  /** Received on or after this day (UTC). */
  receivedFrom: day.optional(),
  /** Received on or before this day (UTC). */
  receivedTo: day.optional(),
  ...pageQuery,
});

export type InboundEventListQuery = z.output<typeof inboundEventListQuery>;

/** The query's filters as `listInboundEvents` takes them (days as UTC bounds). */
export const eventFilterOf = (q: InboundEventListQuery, beforeId: number | null): InboundEventFilter => ({
  channel: q.channel,
  orderId: q.orderId,
  topic: q.topic,
  status: q.status,
  receivedFrom: q.receivedFrom ? new Date(`${q.receivedFrom}T00:00:00Z`) : undefined,
  receivedBefore: q.receivedTo ? new Date(Date.parse(`${q.receivedTo}T00:00:00Z`) + 86_400_000) : undefined,
  beforeId,
  limit: q.limit + 1,
});

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

export const eventParams = z.object({ id: idParam.describe('event id') });

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
      query: inboundEventListQuery,
      responses: {
        200: {
          description: 'A page of events (without their payloads)',
          schema: z.object({ items: z.array(inboundEventSummary), nextCursor: z.string().nullable() }),
        },
      },
    },
    async (c, { query: q }) => {
      const rows = await listInboundEvents(db, eventFilterOf(q, readCursor(q.cursor)));
      const items = rows.slice(0, q.limit);
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
    async (c, { params }) => c.json(await getInboundEvent(db, params.id)),
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
