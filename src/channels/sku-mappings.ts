import { dbTime } from '../db/connection.js';
import { channelItemChanged } from '../domain/publication.js';
import { ConflictError, notFound } from '../errors/domain-errors.js';
import { type ChannelContext, getChannel } from './channel-context.js';
import { CHANNEL_SKUS } from './channel-store.js';
import { listMappings, newPendingMark, type SkuMapping, toMapping } from './sku-map.js';
import { pendingMark } from './stock-push.js';

/** The channel's ids for one of our SKUs, as an administrator sets them. */
export interface SkuMappingInput {
  productId?: string | null | undefined;
  variantId?: string | null | undefined;
  inventoryItemId?: string | null | undefined;
  channelSku?: string | null | undefined;
}

/** Every SKU mapping of the channel (NotFoundError for an unknown channel). */
export async function channelMappings(ctx: ChannelContext, channelId: number): Promise<SkuMapping[]> {
  await getChannel(ctx, channelId);
  return listMappings(ctx.db, channelId);
}

/**
 * Maps one of our SKUs to the channel's ids for it (replacing an automatic match), and marks it for
 * the next stock push: a new item is told its figure, and an item that replaces another is told it
 * even when it equals the figure the old one had. NotFoundError for an unknown SKU; ConflictError
 * when one of the ids already belongs to another SKU of this channel.
 */
export async function setMapping(
  ctx: ChannelContext,
  channelId: number,
  sku: string,
  input: SkuMappingInput,
): Promise<SkuMapping> {
  await getChannel(ctx, channelId);
  const known = await ctx.db('skus').where({ code: sku }).first('id');
  if (!known) throw notFound(`SKU ${sku}`);
  const ids = {
    variant_id: input.variantId ?? null,
    product_id: input.productId ?? null,
    inventory_item_id: input.inventoryItemId ?? null,
  };
  const clash = await ctx
    .db(CHANNEL_SKUS)
    .where('channel_id', channelId)
    .whereNot('sku_code', sku)
    .andWhere((q) => {
      if (ids.variant_id) q.orWhere('variant_id', ids.variant_id);
      if (ids.inventory_item_id) q.orWhere('inventory_item_id', ids.inventory_item_id);
      if (ids.product_id && !ids.variant_id)
        q.orWhere((p) => p.where('product_id', ids.product_id).whereNull('variant_id'));
    })
    .first('sku_code');
  if (clash) {
    throw new ConflictError(
      'mapping_conflict',
      `that channel item is already mapped to SKU ${clash.sku_code}`,
      {
        sku: clash.sku_code,
      },
    );
  }
  const now = dbTime();
  const before = await ctx.db(CHANNEL_SKUS).where({ channel_id: channelId, sku_code: sku }).first();
  const moved =
    before !== undefined &&
    channelItemChanged(toMapping(before), {
      productId: ids.product_id,
      variantId: ids.variant_id,
      inventoryItemId: ids.inventory_item_id,
    });
  const mapping = { channel_sku: input.channelSku ?? null, ...ids, source: 'manual', updated_at: now };
  await ctx
    .db(CHANNEL_SKUS)
    .insert({ channel_id: channelId, sku_code: sku, ...mapping, created_at: now, ...newPendingMark(now) })
    .onConflict(['channel_id', 'sku_code'])
    .merge({ ...mapping, ...pendingMark(ctx.db, now, moved) });
  await ctx.requestPush(channelId);
  return toMapping(await ctx.db(CHANNEL_SKUS).where({ channel_id: channelId, sku_code: sku }).first());
}

export async function deleteMapping(ctx: ChannelContext, channelId: number, sku: string): Promise<void> {
  await getChannel(ctx, channelId);
  const n = await ctx.db(CHANNEL_SKUS).where({ channel_id: channelId, sku_code: sku }).delete();
  if (n === 0) throw notFound(`mapping of SKU ${sku}`);
}
