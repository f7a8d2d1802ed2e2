import type { Db } from '../db/connection.js';
import { MicroBatcher, type RunningLimit } from '../queue/micro-batcher.js';
import { type ProcessResult, processOrder, processOrders } from './processing.js';

export interface OrderBatcherOptions {
  /** Most orders processed in one transaction. Default 100. */
  maxBatch?: number;
  actor?: string;
}

/** One group at a time; a group still running after a second stops counting (`RunningLimit`). */
const PROCESSING_LIMIT: RunningLimit = { maxRunning: 1, overdueMs: 1000 };

/**
 * Gathers the orders that workers hand over in the same turn of the event loop and processes them
 * in one transaction (`processOrders`). Each caller still gets its own order's result. If a group
 * fails as a whole, each of its orders is tried on its own, so one bad order never blocks the rest.
 *
 * One group runs at a time (`PROCESSING_LIMIT`): groups started side by side in one process share the
 * same rows often enough (a trade customer's salesperson and its credit counter, a popular SKU)
 * that they mostly waited for each other's locks, and when the worker fell behind they broke up
 * into many small groups of a few orders each, each paying a whole transaction. Held back until the
 * running group ends, the orders that arrive meanwhile make one larger group instead.
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
