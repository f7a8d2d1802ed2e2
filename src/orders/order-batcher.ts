import type { Db } from '../db/connection.js';
import { MicroBatcher, type RunningLimit } from '../queue/micro-batcher.js';
import { type ProcessResult, processOrder, processOrders } from './processing.js';

export interface OrderBatcherOptions {
  /** Most orders processed in one transaction. Default 100. */
  maxBatch?: number;
  actor?: string;
}

/**
 * At most four groups at a time; a group still running after a second stops counting
 * (`RunningLimit`). One at a time was best for orders that share credit counters, but cost a hot
 * SKU's webhooks a fifth of their speed: a second group could no longer do its first round trips
 * while the first held the stock row. Four kept both (docs/benchmarks.md, stop 16).
 */
const PROCESSING_LIMIT: RunningLimit = { maxRunning: 4, overdueMs: 1000 };

/**
 * Gathers the orders that workers hand over in the same turn of the event loop and processes them
 * in one transaction (`processOrders`). Each caller still gets its own order's result. If a group
 * fails as a whole, each of its orders is tried on its own, so one bad order never blocks the rest.
 *
 * Only a few groups run at once (`PROCESSING_LIMIT`): without a limit, when the worker fell behind,
 * BullMQ's jobs arrived a few at a time and made many small groups of a few orders each, all
 * running at once and waiting for each other's rows (a trade customer's salesperson and its credit
 * counter, a popular SKU), each paying a whole transaction. Held back until a running group ends,
 * the orders that arrive meanwhile make one larger group instead.
 */
export class OrderBatcher {
  private readonly batcher: MicroBatcher<number, ProcessResult>;

  constructor(db: Db, options: OrderBatcherOptions = {}) {
    const actor = options.actor ?? 'system';
    this.batcher = new MicroBatcher(
      options.maxBatch ?? 100,
      async (orderIds) => {
        try {
          return await processOrders(db, orderIds, actor);
        } catch (err) {
          if (orderIds.length === 1) return [err as Error];
          return Promise.all(orderIds.map((id) => processOrder(db, id, actor).catch((e: Error) => e)));
        }
      },
      undefined,
      PROCESSING_LIMIT,
    );
  }

  submit(orderId: number): Promise<ProcessResult> {
    return this.batcher.submit(orderId);
  }
}
