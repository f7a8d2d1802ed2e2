import { z } from 'zod';

const MAX_MINOR = Number.MAX_SAFE_INTEGER;

export const currencySchema = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR');

const orderLineInputSchema = z.object({
  sku: z.string().trim().min(1, 'must not be empty').max(191),
  quantity: z.number().int('must be a whole number').positive('must be at least 1').max(1_000_000),
  /** Minor units (cents). */
  unitPrice: z.number().int('must be integer minor units').min(0).max(MAX_MINOR),
});

export const customerInputSchema = z.object({
  code: z.string().trim().min(1).max(64).optional(),
  name: z.string().trim().max(255).optional(),
  email: z.email().max(255).optional(),
});

/** An order as the core understands it, from any channel. */
export const orderInputSchema = z.object({
  externalId: z.string().trim().min(1, 'must not be empty').max(191),
  currency: currencySchema,
  placedAt: z.iso.datetime({ offset: true }).optional(),
  customer: customerInputSchema.optional(),
  lines: z.array(orderLineInputSchema).min(1, 'an order needs at least one line').max(1000),
});

export type OrderLineInput = z.infer<typeof orderLineInputSchema>;
export type CustomerInput = z.infer<typeof customerInputSchema>;
export type OrderInput = z.infer<typeof orderInputSchema>;

/** Something wrong with an order that a person has to look at. */
export interface OrderProblem {
  /** Machine-readable, e.g. `unknown_sku`, `invalid_quantity`, `unmapped_sku`. */
  code: string;
  message: string;
  lineNo?: number;
  sku?: string;
}

/**
 * An order a channel sent, normalised as far as it could be. Unlike `OrderInput` it may carry
 * problems (a malformed line, an unmapped product): such an order is still stored, and goes on
 * hold with those problems instead of being lost.
 */
export interface CanonicalOrder extends OrderInput {
  problems?: OrderProblem[];
}

/** The reason an order is held for, given its problems: the first problem's code. */
export function holdReason(problems: readonly OrderProblem[]): string {
  return problems[0]?.code ?? 'invalid_order';
}

/**
 * Checks an order's lines against the SKUs we know, before any stock is touched. Pure: returns
 * every problem found, empty when the order can be reserved.
 */
export function validateForReservation(
  lines: readonly { lineNo: number; sku: string; ordered: number }[],
  knownSkus: ReadonlySet<string>,
): OrderProblem[] {
  const problems: OrderProblem[] = [];
  if (lines.length === 0) problems.push({ code: 'no_lines', message: 'the order has no lines' });
  for (const line of lines) {
    if (!Number.isInteger(line.ordered) || line.ordered <= 0) {
      problems.push({
        code: 'invalid_quantity',
        message: `line ${line.lineNo}: quantity must be at least 1`,
        lineNo: line.lineNo,
        sku: line.sku,
      });
    }
    if (!knownSkus.has(line.sku)) {
      problems.push({
        code: 'unknown_sku',
        message: `line ${line.lineNo}: unknown SKU ${line.sku}`,
        lineNo: line.lineNo,
        sku: line.sku,
      });
    }
  }
  return problems;
}

export function orderTotal(lines: readonly { quantity: number; unitPrice: number }[]): number {
  return lines.reduce((sum, l) => sum + l.quantity * l.unitPrice, 0);
}
