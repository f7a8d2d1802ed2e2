import { codeKey } from './codes.js';

/** Shopify's restock types (see `RefundRestockType` in the connector contract); null: not said. */
export type RestockType = 'return' | 'cancel' | 'no_restock' | 'legacy_restock' | null;

/** A refund of a channel, its lines mapped to our SKUs. */
export interface ChannelRefund {
  /** The channel's refund id: the return's reference. */
  reference: string;
  lines: readonly { sku: string; quantity: number; restockType: RestockType }[];
}

/** What one of our order lines holds (see `LineRow`). */
export interface ReturnableLine {
  sku: string;
  ordered: number;
  shipped: number;
  returned: number;
}

export interface ChannelReturnPlan {
  reference: string;
  /** Units per SKU, each restocked or written off. */
  lines: { sku: string; quantity: number; restock: boolean }[];
}

export interface ChannelReturnOptions {
  /** References already recorded as returns of the order: seen again, they change nothing. */
  recorded: ReadonlySet<string>;
  /**
   * Units per SKU (by `codeKey`) the channel's order still holds after its refunds (Shopify's
   * `current_quantity`), when the payload is the whole order; null when it is a refund alone.
   */
  channelCurrent: ReadonlyMap<string, number> | null;
  /** Whether units refunded without a restock type go back on hand (the channel's setting). */
  restockUnsaid: boolean;
}

/**
 * Which units of a channel's refunds come back as returns: the units of each refund that we
 * shipped. A refund line marked `cancel` is of unfulfilled units (the order's amendment takes them
 * off, as before); a refund of money only makes no return; a refund recorded before makes none
 * again. Per SKU, a refund takes at most what shipped and has not come back yet, and — when the
 * payload is the whole order — at most the units our lines still hold beyond what the channel's
 * order still holds and that have not come back: units the amendment already took off our lines
 * (refunded before they shipped) are never a return later, however often the refund is seen.
 * Restocked: `return` and `legacy_restock`; not: `no_restock`; unsaid: the channel's setting.
 * Refunds are taken in the order given (oldest first).
 */
export function planChannelReturns(
  refunds: readonly ChannelRefund[],
  lines: readonly ReturnableLine[],
  options: ChannelReturnOptions,
): ChannelReturnPlan[] {
  const bySku = new Map<string, { sku: string; ordered: number; shipped: number; returned: number }>();
  for (const l of lines) {
    const k = codeKey(l.sku);
    const t = bySku.get(k) ?? { sku: l.sku, ordered: 0, shipped: 0, returned: 0 };
    t.ordered += l.ordered;
    t.shipped += l.shipped;
    t.returned += l.returned;
    bySku.set(k, t);
  }
  const room = (k: string): number => {
    const t = bySku.get(k);
    if (!t) return 0;
    const unreturned = t.shipped - t.returned;
    if (!options.channelCurrent) return Math.max(0, unreturned);
    const refundedOnOurs = t.ordered - (options.channelCurrent.get(k) ?? 0) - t.returned;
    return Math.max(0, Math.min(unreturned, refundedOnOurs));
  };
  const plans: ChannelReturnPlan[] = [];
  const seen = new Set(options.recorded);
  for (const refund of refunds) {
    if (seen.has(refund.reference)) continue;
    seen.add(refund.reference);
    const taken = new Map<string, { sku: string; quantity: number; restock: boolean }>();
    for (const line of refund.lines) {
      if (line.restockType === 'cancel' || !Number.isInteger(line.quantity) || line.quantity <= 0) continue;
      const k = codeKey(line.sku);
      const quantity = Math.min(line.quantity, room(k));
      if (quantity <= 0) continue;
      const restock =
        line.restockType === null
          ? options.restockUnsaid
          : line.restockType === 'return' || line.restockType === 'legacy_restock';
      (bySku.get(k) as { returned: number }).returned += quantity;
      const key = `${k}\u0000${restock}`;
      const t = taken.get(key) ?? { sku: bySku.get(k)!.sku, quantity: 0, restock };
      t.quantity += quantity;
      taken.set(key, t);
    }
    if (taken.size > 0) plans.push({ reference: refund.reference, lines: [...taken.values()] });
  }
  return plans;
}
