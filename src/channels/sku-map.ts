import type { NormalizedLine, NormalizedOrder } from '../../connectors/contract.js';
import { type Conn, dbTime, isoTime, type Tx } from '../db/connection.js';
import { codeKey } from '../domain/codes.js';
import type { OrderLineInput, OrderProblem } from '../domain/order-input.js';
import { CHANNEL_SKUS } from './channel-store.js';
import { pendingMark } from './stock-push.js';

/** One of our SKUs and the channel's ids for it. */
export interface SkuMapping {
  sku: string;
  channelSku: string | null;
  productId: string | null;
  variantId: string | null;
  inventoryItemId: string | null;
  /** `auto`: matched by SKU code from an order; `manual`: set by an administrator. */
  source: 'auto' | 'manual';
  updatedAt: string;
}

export function toMapping(r: Record<string, unknown>): SkuMapping {
  return {
    sku: String(r.sku_code),
    channelSku: (r.channel_sku as string | null) ?? null,
    productId: (r.product_id as string | null) ?? null,
    variantId: (r.variant_id as string | null) ?? null,
    inventoryItemId: (r.inventory_item_id as string | null) ?? null,
    source: r.source as 'auto' | 'manual',
    updatedAt: isoTime(r.updated_at as string) as string,
  };
}

/** The pending mark of a (channel, SKU) row being inserted: its first figure goes with the next push. */
export const newPendingMark = (now: string) => ({ push_pending: true, pending_seq: 1, pending_since: now });

export interface MappedLines {
  lines: OrderLineInput[];
  problems: OrderProblem[];
}

const nonEmpty = (values: (string | null | undefined)[]) => [
  ...new Set(values.filter((v): v is string => typeof v === 'string' && v !== '')),
];

/**
 * Turns a channel order's lines into lines of our SKUs. A line is matched, in turn, by the
 * channel's variant id, product id (for a product without variants) or inventory item id against
 * the channel's SKU mappings, then by the SKU code the channel sent, if it is one of ours — which
 * also records that match as an `auto` mapping, so stock pushes know the channel's ids. A line
 * matched by none keeps the channel's code and adds an `unmapped_sku` problem: the order goes on
 * hold and can be replayed once an administrator maps the item.
 */
export async function mapOrderLines(
  tx: Tx,
  channelId: number,
  order: NormalizedOrder,
  now = dbTime(),
): Promise<MappedLines> {
  const [mapped] = await mapOrdersLines(tx, channelId, [order], now);
  return mapped!;
}

/**
 * `mapOrderLines` for several orders of one channel at once: one look-up of the mappings and one of
 * our SKU codes for all of them, and the mappings learned written once.
 */
export async function mapOrdersLines(
  tx: Tx,
  channelId: number,
  orders: readonly NormalizedOrder[],
  now = dbTime(),
): Promise<MappedLines[]> {
  const all = orders.flatMap((o) => o.lines);
  const variantIds = nonEmpty(all.map((l) => l.variantId));
  const productIds = nonEmpty(all.map((l) => l.productId));
  const itemIds = nonEmpty(all.map((l) => l.inventoryItemId));
  const codes = nonEmpty(all.map((l) => l.channelSku));

  const mappings =
    variantIds.length + productIds.length + itemIds.length === 0
      ? []
      : (
          await tx(CHANNEL_SKUS)
            .where('channel_id', channelId)
            .andWhere((q) => {
              if (variantIds.length) q.orWhereIn('variant_id', variantIds);
              if (productIds.length) q.orWhereIn('product_id', productIds);
              if (itemIds.length) q.orWhereIn('inventory_item_id', itemIds);
            })
        ).map(toMapping);
  const byVariant = new Map(mappings.filter((m) => m.variantId).map((m) => [m.variantId!, m.sku]));
  // A product id alone identifies an item only when the mapping names no variant.
  const byProduct = new Map(
    mappings.filter((m) => m.productId && !m.variantId).map((m) => [m.productId!, m.sku]),
  );
  const byItem = new Map(mappings.filter((m) => m.inventoryItemId).map((m) => [m.inventoryItemId!, m.sku]));
  // Our codes in any letter case ("Codes and ids"), each to the spelling it was created with.
  const ours = new Map(
    codes.length === 0
      ? []
      : (await tx('skus').whereIn('code', codes).select('code')).map((r) => [
          codeKey(String(r.code)),
          String(r.code),
        ]),
  );

  const learned = new Map<string, Record<string, unknown>>();
  const results: MappedLines[] = [];
  for (const order of orders) {
    const lines: OrderLineInput[] = [];
    const problems: OrderProblem[] = [];
    for (const [i, l] of order.lines.entries()) {
      const lineNo = i + 1;
      let sku =
        (l.variantId ? byVariant.get(l.variantId) : undefined) ??
        (l.productId && !l.variantId ? byProduct.get(l.productId) : undefined) ??
        (l.inventoryItemId ? byItem.get(l.inventoryItemId) : undefined);
      const ourCode = !sku && l.channelSku !== null ? ours.get(codeKey(l.channelSku)) : undefined;
      const byCode = ourCode !== undefined;
      if (byCode) sku = ourCode;
      // Remember the channel's ids for the SKU: as a new automatic mapping when it matched by code,
      // or to complete an automatic mapping that lacks one the line carries.
      const known = sku ? mappings.find((m) => m.sku === sku) : undefined;
      const completes =
        known?.source === 'auto' &&
        ((l.inventoryItemId && !known.inventoryItemId) ||
          (l.variantId && !known.variantId) ||
          (l.productId && !known.productId));
      if (sku && (byCode || completes) && (l.productId || l.variantId || l.inventoryItemId)) {
        learned.set(sku, {
          channel_id: channelId,
          sku_code: sku,
          channel_sku: l.channelSku,
          product_id: l.productId ?? null,
          variant_id: l.variantId ?? null,
          inventory_item_id: l.inventoryItemId ?? null,
          source: 'auto',
          created_at: now,
          updated_at: now,
          ...newPendingMark(now),
        });
      }
      if (!sku) {
        const item = l.variantId ?? l.productId ?? l.inventoryItemId;
        sku = (l.channelSku ?? `unmapped:${item ?? `line-${lineNo}`}`).slice(0, 191);
        problems.push({
          code: 'unmapped_sku',
          message:
            `line ${lineNo}: the channel's item ${l.channelSku ? `with SKU "${l.channelSku}" ` : ''}` +
            `(product ${l.productId ?? '-'}, variant ${l.variantId ?? '-'}) is not mapped to one of our SKUs`,
          lineNo,
          sku,
        });
      }
      lines.push({ sku, quantity: l.quantity, unitPrice: l.unitPrice, ...lineMoneyOf(l) });
    }
    results.push({ lines, problems });
  }
  if (learned.size > 0) {
    // An existing mapping of the SKU (manual above all) is kept as it is...
    await tx(CHANNEL_SKUS)
      .insert([...learned.values()])
      .onConflict(['channel_id', 'sku_code'])
      .ignore();
    // ...except that an automatic one learns the ids it lacked (a Shopify webhook names the
    // variant, a pull also the inventory item that stock pushes need). An id learned changes where
    // a push goes (or lets one go at all): the SKU is sent its figure with the next push.
    for (const m of learned.values()) {
      const fill: Record<string, unknown> = {};
      const lacking: string[] = [];
      for (const column of ['product_id', 'variant_id', 'inventory_item_id'] as const) {
        if (m[column] === null) continue;
        fill[column] = tx.raw('COALESCE(??, ?)', [column, m[column] as string]);
        lacking.push(column);
      }
      if (lacking.length === 0) continue;
      await tx(CHANNEL_SKUS)
        .where({ channel_id: channelId, sku_code: m.sku_code, source: 'auto' })
        .andWhere((q) => {
          for (const column of lacking) q.orWhereNull(column);
        })
        .update({ ...fill, ...pendingMark(tx, now, true) });
    }
  }
  return results;
}

export async function listMappings(db: Conn, channelId: number): Promise<SkuMapping[]> {
  const rows = await db(CHANNEL_SKUS).where('channel_id', channelId).orderBy('sku_code');
  return rows.map(toMapping);
}

/** What the channel says about a line's money, as it says it. */
function lineMoneyOf(l: NormalizedLine): Pick<OrderLineInput, 'discount' | 'tax'> {
  return {
    ...(l.discount === undefined ? {} : { discount: l.discount }),
    ...(l.tax === undefined ? {} : { tax: l.tax }),
  };
}
