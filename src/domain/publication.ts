/** How much of a SKU's stock one channel is told about. */
export interface PublicationRule {
  /** Units held back from what the channel is told. Default 0. */
  safetyStock: number;
  /** Share of the rest offered on this channel, 0–100. Default 100. */
  allocationPercent: number;
  /** Never publish more than this; null: no cap. */
  maxQuantity: number | null;
}

export const DEFAULT_RULE: PublicationRule = { safetyStock: 0, allocationPercent: 100, maxQuantity: null };

/**
 * The rule for one (channel, SKU): the SKU's own settings win over the channel's, field by field.
 */
export function effectiveRule(
  channel: Partial<PublicationRule> | null,
  sku: Partial<PublicationRule> | null,
): PublicationRule {
  const pick = <K extends keyof PublicationRule>(k: K): PublicationRule[K] => {
    const s = sku?.[k];
    if (s !== undefined && s !== null) return s as PublicationRule[K];
    const c = channel?.[k];
    if (c !== undefined && c !== null) return c as PublicationRule[K];
    return DEFAULT_RULE[k];
  };
  return {
    safetyStock: pick('safetyStock'),
    allocationPercent: pick('allocationPercent'),
    maxQuantity: pick('maxQuantity'),
  };
}

/**
 * `max(0, floor((sum over the feeding warehouses of on_hand - reserved - safety stock) * allocation %))`,
 * capped by the maximum. Integer arithmetic only: the percentage is applied as `x * p / 100` rounded
 * down, so 33 % of 10 is 3, never 3.3000000000000003 or 2.
 */
export function publishedQuantity(
  warehouses: readonly { onHand: number; reserved: number }[],
  rule: PublicationRule,
): number {
  const available = warehouses.reduce((n, w) => n + (w.onHand - w.reserved), 0);
  const afterSafety = available - rule.safetyStock;
  if (afterSafety <= 0) return 0;
  const percent = Math.min(100, Math.max(0, Math.trunc(rule.allocationPercent)));
  const share = Math.floor((afterSafety * percent) / 100);
  return rule.maxQuantity === null ? share : Math.min(share, Math.max(0, rule.maxQuantity));
}

/** The channel's ids for the item one of our SKUs is sold as (null: not known). */
export interface ChannelItemIds {
  productId: string | null;
  variantId: string | null;
  inventoryItemId: string | null;
}

/**
 * Whether a SKU's mapping now names another channel item than before: the figure last published
 * went to the old item, so the new one must be sent its figure even when the two are equal.
 */
export function channelItemChanged(before: ChannelItemIds, after: ChannelItemIds): boolean {
  return (
    before.productId !== after.productId ||
    before.variantId !== after.variantId ||
    before.inventoryItemId !== after.inventoryItemId
  );
}
