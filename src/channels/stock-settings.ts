import { notFound, ValidationError } from '../errors/domain-errors.js';
import { type ChannelContext, getChannel } from './channel-context.js';
import { CHANNEL_SKUS, CHANNELS } from './channel-store.js';
import { type SkuMapping, toMapping } from './sku-map.js';
import { markAllPending, pendingMark } from './stock-push.js';

/** A SKU's publication rule on a channel; null clears a value (the channel's own then applies). */
export interface PublicationRuleInput {
  safetyStock?: number | null | undefined;
  allocationPercent?: number | null | undefined;
  maxQuantity?: number | null | undefined;
}

/** What a channel is told about stock: feeding warehouses and its publication rule. */
export interface StockSettingsInput extends PublicationRuleInput {
  /** Warehouse codes that feed the channel; null: all warehouses; absent: unchanged. */
  warehouses?: string[] | null | undefined;
  nightlyResync?: boolean | undefined;
}

/** Sets which warehouses feed the channel and its publication rule; ValidationError for an unknown warehouse. */
export async function applyStockSettings(
  ctx: ChannelContext,
  id: number,
  stock: StockSettingsInput,
): Promise<void> {
  const update: Record<string, unknown> = {};
  if (stock.safetyStock !== undefined) update.safety_stock = stock.safetyStock;
  if (stock.allocationPercent !== undefined) update.allocation_percent = stock.allocationPercent;
  if (stock.maxQuantity !== undefined) update.max_quantity = stock.maxQuantity;
  if (stock.nightlyResync !== undefined) update.nightly_resync = stock.nightlyResync;
  await ctx.db.transaction(async (tx) => {
    if (stock.warehouses !== undefined) {
      const codes = [...new Set(stock.warehouses ?? [])];
      const found = codes.length
        ? await tx('warehouses').whereIn('code', codes).whereNot('kind', 'in_transit').select('id', 'code')
        : [];
      const missing = codes.filter((c) => !found.some((f) => f.code === c));
      if (missing.length > 0) {
        throw new ValidationError('unknown_warehouse', `unknown warehouses: ${missing.join(', ')}`, {
          missing,
        });
      }
      await tx('channel_warehouses').where({ channel_id: id }).delete();
      if (found.length > 0)
        await tx('channel_warehouses').insert(
          found.map((f) => ({ channel_id: id, warehouse_id: Number(f.id) })),
        );
    }
    if (Object.keys(update).length > 0) await tx(CHANNELS).where({ id }).update(update);
  });
  // What the channel should be told may have changed for every SKU.
  if (stock.warehouses !== undefined || Object.keys(update).some((k) => k !== 'nightly_resync')) {
    await markAllPending(ctx.db, id);
    await ctx.requestPush(id);
  }
}

/** Safety stock, allocation and cap for one SKU on this channel (null clears, the channel's apply). */
export async function setSkuPublication(
  ctx: ChannelContext,
  channelId: number,
  sku: string,
  rule: PublicationRuleInput,
): Promise<
  SkuMapping & { safetyStock: number | null; allocationPercent: number | null; maxQuantity: number | null }
> {
  await getChannel(ctx, channelId);
  const update = pendingMark(ctx.db);
  if (rule.safetyStock !== undefined) update.safety_stock = rule.safetyStock;
  if (rule.allocationPercent !== undefined) update.allocation_percent = rule.allocationPercent;
  if (rule.maxQuantity !== undefined) update.max_quantity = rule.maxQuantity;
  const n = await ctx.db(CHANNEL_SKUS).where({ channel_id: channelId, sku_code: sku }).update(update);
  if (n === 0) throw notFound(`mapping of SKU ${sku} on channel ${channelId}`);
  await ctx.requestPush(channelId);
  const row = await ctx.db(CHANNEL_SKUS).where({ channel_id: channelId, sku_code: sku }).first();
  const num = (v: unknown) => (v === null ? null : Number(v));
  return {
    ...toMapping(row),
    safetyStock: num(row.safety_stock),
    allocationPercent: num(row.allocation_percent),
    maxQuantity: num(row.max_quantity),
  };
}
