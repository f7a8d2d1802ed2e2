import { Hono } from 'hono';
import { z } from 'zod';
import type { ChannelService } from '../../channels/channel-service.js';
import { type Conn, isoTime } from '../../db/connection.js';
import { notFound } from '../../errors/domain-errors.js';
import { INBOUND_EVENTS } from '../../orders/intake.js';
import type { AppEnv } from '../env.js';
import { parseParam } from '../errors.js';
import { nextCursor, pageQuery, readCursor } from '../pagination.js';
import { idParam } from '../params.js';

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

/** The stored inbound events (every webhook, pulled order and API order as it arrived), and replay. */
export function inboundEventRoutes(db: Conn, channels: ChannelService) {
  const app = new Hono<AppEnv>();

  app.get('/inbound-events', async (c) => {
    const q = parseParam(listQuery, c.req.query(), 'query');
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
  });

  app.get('/inbound-events/:id', async (c) => {
    const id = parseParam(idParam, c.req.param('id'), 'event id');
    const row = await db(INBOUND_EVENTS).where({ id }).first();
    if (!row) throw notFound(`inbound event ${id}`);
    return c.json(toEvent(row, true));
  });

  app.post('/inbound-events/:id/replay', async (c) => {
    const id = parseParam(idParam, c.req.param('id'), 'event id');
    const { toProcess, ...result } = await channels.replayEvent(id);
    return c.json({ ...result, queued: toProcess.length });
  });

  return app;
}
