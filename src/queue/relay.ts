import type { Logger } from 'pino';
import { EVENT_LEASE_MS, leaseEvents } from '../channels/event-store.js';
import { type Conn, type Db, dbTime, dialectOf, type Tx } from '../db/connection.js';
import { withTransaction } from '../db/retry.js';
import { OUTBOX, type OutboxTopic } from '../outbox/outbox.js';

export interface OutboxRow {
  id: number;
  topic: OutboxTopic;
  payload: Record<string, unknown>;
}

/**
 * Handles outbox messages of one topic, inside the relay's transaction `tx`; must be idempotent (a
 * message may be handed over twice if the relay dies before committing).
 */
export type OutboxHandler = (rows: OutboxRow[], tx: Tx) => Promise<AfterCommit | undefined>;

/** Work a handler leaves for after its transaction committed (e.g. queueing a job that reads what it wrote). */
export type AfterCommit = () => Promise<void>;

export interface RelayOptions {
  db: Db;
  log: Logger;
  enqueueOrders: (orderIds: number[]) => Promise<void>;
  /** Queues stored webhook events for applying; without it, the relay leaves events alone. */
  enqueueEvents?: (eventIds: number[]) => Promise<void>;
  handlers?: Partial<Record<OutboxTopic, OutboxHandler>>;
  /** Only `received` orders older than this are re-enqueued, so fresh ones are left to intake. */
  graceMs: number;
  batchSize?: number;
}

/**
 * The stored webhook events the relay re-queues: not applied yet, not parked for a person, older
 * than the grace time and due for another try; oldest first. Reads the `inbound_events_pending`
 * index (processed_at, id), so the applied events — nearly all of the table — are never read.
 */
export function pendingEventsQuery(db: Conn, now: Date, graceMs: number, limit: number) {
  const cutoff = dbTime(new Date(now.getTime() - graceMs));
  return db('inbound_events')
    .select('id')
    .whereNull('processed_at')
    .whereNull('note')
    .whereNotNull('kind')
    .andWhere('received_at', '<=', cutoff)
    .andWhere((q) => q.whereNull('retry_at').orWhere('retry_at', '<=', dbTime(now)))
    .orderBy('id')
    .limit(limit);
}

/**
 * Moves stored work into the queues: orders still `received` (their job was lost because Redis
 * was down or flushed) and unpublished outbox rows. Safe to run in several processes at once:
 * jobs are added under deterministic ids and handlers are idempotent.
 */
const MAX_OUTBOX_BATCHES_PER_TICK = 50;

export class Relay {
  private orderCursor = 0;
  private readonly batchSize: number;

  constructor(private readonly options: RelayOptions) {
    this.batchSize = options.batchSize ?? 500;
  }

  /** One pass of the relays; returns how much each moved. */
  async tick(): Promise<{ orders: number; events: number; outbox: number }> {
    const orders = await this.requeueReceived();
    const events = await this.requeueEvents();
    // Under load the outbox grows by thousands of rows a second: keep publishing full batches
    // (up to a bound, so one tick cannot run forever) rather than one batch per tick.
    let outbox = 0;
    for (let i = 0; i < MAX_OUTBOX_BATCHES_PER_TICK; i++) {
      const n = await this.publishOutbox();
      outbox += n;
      if (n < this.batchSize) break;
    }
    return { orders, events, outbox };
  }

  /**
   * Re-queues stored webhook events that are not applied yet, once their `retry_at` has come: an
   * event queued when it was stored (or by an earlier pass) is left to its job for a lease
   * (EVENT_LEASE_MS), so a long queue is not queued twice; one whose job was lost (Redis down or
   * flushed, a worker killed) is taken up when the lease runs out; one whose applying failed waits
   * for the retry time its failure set. Events parked for a person (a payload that cannot be read)
   * are left alone. Never gives up: an event answered 200 is applied once it can be.
   */
  async requeueEvents(): Promise<number> {
    const { db, enqueueEvents } = this.options;
    if (!enqueueEvents) return 0;
    const rows = await pendingEventsQuery(db, new Date(), this.options.graceMs, this.batchSize);
    const ids = rows.map((r) => Number(r.id));
    if (ids.length > 0) {
      await enqueueEvents(ids);
      // Queued: left to their jobs for a lease, so that a long queue is not queued again.
      await leaseEvents(db, ids, new Date(Date.now() + EVENT_LEASE_MS));
      this.options.log.info({ count: ids.length }, 'relay re-queued stored webhook events');
    }
    return ids.length;
  }

  /** Re-enqueues stored-but-unprocessed orders, walking through them in id order across ticks. */
  async requeueReceived(): Promise<number> {
    const { db } = this.options;
    const cutoff = dbTime(new Date(Date.now() - this.options.graceMs));
    const rows = await db('orders')
      .select('id')
      .where('status', 'received')
      .andWhere('id', '>', this.orderCursor)
      .andWhere('updated_at', '<=', cutoff)
      .orderBy('id')
      .limit(this.batchSize);
    const ids = rows.map((r) => Number(r.id));
    this.orderCursor = ids.length === this.batchSize ? ids[ids.length - 1]! : 0;
    if (ids.length > 0) {
      await this.options.enqueueOrders(ids);
      this.options.log.info({ count: ids.length }, 'relay re-enqueued stored orders');
    }
    return ids.length;
  }

  /** Hands unpublished outbox rows to their topic's handler and marks them published. */
  async publishOutbox(): Promise<number> {
    // Handlers run inside this transaction, so what they write and the rows' published mark commit
    // together. On MySQL several relays may run: each locks the rows it takes and skips the rows
    // others hold.
    let after: AfterCommit[] = [];
    // Marking rows published can deadlock with order transactions inserting outbox rows (index
    // gap locks): the whole transaction is simply tried again.
    const n = await withTransaction(this.options.db, (tx) => {
      after = [];
      return this.publish(tx, dialectOf(tx) === 'mysql', after);
    });
    for (const run of after) {
      try {
        await run();
      } catch (err) {
        // What was committed stays; the sweeps that look for pending work pick it up later.
        this.options.log.warn({ err: (err as Error).message }, 'after-commit work of the outbox failed');
      }
    }
    return n;
  }

  private async publish(conn: Tx, lock: boolean, after: AfterCommit[]): Promise<number> {
    const { handlers = {} } = this.options;
    let q = conn(OUTBOX)
      .whereNull('published_at')
      .orderBy('id')
      .limit(this.batchSize)
      .select('id', 'topic', 'payload');
    // FOR UPDATE without SKIP LOCKED: a second relay (another daemon) waits for the first one's
    // batch to commit instead of publishing the rows after it, so that the messages of one order
    // (and the notifications they make) are handed on in the order they were written.
    if (lock) q = q.forUpdate();
    const rows = (await q).map((r) => ({
      id: Number(r.id),
      topic: r.topic as OutboxTopic,
      payload: JSON.parse(r.payload),
    }));
    if (rows.length === 0) return 0;
    const byTopic = new Map<OutboxTopic, OutboxRow[]>();
    for (const r of rows) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
    for (const [topic, list] of byTopic) {
      const handler = handlers[topic];
      if (!handler) continue;
      const then = await handler(list, conn);
      if (then) after.push(then);
    }
    await conn(OUTBOX)
      .whereIn(
        'id',
        rows.map((r) => r.id),
      )
      .update({ published_at: dbTime() });
    return rows.length;
  }
}

/** Runs `tick` every `intervalMs` until stopped; a failing tick is logged and the loop goes on. */
export function startLoop(
  name: string,
  intervalMs: number,
  tick: () => Promise<unknown>,
  log: Logger,
): { stop(): Promise<void> } {
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const run = () => {
    if (stopped) return;
    running = tick()
      .catch((err) => log.warn({ err: (err as Error).message, loop: name }, 'loop tick failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(run, intervalMs);
      });
  };
  timer = setTimeout(run, intervalMs);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
