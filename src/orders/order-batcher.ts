import type { Db } from '../db/connection.js';
import { type ProcessResult, processOrder, processOrders } from './processing.js';

interface Waiting {
  orderId: number;
  resolve: (r: ProcessResult) => void;
  reject: (err: unknown) => void;
}

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
  private waiting: Waiting[] = [];
  private scheduled = false;
  private readonly maxBatch: number;
  private readonly actor: string;

  constructor(
    private readonly db: Db,
    options: OrderBatcherOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 100;
    this.actor = options.actor ?? 'system';
  }

  submit(orderId: number): Promise<ProcessResult> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ orderId, resolve, reject });
      if (this.waiting.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.waiting.length > 0) {
      const group = this.waiting.splice(0, this.maxBatch);
      void this.run(group);
    }
  }

  private async run(group: Waiting[]): Promise<void> {
    try {
      const results = await processOrders(
        this.db,
        group.map((w) => w.orderId),
        this.actor,
      );
      group.forEach((w, i) => {
        w.resolve(results[i]!);
      });
    } catch (err) {
      if (group.length === 1) {
        group[0]!.reject(err);
        return;
      }
      await Promise.all(
        group.map((w) => processOrder(this.db, w.orderId, this.actor).then(w.resolve, w.reject)),
      );
    }
  }
}
