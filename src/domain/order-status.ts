export const ORDER_STATUSES = [
  'received',
  'confirmed',
  'backordered',
  'on_hold',
  'rejected',
  'partially_shipped',
  'shipped',
  'delivered',
  'completed',
  'cancelled',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  received: ['confirmed', 'backordered', 'on_hold', 'rejected', 'cancelled'],
  on_hold: ['received', 'rejected', 'cancelled'],
  confirmed: ['backordered', 'partially_shipped', 'shipped', 'cancelled'],
  backordered: ['confirmed', 'partially_shipped', 'shipped', 'cancelled'],
  partially_shipped: ['shipped', 'cancelled'],
  shipped: ['delivered', 'completed'],
  delivered: ['completed'],
  completed: [],
  rejected: [],
  cancelled: [],
};

/** Orders that still hold or wait for stock and can be cancelled. */
export const OPEN_STATUSES: readonly OrderStatus[] = [
  'received',
  'on_hold',
  'confirmed',
  'backordered',
  'partially_shipped',
];

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The quantities of one order line; `reserved + backordered + shipped + cancelled = ordered`. */
export interface LineQuantities {
  ordered: number;
  reserved: number;
  backordered: number;
  shipped: number;
  cancelled: number;
}

/**
 * The status an order that has been through reservation should have, read off its lines:
 * nothing open -> shipped (or cancelled when nothing shipped); something shipped ->
 * partially_shipped; something waiting -> backordered; otherwise confirmed.
 */
export function fulfilmentStatus(lines: readonly LineQuantities[]): OrderStatus {
  let open = 0;
  let shipped = 0;
  let backordered = 0;
  for (const l of lines) {
    open += l.reserved + l.backordered;
    shipped += l.shipped;
    backordered += l.backordered;
  }
  if (open === 0) return shipped > 0 ? 'shipped' : 'cancelled';
  if (shipped > 0) return 'partially_shipped';
  return backordered > 0 ? 'backordered' : 'confirmed';
}
