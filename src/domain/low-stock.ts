/**
 * Low-stock alerts fire once when available stock crosses below the reorder point and re-arm when
 * it rises to or above it again. `alerted` is the state kept per SKU (and warehouse, if the reorder
 * point is set per warehouse).
 */
export interface LowStockDecision {
  /** Raise one alert now. */
  raise: boolean;
  /** The state to keep. */
  alerted: boolean;
}

export function lowStockDecision(
  alerted: boolean,
  available: number,
  reorderPoint: number | null,
): LowStockDecision {
  if (reorderPoint === null) return { raise: false, alerted: false };
  const low = available < reorderPoint;
  if (low && !alerted) return { raise: true, alerted: true };
  if (!low && alerted) return { raise: false, alerted: false };
  return { raise: false, alerted };
}
