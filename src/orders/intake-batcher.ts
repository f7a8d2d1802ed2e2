import type { Logger } from 'pino';
import { type Db, dialectOf } from '../db/connection.js';
import {
  type Enqueue,
  type InboundDelivery,
  type IntakeResult,
  recordOrder,
  recordOrders,
} from './intake.js';

interface Waiting {
  delivery: InboundDelivery;
  resolve: (r: IntakeResult) => void;
  reject: (err: unknown) => void;
}

export interface IntakeBatcherOptions {
  /** Most orders stored in one transaction. Default 100. */
  maxBatch?: number;
  log?: Logger;
}

/**
 * Durable intake for many requests at once: the orders that arrive in the same turn of the event
 * loop are stored in one transaction (one commit for all of them), each caller is answered after
 * that commit, and their processing jobs are queued in one call. A group that fails (a duplicate
 * among them, say) is stored again one by one, so every caller gets exactly its own answer. If
 * the queue is unreachable the orders are safe in the database and the relay queues them later.
 */
export class IntakeBatcher {
  private waiting: Waiting[] = [];
  private scheduled = false;
  private readonly maxBatch: number;

  constructor(
    private readonly db: Db,
    private readonly enqueue: Enqueue,
    private readonly options: IntakeBatcherOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 100;
  }

  submit(delivery: InboundDelivery): Promise<IntakeResult> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ delivery, resolve, reject });
      if (this.waiting.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.waiting.length > 0) void this.run(this.waiting.splice(0, this.maxBatch));
  }

  private async run(group: Waiting[]): Promise<void> {
    const oneByOne = () =>
      Promise.all(group.map((w) => recordOrder(this.db, w.delivery).catch((err: Error) => err)));
    // Customers known only by e-mail or name need a look-up per order: those take the single path.
    const groupable =
      dialectOf(this.db) === 'mysql' &&
      group.length > 1 &&
      group.every((w) => !w.delivery.order.customer || w.delivery.order.customer.code);
    let results: (IntakeResult | Error)[];
    if (groupable) {
      try {
        results = await recordOrders(
          this.db,
          group.map((w) => w.delivery),
        );
      } catch {
        results = await oneByOne();
      }
    } else {
      results = await oneByOne();
    }
    const created = results
      .filter((r): r is IntakeResult => !(r instanceof Error) && r.created)
      .map((r) => r.orderId);
    if (created.length > 0) {
      try {
        await this.enqueue(created);
      } catch (err) {
        this.options.log?.warn(
          { count: created.length, err: (err as Error).message },
          'orders stored but not queued; the relay will queue them',
        );
      }
    }
    group.forEach((w, i) => {
      const r = results[i]!;
      if (r instanceof Error) w.reject(r);
      else w.resolve(r);
    });
  }
}
