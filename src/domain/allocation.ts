/** One warehouse's stock of one SKU, as seen under lock. */
export interface WarehouseStock {
  warehouseId: number;
  /** Lower comes first. */
  priority: number;
  /** Tie-breaker so that the same stock always allocates the same way. */
  code: string;
  onHand: number;
  reserved: number;
}

export interface Allocation {
  warehouseId: number;
  quantity: number;
}

export interface AllocationResult {
  allocations: Allocation[];
  reserved: number;
  backordered: number;
}

/** Warehouses in the order allocation visits them: priority, then code. */
export function byPriority<T extends Pick<WarehouseStock, 'priority' | 'code'>>(rows: readonly T[]): T[] {
  return [...rows].sort(
    (a, b) => a.priority - b.priority || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0),
  );
}

/**
 * Takes `quantity` units from the warehouses in priority order, each giving what it has available,
 * and reports what could not be had as backordered. Pure: the caller applies the result.
 */
export function allocate(quantity: number, stock: readonly WarehouseStock[]): AllocationResult {
  if (!Number.isInteger(quantity) || quantity < 0)
    throw new RangeError(`quantity must be a whole number >= 0, got ${quantity}`);
  const allocations: Allocation[] = [];
  let remaining = quantity;
  for (const w of byPriority(stock)) {
    if (remaining === 0) break;
    const available = Math.max(0, w.onHand - w.reserved);
    const take = Math.min(available, remaining);
    if (take > 0) {
      allocations.push({ warehouseId: w.warehouseId, quantity: take });
      remaining -= take;
    }
  }
  return { allocations, reserved: quantity - remaining, backordered: remaining };
}

/**
 * Allocates several requests against one pool of stock, in the order given, so that two lines of
 * the same SKU (or backorders of several orders) share what there is. Returns a result per request
 * and leaves the pool updated.
 */
export function allocateInTurn(
  requests: readonly { skuId: number; quantity: number }[],
  pool: Map<number, WarehouseStock[]>,
): AllocationResult[] {
  return requests.map(({ skuId, quantity }) => {
    const stock = pool.get(skuId) ?? [];
    const result = allocate(quantity, stock);
    for (const a of result.allocations) {
      const row = stock.find((s) => s.warehouseId === a.warehouseId);
      if (row) row.reserved += a.quantity;
    }
    return result;
  });
}
