import type { OrderInput } from '../../src/domain/order-input.js';
import type { ParsedOrder } from './types.js';

/** A valid parsed order in the core's terms, for intake (it satisfies `orderInputSchema`). */
export function toOrderInput(order: ParsedOrder): OrderInput {
  return {
    externalId: order.externalId,
    currency: order.currency,
    customer: { code: order.customerCode, ...(order.customerName ? { name: order.customerName } : {}) },
    lines: order.lines.map((line) => ({ ...line })),
    ...(order.shipping === undefined ? {} : { shipping: order.shipping }),
    ...(order.contract === undefined ? {} : { contract: order.contract }),
    ...(order.promotionCodes ? { promotionCodes: order.promotionCodes } : {}),
  };
}
