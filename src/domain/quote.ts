import { holdReason, type OrderProblem } from './order-input.js';
import { fulfilmentStatus, type LineQuantities, type OrderStatus } from './order-status.js';

/**
 * What a quote says processing would make of an order, from the problems each of processing's
 * steps found (in processing's order: customer and lines, prices, order rules) and the quantities
 * the lines would reserve. Processing holds at the first step with a problem, with that step's
 * reason; the quote lists the problems of every step.
 */
export function quoteOutcome(
  steps: readonly (readonly OrderProblem[])[],
  lines: readonly LineQuantities[],
): { status: OrderStatus; holdReason: string | null; problems: OrderProblem[] } {
  const holding = steps.find((p) => p.length > 0);
  return {
    status: holding ? 'on_hold' : fulfilmentStatus(lines),
    holdReason: holding ? holdReason(holding) : null,
    problems: steps.flat(),
  };
}
