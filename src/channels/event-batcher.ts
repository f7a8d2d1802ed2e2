import type { Logger } from 'pino';
import type { Db } from '../db/connection.js';
import { MicroBatcher } from '../queue/micro-batcher.js';
import { type EventToStore, leaseEvents, type StoredEvent, storeEvents } from './event-store.js';

/** Queues the applying of stored events; may fail (Redis down) without losing anything. */
export type EnqueueEvents = (eventIds: number[]) => Promise<void>;

/**
 * Webhook intake at the speed of the database: the deliveries that arrive in the same turn of the
 * event loop are stored together in one statement and one commit, each caller is answered after
 * that commit, and the events still to apply are queued in one call. If the queue is unreachable
 * the events are safe in the database and the event relay queues them later.
 */
export class EventBatcher {
  private readonly batcher: MicroBatcher<EventToStore, StoredEvent>;

  constructor(
    private readonly db: Db,
    private readonly enqueue: EnqueueEvents | undefined,
    private readonly log: Logger,
    maxBatch = 200,
  ) {
    this.batcher = new MicroBatcher(maxBatch, (group) => this.store(group));
  }

  submit(event: EventToStore): Promise<StoredEvent> {
    return this.batcher.submit(event);
  }

  private async store(group: EventToStore[]): Promise<(StoredEvent | Error)[]> {
    const stored = await storeEvents(this.db, group);
    const toApply = [...new Set(stored.filter((s) => !s.applied).map((s) => s.eventId))];
    // The deliveries are answered now, after the commit; queueing them need not hold the answer up.
    if (toApply.length > 0 && this.enqueue) {
      this.enqueue(toApply).catch((err: Error) => {
        this.log.warn(
          { count: toApply.length, err: err.message },
          'events stored but not queued; the event relay will queue them',
        );
        // Not queued after all: the relay need not wait out the lease they were stored with.
        return leaseEvents(this.db, toApply, null).catch(() => {});
      });
    }
    return stored;
  }
}
