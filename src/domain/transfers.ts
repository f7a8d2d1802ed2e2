import { codeKey } from './codes.js';

/** A transfer line as a receipt sees it (locked). */
export interface TransferLineState {
  skuId: number;
  sku: string;
  sent: number;
  received: number;
}

export interface ReceiptPlan {
  /** What moves from in transit into the receiving warehouse, per line. */
  take: { skuId: number; sku: string; quantity: number }[];
  /** SKUs asked for that the transfer does not have. */
  unknown: string[];
  /** Lines asked for beyond what is in transit. */
  over: { sku: string; sent: number; received: number; inTransit: number; quantity: number }[];
}

/**
 * What a receipt of a transfer takes: the quantities asked for (codes compare case-insensitively;
 * the same SKU twice adds up), or with none asked for everything still in transit. Never more than
 * is in transit (`sent - received`) on a line: such lines are reported in `over`. Pure.
 */
export function planTransferReceipt(
  lines: readonly TransferLineState[],
  requested: readonly { sku: string; quantity: number }[] | null,
): ReceiptPlan {
  const plan: ReceiptPlan = { take: [], unknown: [], over: [] };
  if (requested === null) {
    for (const l of lines)
      if (l.sent > l.received) plan.take.push({ skuId: l.skuId, sku: l.sku, quantity: l.sent - l.received });
    return plan;
  }
  const asked = new Map<string, { sku: string; quantity: number }>();
  for (const r of requested) {
    const k = codeKey(r.sku);
    const a = asked.get(k) ?? { sku: r.sku, quantity: 0 };
    a.quantity += r.quantity;
    asked.set(k, a);
  }
  const byKey = new Map(lines.map((l) => [codeKey(l.sku), l]));
  for (const [k, a] of asked) {
    const l = byKey.get(k);
    if (!l) {
      plan.unknown.push(a.sku);
      continue;
    }
    const inTransit = l.sent - l.received;
    if (a.quantity > inTransit)
      plan.over.push({ sku: l.sku, sent: l.sent, received: l.received, inTransit, quantity: a.quantity });
    else if (a.quantity > 0) plan.take.push({ skuId: l.skuId, sku: l.sku, quantity: a.quantity });
  }
  return plan;
}
