import type { Logger } from 'pino';
import { type Db, dialectOf } from '../db/connection.js';
import { conflict } from '../errors/domain-errors.js';
import { MicroBatcher } from '../queue/micro-batcher.js';
import {
  type Enqueue,
  type InboundDelivery,
  type IntakeResult,
  recordOrder,
  recordOrders,
} from './intake.js';

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
  private readonly batcher: MicroBatcher<InboundDelivery, IntakeResult>;

  constructor(
    private readonly db: Db,
    private readonly enqueue: Enqueue,
    private readonly options: IntakeBatcherOptions = {},
  ) {
    this.batcher = new MicroBatcher(options.maxBatch ?? 100, (group) => this.store(group));
  }

  /** Deliveries with a client-chosen id (and so a fingerprint) being stored now, by channel and id. */
  private readonly inFlight = new Map<string, string>();

  /**
   * Stores a delivery. A delivery whose id the client chose, arriving while another with the same
   * id and a different fingerprint is still being stored here, is refused at once (409): which of
   * the two the id belongs to is not known yet. (Across processes the database's unique key makes
   * the second wait for the first, and it is then answered 200 or 422.)
   */
  async submit(delivery: InboundDelivery): Promise<IntakeResult> {
    const { fingerprint } = delivery;
    if (fingerprint === undefined) return this.batcher.submit(delivery);
    const key = `${delivery.channel}\u0000${delivery.deliveryId}`;
    const running = this.inFlight.get(key);
    if (running !== undefined && running !== fingerprint)
      throw conflict(
        'idempotency_key_in_flight',
        'a request with this Idempotency-Key and a different body is still being processed; nothing was stored',
      );
    if (running !== undefined) return this.batcher.submit(delivery);
    this.inFlight.set(key, fingerprint);
    try {
      return await this.batcher.submit(delivery);
    } finally {
      this.inFlight.delete(key);
    }
  }

  private async store(group: InboundDelivery[]): Promise<(IntakeResult | Error)[]> {
    const oneByOne = () => Promise.all(group.map((d) => recordOrder(this.db, d).catch((err: Error) => err)));
    // The group's customers are looked up together (resolveOrderCustomers), whoever they are.
    const groupable = dialectOf(this.db) === 'mysql' && group.length > 1;
    let results: (IntakeResult | Error)[];
    if (groupable) {
      try {
        results = await recordOrders(this.db, group);
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
    return results;
  }
}
