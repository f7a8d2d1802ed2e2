import { getConnector } from '../../connectors/registry.js';
import { type Conn, isoTime } from '../db/connection.js';
import { effectiveRule, type PublicationRule, publishedQuantity } from '../domain/publication.js';
import { CHANNEL_SKUS, CHANNELS } from './channel-store.js';

/*
 * What a channel is told about stock: its settings, the figure the publication formula gives now,
 * and what each channel was last told.
 */

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

/**
 * What the channel should be told now for each of these SKU codes: the publication formula over
 * the warehouses that feed the channel, with the SKU's rule over the channel's.
 */
export async function quantitiesFor(
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
  // In-transit locations (stock between two companies of the group) never feed a channel.
  q.whereNotIn('sl.warehouse_id', db('warehouses').where('kind', 'in_transit').select('id'));
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

export const skuRule = (r: Record<string, unknown>): Partial<PublicationRule> => ({
  ...(r.safety_stock !== null ? { safetyStock: Number(r.safety_stock) } : {}),
  ...(r.allocation_percent !== null ? { allocationPercent: Number(r.allocation_percent) } : {}),
  ...(r.max_quantity !== null ? { maxQuantity: Number(r.max_quantity) } : {}),
});

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
  // By (channel, SKU): the channels are few, and each one's row is found through its unique key.
  const channelIds = (await db(CHANNELS).select('id')).map((r) => Number(r.id));
  if (channelIds.length === 0) return [];
  const rows = await db(`${CHANNEL_SKUS} as cs`)
    .join(`${CHANNELS} as c`, 'c.id', 'cs.channel_id')
    .whereIn('cs.channel_id', channelIds)
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
