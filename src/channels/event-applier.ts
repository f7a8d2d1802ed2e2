import { INBOUND_EVENTS } from '../orders/intake.js';
import { processOrders } from '../orders/processing.js';
import { type ApplyResult, applyNewOrders, type NewOrderEvent } from './apply-order.js';
import type { ChannelContext } from './channel-context.js';
import type { Channel } from './channel-store.js';
import { applyEvent, channelOfKey, type ReadOrder, readEventOrder } from './event-replay.js';

/**
 * Applies stored webhook events that the event worker took at the same moment, as a group: the
 * events that each bring a new order of one channel (the bulk of a flash sale) are applied in one
 * transaction (`applyNewOrders`); every other event — an update, a cancellation, a second event of
 * an order in the same group, one already applied — is applied on its own. Each event gets its own
 * outcome (or error). The new orders of a group are processed right away, as one group; orders
 * left `received` by the others are queued for processing.
 */
export async function applyEvents(
  ctx: ChannelContext,
  eventIds: readonly number[],
): Promise<(ApplyResult | Error)[]> {
  const rows = await ctx.db(INBOUND_EVENTS).whereIn('id', [...new Set(eventIds)]);
  const rowOf = new Map(rows.map((r) => [Number(r.id), r]));
  const results = new Map<number, ApplyResult | Error>();
  const channels = new Map<string, Channel | null>();
  const fresh = new Map<string, { channel: Channel; events: NewOrderEvent[]; seen: Set<string> }>();
  const oneByOne: number[] = [];
  const readOrders = new Map<number, ReadOrder>();

  for (const id of new Set(eventIds)) {
    const row = rowOf.get(id);
    if (!row || row.processed_at !== null || row.kind !== 'order.upsert') {
      oneByOne.push(id);
      continue;
    }
    const key = String(row.channel);
    if (!channels.has(key)) channels.set(key, await channelOfKey(ctx, key));
    const channel = channels.get(key);
    // Read once (the connector may ask the channel for what the payload leaves out); a failure is
    // left to the one-by-one path, which reads again and records it.
    const read = channel
      ? await readEventOrder(ctx, channel, String(row.payload), 'order.upsert').catch(() => null)
      : null;
    if (read) readOrders.set(id, read);
    const order = read?.order ?? null;
    const group = channel && fresh.get(key);
    if (!channel || !order || order.cancelled || group?.seen.has(order.externalId)) {
      oneByOne.push(id);
      continue;
    }
    const g = group || { channel, events: [], seen: new Set<string>() };
    g.events.push({ eventId: id, order });
    g.seen.add(order.externalId);
    fresh.set(key, g);
  }

  for (const { channel, events } of fresh.values()) {
    try {
      const applied = events.length > 1 ? await applyNewOrders(ctx.db, channel, events) : null;
      if (applied) for (const r of applied) results.set(r.eventId, r);
      else oneByOne.push(...events.map((e) => e.eventId));
    } catch {
      oneByOne.push(...events.map((e) => e.eventId));
    }
  }
  // The new orders are processed (validated, reserved) here and now, as one group, without another
  // trip through the queue; any that this fails for go to the order queue, which retries them.
  const grouped = [...results.values()].flatMap((r) => (r instanceof Error ? [] : r.toProcess));
  if (grouped.length > 0) {
    try {
      await processOrders(ctx.db, grouped, 'system');
    } catch (err) {
      ctx.log.warn(
        { count: grouped.length, err: (err as Error).message },
        'new orders queued for processing',
      );
      await ctx.enqueueOrders(grouped);
    }
  }
  await Promise.all(
    oneByOne.map(async (id) => {
      results.set(id, await applyEvent(ctx, id, readOrders.get(id)).catch((err: Error) => err));
    }),
  );
  return eventIds.map((id) => results.get(id) ?? new Error(`event ${id} was not applied`));
}
