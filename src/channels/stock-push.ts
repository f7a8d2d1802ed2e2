import type { ConnectorContext, ConnectorDefinition, StockItem } from '../../connectors/contract.js';
import { getConnector } from '../../connectors/registry.js';
import { type Conn, type Db, dbTime, isoTime } from '../db/connection.js';
import { effectiveRule, type PublicationRule, publishedQuantity } from '../domain/publication.js';
import { CHANNEL_SKUS, CHANNELS, type Channel } from './channel-store.js';
import { takeChannelLease } from './lease.js';

/** The channel's own publication settings (null fields: the defaults). */
export interface ChannelStockSettings {
  /** Codes of the warehouses that feed the channel; null: all of them. */
  warehouses: string[] | null;
  safetyStock: number | null;
  allocationPercent: number | null;
  maxQuantity: number | null;
  nightlyResync: boolean;
}

export async function channelStockSettings(db: Conn, channelId: number): Promise<ChannelStockSettings> {
  const [row, feeds] = await Promise.all([
    db(CHANNELS)
      .where({ id: channelId })
      .first('safety_stock', 'allocation_percent', 'max_quantity', 'nightly_resync'),
    db('channel_warehouses as cw')
      .join('warehouses as w', 'w.id', 'cw.warehouse_id')
      .where('cw.channel_id', channelId)
      .orderBy('w.code')
      .select('w.code'),
  ]);
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    warehouses: feeds.length === 0 ? null : feeds.map((f) => String(f.code)),
    safetyStock: num(row?.safety_stock),
    allocationPercent: num(row?.allocation_percent),
    maxQuantity: num(row?.max_quantity),
    nightlyResync: Boolean(Number(row?.nightly_resync ?? 0)),
  };
}

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

/**
 * What the channel should be told now for each of these SKU codes: the publication formula over
 * the warehouses that feed the channel, with the SKU's rule over the channel's.
 */
async function quantitiesFor(
  db: Conn,
  channelId: number,
  skus: readonly { sku: string; rule: Partial<PublicationRule> }[],
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (skus.length === 0) return out;
  const settings = await channelStockSettings(db, channelId);
  const q = db('stock_levels as sl')
    .join('skus as s', 's.id', 'sl.sku_id')
    .whereIn(
      's.code',
      skus.map((s) => s.sku),
    )
    .groupBy('s.code')
    .select('s.code')
    .sum({ on_hand: 'sl.on_hand', reserved: 'sl.reserved' });
  if (settings.warehouses) {
    q.whereIn(
      'sl.warehouse_id',
      db('channel_warehouses').where('channel_id', channelId).select('warehouse_id'),
    );
  }
  const levels = new Map(
    ((await q) as Record<string, unknown>[]).map((r) => [
      String(r.code),
      { onHand: Number(r.on_hand ?? 0), reserved: Number(r.reserved ?? 0) },
    ]),
  );
  const channelRule = {
    safetyStock: settings.safetyStock,
    allocationPercent: settings.allocationPercent,
    maxQuantity: settings.maxQuantity,
  } as Partial<PublicationRule>;
  for (const { sku, rule } of skus) {
    const level = levels.get(sku) ?? { onHand: 0, reserved: 0 };
    out.set(sku, publishedQuantity([level], effectiveRule(channelRule, rule)));
  }
  return out;
}

const skuRule = (r: Record<string, unknown>): Partial<PublicationRule> => ({
  ...(r.safety_stock !== null ? { safetyStock: Number(r.safety_stock) } : {}),
  ...(r.allocation_percent !== null ? { allocationPercent: Number(r.allocation_percent) } : {}),
  ...(r.max_quantity !== null ? { maxQuantity: Number(r.max_quantity) } : {}),
});

export interface PushSummary {
  channelId: number;
  /** (channel, SKU) pairs that were pending. */
  pending: number;
  /** Of those, sent to the channel (the rest already had the right figure). */
  sent: number;
  accepted: number;
  rejected: { sku: string; reason: string }[];
  /** Calls to the connector's pushStock (each at most its batch size). */
  calls: number;
  /** Pairs that changed again while we pushed: another push is needed. */
  stillPending: number;
}

export function emptyPushSummary(channelId: number): PushSummary {
  return { channelId, pending: 0, sent: 0, accepted: 0, rejected: [], calls: 0, stillPending: 0 };
}

export class PushBusyError extends Error {
  override name = 'PushBusyError';
  constructor(channelId: number) {
    super(`a stock push to channel ${channelId} is already running`);
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
      for (const { row, quantity } of batch) {
        if (accepted.has(row.sku)) {
          summary.accepted++;
          await db(CHANNEL_SKUS).where({ id: row.id }).update({
            published_qty: quantity,
            published_at: now,
            last_push_error: null,
            last_push_error_at: null,
          });
          await done(row);
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

/** A SKU as each channel selling it was last told. */
export interface SkuPublication {
  channelId: number;
  channel: string;
  name: string;
  /** Quantity last accepted by the channel; null before the first push. */
  published: number | null;
  publishedAt: string | null;
  /** A change is waiting to be pushed. */
  pending: boolean;
  /** The channel's reason when it last refused this SKU. */
  lastError: { message: string; at: string | null } | null;
}

export async function skuPublications(db: Conn, sku: string): Promise<SkuPublication[]> {
  const rows = await db(`${CHANNEL_SKUS} as cs`)
    .join(`${CHANNELS} as c`, 'c.id', 'cs.channel_id')
    .where('cs.sku_code', sku)
    .orderBy('c.id')
    .select(
      'c.id',
      'c.type',
      'c.name',
      'cs.published_qty',
      'cs.published_at',
      'cs.push_pending',
      'cs.last_push_error',
      'cs.last_push_error_at',
    );
  return rows.map((r) => ({
    channelId: Number(r.id),
    channel: `${r.type}:${r.id}`,
    name: String(r.name),
    published: r.published_qty === null ? null : Number(r.published_qty),
    publishedAt: isoTime(r.published_at),
    pending: Boolean(Number(r.push_pending)),
    lastError: r.last_push_error
      ? { message: String(r.last_push_error), at: isoTime(r.last_push_error_at) }
      : null,
  }));
}

/**
 * The publication invariant, for when the system has gone quiet: every mapped (channel, SKU) of an
 * enabled, working channel that takes stock has been told exactly what the formula gives now.
 * Pairs the channel refused (they carry its reason) are left out. Returns every difference found;
 * the tests check it after every scenario, and a nightly reconciliation can report it.
 */
export async function publicationDrift(db: Conn): Promise<string[]> {
  const problems: string[] = [];
  const channels = await db(CHANNELS)
    .where({ enabled: true })
    .whereNull('failing_reason')
    .select('id', 'type');
  for (const ch of channels) {
    if (!getConnector(String(ch.type)).manifest.capabilities.includes('stockPush')) continue;
    const rows = await db(CHANNEL_SKUS).where({ channel_id: ch.id }).whereNull('last_push_error');
    const expected = await quantitiesFor(
      db,
      Number(ch.id),
      rows.map((r) => ({ sku: String(r.sku_code), rule: skuRule(r) })),
    );
    for (const r of rows) {
      const want = expected.get(String(r.sku_code));
      const got = r.published_qty === null ? null : Number(r.published_qty);
      if (got !== want)
        problems.push(`channel ${ch.id} ${r.sku_code}: published ${got}, formula says ${want}`);
    }
  }
  return problems;
}
