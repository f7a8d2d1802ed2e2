import type { ConnectorContext, ConnectorDefinition, StockItem } from '../../connectors/contract.js';
import { type Conn, type Db, dbTime } from '../db/connection.js';
import type { PublicationRule } from '../domain/publication.js';
import { quantitiesFor, skuRule } from './channel-publication.js';
import { CHANNEL_SKUS, CHANNELS, type Channel } from './channel-store.js';
import { takeChannelLease } from './lease.js';

/** The columns that mark a (channel, SKU) as needing a push; a newer mark moves `pending_seq` on. */
export function pendingMark(db: Conn, now = dbTime(), force = false): Record<string, unknown> {
  return {
    push_pending: true,
    ...(force ? { push_force: true } : {}),
    pending_seq: db.raw('pending_seq + 1'),
    pending_since: db.raw('COALESCE(pending_since, ?)', [now]),
  };
}

/**
 * Marks every mapped (channel, SKU) of these SKUs on enabled channels as needing a push, inside
 * the caller's transaction (the relay's, with the outbox rows that said the stock changed). Returns
 * the channels that now have something to push. One query when no channel sells these SKUs.
 */
export async function markPushPending(
  tx: Conn,
  skuIds: readonly number[],
  now = dbTime(),
): Promise<number[]> {
  const ids = [...new Set(skuIds)];
  if (ids.length === 0) return [];
  const mapped = () =>
    tx(CHANNEL_SKUS)
      .whereIn('sku_code', tx('skus').whereIn('id', ids).select('code'))
      .whereIn('channel_id', tx(CHANNELS).where('enabled', true).select('id'));
  const channels = (await mapped().distinct('channel_id')).map((r) => Number(r.channel_id));
  if (channels.length === 0) return [];
  await mapped().update(pendingMark(tx, now));
  return channels.sort((a, b) => a - b);
}

/**
 * Marks every mapped SKU of a channel pending: sent when its figure differs from the last published
 * one, or — with `force`, a full resync — in any case. Returns how many were marked.
 */
export async function markAllPending(
  db: Conn,
  channelId: number,
  force = false,
  now = dbTime(),
): Promise<number> {
  return db(CHANNEL_SKUS)
    .where({ channel_id: channelId })
    .update(pendingMark(db, now, force));
}

/** Marks every mapped SKU of a channel for a push that sends it even when unchanged (full resync). */
export const markResync = (db: Conn, channelId: number, now = dbTime()) =>
  markAllPending(db, channelId, true, now);

interface PendingRow {
  id: number;
  sku: string;
  seq: number;
  force: boolean;
  published: number | null;
  item: Omit<StockItem, 'quantity'>;
  rule: Partial<PublicationRule>;
}

export interface PushSummary {
  channelId: number;
  /** (channel, SKU) pairs that were pending. */
  pending: number;
  /** Of those, sent to the channel (the rest already had the right figure). */
  sent: number;
  accepted: number;
  rejected: { sku: string; reason: string }[];
  /** Sent but not applied for a passing reason (not a refusal): still pending, they go with the next push. */
  deferred: { sku: string; reason: string }[];
  /** Calls to the connector's pushStock (each at most its batch size). */
  calls: number;
  /** Pairs that changed again while we pushed: another push is needed. */
  stillPending: number;
}

export function emptyPushSummary(channelId: number): PushSummary {
  return {
    channelId,
    pending: 0,
    sent: 0,
    accepted: 0,
    rejected: [],
    deferred: [],
    calls: 0,
    stillPending: 0,
  };
}

export class PushBusyError extends Error {
  override name = 'PushBusyError';
  constructor(channelId: number) {
    super(`a stock push or pull of channel ${channelId} is already running`);
  }
}

/**
 * Pushes a channel's pending SKUs: computes each quantity at this moment, skips those equal to the
 * last published figure (unless a resync forces them), and sends the rest in the connector's batch
 * size. Only what the channel accepted is marked published; a SKU it rejects keeps its reason and
 * does not hold up the batch. A pending mark is cleared only if no newer change arrived while we
 * pushed. A failed call (after the HTTP client's retries) throws with the rest still pending, so
 * the next attempt sends the figures of that moment, never a replay of old ones. One push per
 * channel at a time (a lease in the database).
 */
export async function pushChannelStock(
  db: Db,
  channel: Channel,
  connector: ConnectorDefinition<unknown>,
  ctx: ConnectorContext<unknown>,
): Promise<PushSummary> {
  const lease = await takeChannelLease(db, channel.id, 'push');
  if (!lease) throw new PushBusyError(channel.id);
  const summary = emptyPushSummary(channel.id);
  try {
    const rows: PendingRow[] = (
      await db(CHANNEL_SKUS).where({ channel_id: channel.id, push_pending: true }).orderBy('sku_code')
    ).map((r) => ({
      id: Number(r.id),
      sku: String(r.sku_code),
      seq: Number(r.pending_seq),
      force: Boolean(Number(r.push_force)),
      published: r.published_qty === null ? null : Number(r.published_qty),
      item: {
        sku: String(r.sku_code),
        productId: r.product_id ?? null,
        variantId: r.variant_id ?? null,
        inventoryItemId: r.inventory_item_id ?? null,
      },
      rule: skuRule(r),
    }));
    summary.pending = rows.length;
    const quantities = await quantitiesFor(db, channel.id, rows);
    const done = (row: PendingRow) =>
      db(CHANNEL_SKUS)
        .where({ id: row.id, pending_seq: row.seq })
        .update({ push_pending: false, push_force: false, pending_since: null });

    const toSend: { row: PendingRow; quantity: number }[] = [];
    for (const row of rows) {
      const quantity = quantities.get(row.sku) ?? 0;
      if (!row.force && row.published === quantity) await done(row);
      else toSend.push({ row, quantity });
    }
    const limits = connector.limitsFor?.(channel.settings) ?? connector.manifest.limits;
    const size = Math.max(1, limits.stockBatchSize);
    for (let i = 0; i < toSend.length; i += size) {
      const batch = toSend.slice(i, i + size);
      summary.calls++;
      summary.sent += batch.length;
      const result = await connector.pushStock(
        ctx,
        batch.map(({ row, quantity }) => ({ ...row.item, quantity })),
      );
      const now = dbTime();
      const accepted = new Set(result.accepted);
      const reasons = new Map(result.rejected.map((r) => [r.sku, r.reason]));
      const again = new Map((result.retry ?? []).map((r) => [r.sku, r.reason]));
      for (const { row, quantity } of batch) {
        if (accepted.has(row.sku) && !again.has(row.sku)) {
          summary.accepted++;
          await db(CHANNEL_SKUS).where({ id: row.id }).update({
            published_qty: quantity,
            published_at: now,
            last_push_error: null,
            last_push_error_at: null,
          });
          await done(row);
        } else if (again.has(row.sku) && !reasons.has(row.sku)) {
          // Not applied, not refused either: left pending, so the next push sends the figure of its moment.
          summary.deferred.push({ sku: row.sku, reason: again.get(row.sku) as string });
        } else {
          const reason = reasons.get(row.sku) ?? 'the channel did not confirm this item';
          summary.rejected.push({ sku: row.sku, reason });
          await db(CHANNEL_SKUS)
            .where({ id: row.id })
            .update({ last_push_error: reason.slice(0, 2000), last_push_error_at: now });
          // Not sent again until the SKU changes or a resync: a refusal is not fixed by repeating.
          await done(row);
        }
      }
      await lease.renew(result.accepted.length > 0 ? { last_push_at: now } : {});
    }
    const [left] = (await db(CHANNEL_SKUS)
      .where({ channel_id: channel.id, push_pending: true })
      .count({ n: '*' })) as { n: number }[];
    summary.stillPending = Number(left?.n ?? 0);
    return summary;
  } finally {
    await lease.release().catch(() => {});
  }
}
