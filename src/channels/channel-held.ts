import { isoTime } from '../db/connection.js';
import { ORDERS } from '../orders/order-store.js';
import { type ChannelContext, getChannel } from './channel-context.js';
import { CHANNEL_SKUS, channelKey } from './channel-store.js';
import { type SkuMapping, toMapping } from './sku-map.js';

/** An order of the channel on hold, with why. */
export interface HeldOrder {
  id: number;
  externalId: string;
  holdReason: string | null;
  /** The problems the hold names (`unmapped_sku`, ...), as their messages. */
  problems: { code: string; message: string; sku?: string }[];
  placedAt: string | null;
  updatedAt: string | null;
}

/** A channel item seen on held orders that no mapping names yet. */
export interface UnmappedSku {
  /** The code the order line carries: the channel's SKU, or `unmapped:<item id>`. */
  sku: string;
  /** The channel's SKU code, when the channel sent one. */
  channelSku: string | null;
  productId: string | null;
  variantId: string | null;
  /** Held orders (of those read) that wait for it. */
  orders: number;
}

const MAX_HELD = 50;

const parseProblems = (v: unknown): HeldOrder['problems'] => {
  let parsed: unknown = v;
  if (typeof v === 'string' && v !== '') {
    try {
      parsed = JSON.parse(v);
    } catch {
      return [];
    }
  }
  if (!Array.isArray(parsed)) return [];
  return parsed
    .filter((p): p is Record<string, unknown> => Boolean(p) && typeof p === 'object')
    .map((p) => ({
      code: String(p.code ?? ''),
      message: String(p.message ?? ''),
      ...(typeof p.sku === 'string' ? { sku: p.sku } : {}),
    }));
};

/**
 * The channel's orders on hold, newest first (`beforeId` pages on), at most `limit`. Reads the
 * orders by (channel, external id) — the index of the channel's orders — keeping those on hold.
 */
export async function heldOrders(
  ctx: ChannelContext,
  channelId: number,
  options: { beforeId?: number | null; limit?: number } = {},
): Promise<{ items: HeldOrder[]; nextBeforeId: number | null }> {
  const channel = await getChannel(ctx, channelId);
  const limit = Math.min(options.limit ?? MAX_HELD, 200);
  const q = ctx
    .db(ORDERS)
    .where({ channel: channelKey(channel), status: 'on_hold' })
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .select('id', 'external_id', 'hold_reason', 'hold_details', 'intake_problems', 'placed_at', 'updated_at');
  if (options.beforeId) q.where('id', '<', options.beforeId);
  const rows = await q;
  const items = rows.slice(0, limit).map(
    (r): HeldOrder => ({
      id: Number(r.id),
      externalId: String(r.external_id),
      holdReason: (r.hold_reason as string | null) ?? null,
      problems: [...parseProblems(r.hold_details), ...parseProblems(r.intake_problems)].filter(
        (p, i, all) => all.findIndex((q2) => q2.code === p.code && q2.message === p.message) === i,
      ),
      placedAt: isoTime(r.placed_at as string | null),
      updatedAt: isoTime(r.updated_at as string | null),
    }),
  );
  return { items, nextBeforeId: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

/** `(product 123, variant 456)` of an `unmapped_sku` problem's message (see `mapOrdersLines`). */
const ITEM_IDS = /\(product ([^,]+), variant ([^)]+)\)/;

/**
 * The channel items that held orders wait for: every `unmapped_sku` problem of the channel's
 * newest held orders (up to 200), by item, with the channel's ids when the problem names them.
 */
export async function unmappedSkus(ctx: ChannelContext, channelId: number): Promise<UnmappedSku[]> {
  const { items } = await heldOrders(ctx, channelId, { limit: 200 });
  const found = new Map<string, UnmappedSku>();
  for (const order of items) {
    const seen = new Set<string>();
    for (const p of order.problems) {
      if (p.code !== 'unmapped_sku' || !p.sku || seen.has(p.sku)) continue;
      seen.add(p.sku);
      const ids = ITEM_IDS.exec(p.message);
      const id = (v: string | undefined) => (v === undefined || v === '-' ? null : v);
      const known = found.get(p.sku);
      if (known) known.orders++;
      else
        found.set(p.sku, {
          sku: p.sku,
          channelSku: p.sku.startsWith('unmapped:') ? null : p.sku,
          productId: id(ids?.[1]),
          variantId: id(ids?.[2]),
          orders: 1,
        });
    }
  }
  // Items mapped since the orders were held (they wait for a replay, not for a mapping) are left out.
  const list = [...found.values()];
  const variants = list.map((u) => u.variantId).filter((v): v is string => v !== null);
  const products = list.map((u) => u.productId).filter((v): v is string => v !== null);
  const mapped =
    variants.length + products.length === 0
      ? []
      : await ctx
          .db(CHANNEL_SKUS)
          .where('channel_id', channelId)
          .andWhere((q) => {
            if (variants.length) q.orWhereIn('variant_id', variants);
            if (products.length) q.orWhere((p) => p.whereIn('product_id', products).whereNull('variant_id'));
          })
          .select('variant_id', 'product_id');
  const mappedVariants = new Set(
    mapped
      .map((m) => m.variant_id)
      .filter(Boolean)
      .map(String),
  );
  const mappedProducts = new Set(
    mapped.filter((m) => !m.variant_id && m.product_id).map((m) => String(m.product_id)),
  );
  return list
    .filter((u) =>
      u.variantId ? !mappedVariants.has(u.variantId) : !(u.productId && mappedProducts.has(u.productId)),
    )
    .sort((a, b) => b.orders - a.orders || a.sku.localeCompare(b.sku));
}

/** A page of the channel's SKU mappings by our SKU code (`after`: the last code of the page before). */
export async function mappingPage(
  ctx: ChannelContext,
  channelId: number,
  options: { after?: string | null; limit?: number } = {},
): Promise<{ items: SkuMapping[]; nextAfter: string | null }> {
  await getChannel(ctx, channelId);
  const limit = Math.min(options.limit ?? 50, 200);
  const q = ctx
    .db(CHANNEL_SKUS)
    .where('channel_id', channelId)
    .orderBy('sku_code')
    .limit(limit + 1);
  if (options.after) q.where('sku_code', '>', options.after);
  const rows = await q;
  const items = rows.slice(0, limit).map(toMapping);
  return { items, nextAfter: rows.length > limit ? (items.at(-1)?.sku ?? null) : null };
}
