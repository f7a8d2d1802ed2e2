import type { ConnectorContext, ConnectorDefinition } from '../../connectors/contract.js';
import { quantitiesFor, skuRule } from '../channels/channel-publication.js';
import { CHANNEL_SKUS, type Channel, channelKey } from '../channels/channel-store.js';
import { pendingMark } from '../channels/stock-push.js';
import { type Conn, dbTime } from '../db/connection.js';
import { compareStock, type FindingDraft } from '../domain/reconciliation.js';

/**
 * A channel's stock three ways: what the channel shows (the connector's `readStock`; without it,
 * nothing), what we last published, and what the publication formula gives now (the figures of
 * `publicationDrift`). SKUs the channel refused (they carry its reason) are left out.
 */
export async function compareChannelStock(
  db: Conn,
  channel: Channel,
  connector: ConnectorDefinition<unknown>,
  ctx: ConnectorContext<unknown> | null,
): Promise<{ drafts: FindingDraft[]; compared: number }> {
  if (!connector.manifest.capabilities.includes('stockPush')) return { drafts: [], compared: 0 };
  const rows = await db(CHANNEL_SKUS)
    .where({ channel_id: channel.id })
    .whereNull('last_push_error')
    .orderBy('sku_code');
  if (rows.length === 0) return { drafts: [], compared: 0 };
  const expected = await quantitiesFor(
    db,
    channel.id,
    rows.map((r) => ({ sku: String(r.sku_code), rule: skuRule(r) })),
  );
  const shown = new Map<string, number | null>();
  if (ctx && connector.readStock) {
    for (const s of await connector.readStock.call(
      connector,
      ctx,
      rows.map((r) => ({
        sku: String(r.sku_code),
        productId: r.product_id ?? null,
        variantId: r.variant_id ?? null,
        inventoryItemId: r.inventory_item_id ?? null,
      })),
    ))
      shown.set(s.sku, s.quantity);
  }
  const source = channelKey(channel);
  const drafts: FindingDraft[] = [];
  for (const r of rows) {
    const sku = String(r.sku_code);
    const d = compareStock(source, {
      sku,
      published: r.published_qty === null ? null : Number(r.published_qty),
      expected: expected.get(sku) ?? 0,
      shown: shown.get(sku) ?? null,
      pending: Boolean(Number(r.push_pending)),
    });
    if (d) drafts.push(d);
  }
  return { drafts, compared: rows.length };
}

/**
 * Marks a drifted SKU for a push that goes whatever we last published (the channel's own figure is
 * what it shows, so ours is written down as that): the push sweep sends the formula's figure.
 */
export async function markDriftForPush(
  db: Conn,
  channelId: number,
  sku: string,
  shown: number | null,
): Promise<void> {
  await db(CHANNEL_SKUS)
    .where({ channel_id: channelId, sku_code: sku })
    .update({ ...(shown === null ? {} : { published_qty: shown }), ...pendingMark(db, dbTime(), true) });
}
