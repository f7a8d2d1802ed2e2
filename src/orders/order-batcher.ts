import type { Db } from '../db/connection.js';
import { MicroBatcher } from '../queue/micro-batcher.js';
import { type ProcessResult, processOrder, processOrders } from './processing.js';

export interface OrderBatcherOptions {
  /** Most orders processed in one transaction. Default 100. */
  maxBatch?: number;
  actor?: string;
}

/**
 * Gathers the orders that workers hand over in the same turn of the event loop and processes them
 * in one transaction (`processOrders`). Each caller still gets its own order's result. If a group
 * fails as a whole, each of its orders is tried on its own, so one bad order never blocks the rest.
 */
export class OrderBatcher {
  private readonly batcher: MicroBatcher<number, ProcessResult>;

  constructor(db: Db, options: OrderBatcherOptions = {}) {
    const actor = options.actor ?? 'system';
    this.batcher = new MicroBatcher(options.maxBatch ?? 100, async (orderIds) => {
      try {
        return await processOrders(db, orderIds, actor);
      } catch (err) {
        if (orderIds.length === 1) return [err as Error];
        return Promise.all(orderIds.map((id) => processOrder(db, id, actor).catch((e: Error) => e)));
      }
    });
  }

  submit(orderId: number): Promise<ProcessResult> {
    return this.batcher.submit(orderId);
  }
}
